"""The baseline of the batch benchmark: a plain ``transformers.pipeline`` loop over a dump.

What a user would write by hand: read the JSONL dump, run
``pipeline("token-classification", aggregation_strategy="simple")`` over every text in
batches, write one JSON line of entities per document.  Run as its own process by
``batch_benchmark.py``, which times it whole; it prints one JSON line with its own
timings and peak memory.

Usage:
    python benchmarks/pipeline_loop.py --model-dir models/expel-minilm --input dump.jsonl \\
        --output out.jsonl --batch-size 16 [--limit N]
"""

from __future__ import annotations

import argparse
import json
import resource
import time

T0 = time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--limit", type=int, default=0, help="first N documents only (0 = all)")
    a = ap.parse_args()
    from transformers import pipeline

    pipe = pipeline("token-classification", model=a.model_dir, aggregation_strategy="simple",
                    batch_size=a.batch_size, device=-1)
    ready = time.perf_counter() - T0
    texts, ids = [], []
    with open(a.input, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                obj = json.loads(line)
                texts.append(obj["text"])
                ids.append(obj.get("id"))
            if a.limit and len(texts) >= a.limit:
                break
    t1 = time.perf_counter()
    first = None
    with open(a.output, "w", encoding="utf-8") as out:
        for i in range(0, len(texts), 256):
            for doc_id, ents in zip(ids[i:i + 256], pipe(texts[i:i + 256])):
                if first is None:
                    first = time.perf_counter() - T0
                out.write(json.dumps({"id": doc_id, "entities": [
                    {k: (float(v) if k == "score" else v) for k, v in e.items()} for e in ents]}) + "\n")
    loop = time.perf_counter() - t1
    print(json.dumps({"documents": len(texts), "startup_s": round(ready, 3), "loop_s": round(loop, 3),
                      "first_document_s": round(first or 0.0, 3), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "batch_size": a.batch_size}))


if __name__ == "__main__":
    main()
