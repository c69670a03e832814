"""
Benchmark peer: the original Python service's design, kept small. FastAPI + uvicorn + onnxruntime,
the same POST /embed API, the request's chunks cut in arrival order into fixed batches of 32, each
padded to its longest member, tokenizer truncation at 256 word pieces, mean pooling + L2 norm in
numpy, ONNX Runtime's default session options (its own thread count).

Run: MODEL_DIR=models/all-MiniLM-L6-v2 .venv/bin/python server.py --port 8001
"""
import argparse
import os

import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from tokenizers import Tokenizer

BATCH_SIZE = 32
MAX_SEQ_LENGTH = 256
MODEL_DIR = os.environ.get("MODEL_DIR", "models/all-MiniLM-L6-v2")

tokenizer = Tokenizer.from_file(os.path.join(MODEL_DIR, "tokenizer.json"))
tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in each batch
session = ort.InferenceSession(os.path.join(MODEL_DIR, "model.onnx"), providers=["CPUExecutionProvider"])

app = FastAPI()


class Chunk(BaseModel):
    chunk_id: str
    content: str


class EmbedRequest(BaseModel):
    batch_id: str
    chunks: list[Chunk]


def embed_batch(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encodings = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    m = mask[:, :, None].astype(np.float32)
    pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None), mask.sum(axis=1)


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/embed")
def embed(request: EmbedRequest):
    texts = [c.content for c in request.chunks]
    out = []
    for start in range(0, len(texts), BATCH_SIZE):
        vectors, tokens = embed_batch(texts[start : start + BATCH_SIZE])
        for i, vector in enumerate(vectors):
            chunk = request.chunks[start + i]
            out.append({"chunk_id": chunk.chunk_id, "vector": vector.tolist(), "tokens": int(tokens[i])})
    return {"batch_id": request.batch_id, "vectors": out}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
