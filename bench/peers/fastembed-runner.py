"""
Benchmark peer: fastembed, in process (a library: no HTTP, no JSON between the caller and the model, so it pays no
client overhead). bench/measure/systems.ts starts it once per run and sends it one JSON command per stdin line;
it answers each with one JSON line on stdout.

  venv-fastembed/bin/python fastembed-runner.py '{"model_dir": "...", "threads": null, "batch_size": 256, "parallel": null}'

Commands: {"cmd": "corpus", "texts": [...]} embeds the texts in one `embed` call and answers {"seconds", "cpu_s"};
{"cmd": "lone", "text": "...", "n": 200} embeds one text n times, one call each, and answers {"ms": [...]};
{"cmd": "vectors", "texts": [...]} answers {"vectors": [[...], ...]}.
"""
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from fastembed import TextEmbedding  # noqa: E402

def main():
    options = json.loads(sys.argv[1])
    model = TextEmbedding(
        "sentence-transformers/all-MiniLM-L6-v2",
        specific_model_path=options["model_dir"],
        threads=options.get("threads"),
    )
    batch_size = options.get("batch_size") or 256
    parallel = options.get("parallel")

    def embed(texts):
        return list(model.embed(texts, batch_size=batch_size, parallel=parallel))

    embed(["warm up"])
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        if job["cmd"] == "corpus":
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            out = embed(job["texts"])
            seconds = time.perf_counter() - t0
            assert len(out) == len(job["texts"]) and out[0].shape == (384,)
            print(json.dumps({"seconds": seconds, "cpu_s": time.process_time() - cpu0}), flush=True)
        elif job["cmd"] == "lone":
            times = []
            for _ in range(job["n"]):
                t0 = time.perf_counter()
                list(model.embed([job["text"]], batch_size=batch_size))
                times.append((time.perf_counter() - t0) * 1000)
            print(json.dumps({"ms": times}), flush=True)
        elif job["cmd"] == "vectors":
            print(json.dumps({"vectors": [v.tolist() for v in embed(job["texts"])]}), flush=True)
        else:
            print(json.dumps({"error": f"unknown command {job['cmd']}"}), flush=True)


# `parallel` starts worker processes that import this file again (multiprocessing's spawn): only the parent runs main().
if __name__ == "__main__":
    main()
