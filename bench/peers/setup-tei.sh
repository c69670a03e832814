#!/usr/bin/env bash
# Optional benchmark peer: text-embeddings-inference (TEI) 1.9.3, CPU, onnxruntime ("ort") backend, built from
# its source. Slow (a cold build takes 30-40 minutes on 2 cores), so it is a separate step from
# `npm run bench:peers:setup` and nothing in the test command needs it. Run as `npm run bench:peers:setup:tei`.
#
# Result: bench/peers/tei/bin/text-embeddings-router and an onnxruntime shared library for it in
# bench/peers/tei/venv-ort (PyPI onnxruntime==1.22.1: the ort crate TEI pins speaks ONNX Runtime C API 22).
# bench/measure/peers.ts finds both there (or TEI_BIN / TEI_ORT_DYLIB). bench/peers/tei/ is gitignored.
#
# Sources (nothing is downloaded at build time apart from crates.io):
#   TEI_SRC     git repository of huggingface/text-embeddings-inference (default: clone from GitHub)
#   CANDLE_SRC  git repository of huggingface/candle (TEI's [patch.crates-io] pins it to a git rev)
#   TEI_WORK    where the sources are checked out and cargo builds (default bench/peers/tei/build)
# The edits below replace everything in TEI's build that fetches from outside crates.io (git dependencies,
# ONNX Runtime and MKL downloads) and bound the build on a small machine; docs: /work/shared/peers-setup.md's
# recipe, repeated in bench/README.md.
set -euo pipefail

TEI_REV=0d124dc9773be6ac5a9a57d8439aba9bbbf33273  # version 1.9.3: main 18 commits after the v1.9.3 tag (the one measured in issue 16)
CANDLE_REV=6381023982251959a2c9bab7378b3013304e192b
ORT_VERSION=1.22.1

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/tei"
WORK="${TEI_WORK:-$OUT/build}"
TEI_SRC="${TEI_SRC:-https://github.com/huggingface/text-embeddings-inference}"
CANDLE_SRC="${CANDLE_SRC:-https://github.com/huggingface/candle}"
mkdir -p "$OUT/bin" "$WORK"

command -v cargo >/dev/null || { echo "setup-tei: cargo not found; install a stable Rust toolchain (https://rustup.rs)" >&2; exit 1; }

checkout() { # repo rev dir
  if [ ! -d "$3/.git" ]; then git clone --quiet "$1" "$3"; fi
  git -C "$3" checkout --quiet --force "$2"
  git -C "$3" clean --quiet -fdx -e target
}
checkout "$TEI_SRC" "$TEI_REV" "$WORK/tei"
checkout "$CANDLE_SRC" "$CANDLE_REV" "$WORK/candle-rev"

cd "$WORK/tei"
# Pinned toolchain 1.92.0 would need a download; any recent stable builds it.
rm -f rust-toolchain.toml
python3 - "$WORK/candle-rev" <<'PY'
import re, sys, pathlib
candle = sys.argv[1]
def edit(path, fn):
    p = pathlib.Path(path); s = p.read_text(); t = fn(s)
    if t == s: sys.exit(f"setup-tei: nothing to edit in {path}; has TEI's layout changed?")
    p.write_text(t)
# [patch.crates-io]: no git cudarc (CUDA only); candle crates from the local checkout of the pinned rev.
def patch(s):
    s = re.sub(r'^cudarc = \{ git = .*\n', '', s, flags=re.M)
    for name, pkg in [("candle", "candle-core"), ("candle-nn", "candle-nn"),
                      ("candle-transformers", "candle-transformers"), ("candle-flash-attn", "candle-flash-attn")]:
        s = re.sub(rf'^{name} = \{{ git = .*\n', f'{name} = {{ path = "{candle}/{pkg}", package = "{pkg}" }}\n', s, flags=re.M)
    return s
edit("Cargo.toml", patch)
insta = lambda s: re.sub(r'insta = \{ git = [^}]*\}', 'insta = { version = "1", features = ["yaml"] }', s)
edit("router/Cargo.toml", insta)
edit("backends/candle/Cargo.toml", insta)
# crates.io cudarc has no static-linking / dynamic-linking features.
edit("router/Cargo.toml", lambda s: s.replace('"cudarc?/static-linking", ', '').replace('"cudarc?/dynamic-linking", ', ''))
# ONNX Runtime is loaded at run time from ORT_DYLIB_PATH instead of downloaded at build time.
edit("backends/ort/Cargo.toml", lambda s: s.replace('features = ["std", "download-binaries", "half", "onednn", "ndarray"]',
                                                    'features = ["std", "load-dynamic", "half", "ndarray"]'))
# Cargo re-resolves the git packages from the paths and versions above.
def lock(s):
    blocks = s.split("\n[[package]]\n")
    return "\n[[package]]\n".join(b for b in blocks if 'source = "git+' not in b)
edit("Cargo.lock", lock)
PY

# Thin LTO and 16 codegen units instead of fat LTO and 1: the build fits in about half an hour on 2 cores.
# No mkl (downloads MKL), no grpc (needs protoc): the ort backend and the HTTP router are all the bench uses.
start=$(date +%s)
CARGO_TARGET_DIR="$WORK/target" CARGO_PROFILE_RELEASE_LTO=thin CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  cargo build --release --bin text-embeddings-router -p text-embeddings-router \
  --no-default-features --features ort,candle,http
cp "$WORK/target/release/text-embeddings-router" "$OUT/bin/"
echo "setup-tei: built in $(( $(date +%s) - start )) s -> $OUT/bin/text-embeddings-router"

if [ ! -x "$OUT/venv-ort/bin/python" ]; then python3 -m venv "$OUT/venv-ort"; fi
"$OUT/venv-ort/bin/pip" install --quiet "onnxruntime==$ORT_VERSION"
ls "$OUT"/venv-ort/lib/python3.*/site-packages/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION
