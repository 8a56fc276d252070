"""int8 against fp32 for our tagger, whole processes on the same filter-passing documents.

``tagger.precision=int8`` is ONNX Runtime's int8 of the attention output and feed-forward
layers (``pipeline/tagger/precision.py``); this runs ``expel-predict`` in fp32 and in int8 on the
same ``--n`` documents of the dump that pass the model's filter, ``--repeats`` times each
alternately, and prints the best whole-process time of each and their ratio.

Usage:
    python benchmarks/int8_speed.py --model-dir models/expel-minilm
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from batch_benchmark import filter_passing, run_ours, write_lines  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", default="models/expel-minilm")
    ap.add_argument("--dump", default=str(ROOT.parent / "shared/data/cep/items.jsonl"))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args(argv)
    model = str(Path(a.model_dir).resolve())
    lines = filter_passing(a.dump, model, a.n, a.seed)
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        dump = write_lines(tmp / "filtered.jsonl", lines)
        for rep in range(a.repeats):
            for p in ("fp32", "int8"):
                r = run_ours(model, dump, tmp, p, f"{p}{rep}")
                best[p] = min(best.get(p, float("inf")), r["wall_s"])
                print(f"{p} run {rep}: {r['wall_s']} s whole process, {r['docs_per_s']} docs/s, "
                      f"tagger {r['phases']['seconds']['tagger']} s", flush=True)
    print(f"best: fp32 {best['fp32']} s, int8 {best['int8']} s; int8 speed-up {best['fp32'] / best['int8']:.2f}x")


if __name__ == "__main__":
    main()
