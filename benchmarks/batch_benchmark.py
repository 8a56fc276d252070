"""Batch prediction speed: our predictor (document filter + length-sorted dynamic batches)
against ``transformers.pipeline("token-classification", aggregation_strategy="simple")``.

Both run in this process on the same texts, already in memory (reading and writing
files is left out of both; ``--end-to-end`` times ``expel-predict`` too).  Two workloads:

1. ``dump``: the news dump (``--limit N`` for its first N items).  Our predictor runs on
   all of it; the baseline, at tens of documents per second on a CPU, runs on a random
   sample of ``--baseline-sample`` items and its time for the whole workload is
   extrapolated from that sample (the output says so).
2. ``filtered``: ``--filtered`` documents (2,000) that all pass the document filter, drawn
   from the dump (repeated if the dump has fewer), so that only batching counts.

Both batch sizes are tuned on a small sample of workload 2 (the fastest of ``--batch-sizes``).
Peak memory is the process's resident-set high-water mark during each phase (reset
between phases through /proc/self/clear_refs where Linux allows it).

Our tagger runs as ``expel-predict`` would (``--precision auto``: bfloat16 where the CPU
computes it natively and the model's ``precision.json`` shows no dev F1 drop over one
point).  When that is bfloat16, the filtered workload also prints our fp32 speed and the
baseline's under the same bfloat16 autocast, so the ratio can be read both ways;
``--precision-check`` measures dev F1 in bf16 and int8 and writes ``precision.json``
(the gate ``expel-predict tagger.precision=bf16|int8`` reads) for a model trained before
``expel-train`` did so; ``--precision-speed`` times the tagger in each precision.

Usage:
    python benchmarks/batch_benchmark.py --model-dir models/expel-minilm --limit 20000
    python benchmarks/batch_benchmark.py --precision-check --precision-speed --json out.json
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.batch.dumps import Record, read_dump  # noqa: E402
from pipeline.batch.engine import tag_chunk  # noqa: E402
from pipeline.batch.settings import load_doc_filter  # noqa: E402
from pipeline.config import PredictConfig, TaggerConfig  # noqa: E402
from pipeline.corpus import load_gold  # noqa: E402
from pipeline.evaluation import measure_precision_cost  # noqa: E402
from pipeline.tagger import Tagger, resolve_settings  # noqa: E402


def peak_rss_reset() -> bool:
    """Reset the resident-set high-water mark (Linux); False where not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(seconds, peak RSS in MiB during the call, result)."""
    peak_rss_reset()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, peak_rss_mb(), out


def load_texts(dump: str, limit: int | None) -> list[str]:
    texts = []
    for it in read_dump(dump):
        if isinstance(it, Record):
            texts.append(it.text)
            if limit and len(texts) >= limit:
                break
    return texts


# ------------------------------------------------------------------------------ systems


class Ours:
    """Filter + tagger, chunk by chunk as ``expel-predict`` runs them."""

    def __init__(self, cfg: PredictConfig, tagger: Tagger | None = None):
        self.cfg = cfg
        self.tagger = tagger or build_tagger(cfg)
        self.filter = load_doc_filter(cfg)

    def set(self, **changes) -> None:
        """Run on with some tagger settings changed (batch size, precision)."""
        self.tagger = self.tagger.with_settings(**changes)

    def __call__(self, texts: Sequence[str]) -> dict[str, int]:
        events = passed = 0
        for i in range(0, len(texts), self.cfg.chunk_size):
            items = [Record(i + j, str(i + j), t) for j, t in enumerate(texts[i:i + self.cfg.chunk_size])]
            res = tag_chunk(items, self.tagger, self.filter, self.cfg.filter_threshold)
            events += res.events
            passed += sum(res.passed)
        return {"events": events, "tagged": passed}


def build_tagger(cfg: PredictConfig) -> Tagger:
    """The tagger ``expel-predict`` would run for ``cfg`` (settings resolved once)."""
    return Tagger.from_dir(cfg.model_dir, resolve_settings(cfg.tagger, cfg.model_dir))


def baseline(model_dir: str, batch_size: int):
    from transformers import pipeline

    pipe = pipeline("token-classification", model=model_dir, aggregation_strategy="simple",
                    batch_size=batch_size, device=-1)
    return lambda texts: {"entities": sum(len(x) for x in pipe(list(texts)))}


def tune_baseline(model_dir: str, sample: Sequence[str], sizes: Sequence[int]) -> tuple[int, dict]:
    rates = {}
    for bs in sizes:
        run = baseline(model_dir, bs)
        run(sample[:8])                                      # warm-up
        t0 = time.perf_counter()
        run(sample)
        rates[bs] = len(sample) / (time.perf_counter() - t0)
        print(f"  baseline batch_size={bs}: {rates[bs]:.1f} docs/s", flush=True)
    return max(rates, key=rates.get), rates


def tune_ours(ours: Ours, sample: Sequence[str], sizes: Sequence[int]) -> int:
    rates = {}
    ours(sample[:8])
    for bs in sizes:
        ours.set(batch_size=bs)
        t0 = time.perf_counter()
        ours(sample)
        rates[bs] = len(sample) / (time.perf_counter() - t0)
        print(f"  ours batch_size={bs}: {rates[bs]:.1f} docs/s", flush=True)
    best = max(rates, key=rates.get)
    print(f"our batch size: {best}", flush=True)
    return best


# ---------------------------------------------------------------------------- workloads


def run_workload(name: str, texts: Sequence[str], ours: Ours, base, base_sample: int,
                 seed: int) -> dict[str, Any]:
    ours(texts[:50])                                         # warm-up
    t_ours, mem_ours, res = timed(lambda: ours(texts))
    if base_sample and base_sample < len(texts):
        sample = random.Random(seed).sample(list(texts), base_sample)
        extrapolated = True
    else:
        sample, extrapolated = list(texts), False
    t_b, mem_b, _ = timed(lambda: base(sample))
    base_rate = len(sample) / t_b
    out = {"workload": name, "documents": len(texts), "ours_seconds": round(t_ours, 2),
           "ours_docs_per_s": round(len(texts) / t_ours, 1), "ours_tagged": res["tagged"],
           "ours_peak_rss_mb": round(mem_ours), "baseline_docs_per_s": round(base_rate, 1),
           "baseline_seconds": round(len(texts) / base_rate, 1), "baseline_measured_on": len(sample),
           "baseline_extrapolated": extrapolated, "baseline_peak_rss_mb": round(mem_b),
           "speedup": round((len(texts) / t_ours) / base_rate, 2)}
    how = (f"extrapolated from a random sample of {len(sample)}" if extrapolated else "measured")
    print(f"[{name}] {len(texts):,} docs | ours {out['ours_docs_per_s']:,.1f} docs/s "
          f"({t_ours:.1f} s, {res['tagged']:,} tagged, peak RSS {mem_ours:,.0f} MiB) | baseline "
          f"{base_rate:,.1f} docs/s ({how}; {out['baseline_seconds']:,.0f} s, peak RSS "
          f"{mem_b:,.0f} MiB) | speed-up x{out['speedup']}", flush=True)
    return out


def filtered_texts(texts: Sequence[str], ours: Ours, n: int, seed: int) -> tuple[list[str], int]:
    if ours.filter is None:
        pool = list(texts)
    else:
        pool = [t for t, k in zip(texts, ours.filter.keep(list(texts), ours.cfg.filter_threshold)) if k]
    rng = random.Random(seed)
    rng.shuffle(pool)
    unique = len(pool)
    while pool and len(pool) < n:
        pool += pool[:n - len(pool)]
    return pool[:n], unique


def precision_check(cfg: PredictConfig, dev: str) -> dict[str, Any]:
    """Dev F1 in fp32, bf16 and int8, written to MODEL_DIR/precision.json (the one gate
    ``expel-predict tagger.precision=...`` reads)."""
    from pipeline.tagger.precision import FASTER, write_check

    tagger = Tagger.from_dir(cfg.model_dir, resolve_settings(replace(cfg.tagger, precision="fp32"), None))
    check = measure_precision_cost(tagger, load_gold(dev))
    path = write_check(cfg.model_dir, check | {"dev": dev})
    for p in FASTER:
        if p in check:
            c = check[p]
            print(f"[precision] dev F1 fp32 {check['fp32']} | {p} {c['f1']} | drop {c['drop_points']} -> "
                  f"{'accepted' if c['accepted'] else 'REJECTED (drop > 1 point)'}", flush=True)
    print(f"wrote {path}", flush=True)
    return check


def precision_speed(texts: Sequence[str], ours: Ours) -> dict[str, float]:
    """Tagger docs/s in each precision on the same texts (filter off)."""
    rates = {}
    for p in ("fp32", "bf16", "int8"):
        ours.set(precision=p)
        ours(texts[:50])
        t, _, _ = timed(lambda: ours(texts))
        rates[p] = round(len(texts) / t, 1)
    print(f"[precision speed] tagger docs/s {rates}", flush=True)
    return rates


def precision_split(texts: Sequence[str], ours: Ours, base) -> dict[str, Any]:
    """How much of the filtered-workload ratio is bfloat16: ours in fp32, and the baseline
    under the same bfloat16 autocast."""
    import torch

    ours.set(precision="fp32")
    t32, _, _ = timed(lambda: ours(texts))
    ours.set(precision="bf16")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        base(texts[:8])
        tb, _, _ = timed(lambda: base(texts))
    out = {"ours_fp32_docs_per_s": round(len(texts) / t32, 1),
           "baseline_bf16_docs_per_s": round(len(texts) / tb, 1)}
    print(f"[filtered, same precision] ours fp32 {out['ours_fp32_docs_per_s']:,.1f} docs/s | baseline "
          f"under bf16 autocast {out['baseline_bf16_docs_per_s']:,.1f} docs/s", flush=True)
    return out


def end_to_end(cfg: PredictConfig, dump: str, limit: int | None) -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src = dump
        if limit:
            src = str(Path(tmp) / "dump.jsonl")
            with open(dump, encoding="utf-8") as f, open(src, "w", encoding="utf-8") as g:
                for i, line in enumerate(f):
                    if i >= limit:
                        break
                    g.write(line)
        from pipeline.stages import predict

        t, mem, s = timed(lambda: predict(
            replace(cfg, input=src, output=str(Path(tmp) / "out"), records=False), Path(tmp) / "run"))
    print(f"[end-to-end expel-predict] {s['documents']:,} docs in {t:.1f} s "
          f"({s['documents'] / t:,.1f} docs/s incl. reading and writing shards)", flush=True)
    return {"documents": s["documents"], "seconds": round(t, 2), "peak_rss_mb": round(mem)}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", default="models/expel-minilm")
    ap.add_argument("--dump", default=str(ROOT.parent / "shared/data/cep/items.jsonl"))
    ap.add_argument("--limit", type=int, default=None, help="first N items of the dump only")
    ap.add_argument("--baseline-sample", type=int, default=1000,
                    help="baseline docs measured on the dump workload (0 = all)")
    ap.add_argument("--filtered", type=int, default=2000)
    ap.add_argument("--batch-sizes", default="8,16,32,64,128")
    ap.add_argument("--workloads", default="dump,filtered", help="which of dump,filtered to run")
    ap.add_argument("--batch-size", type=int, default=64, help="our tagger's batch size")
    ap.add_argument("--filter", default="auto")
    ap.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "int8"),
                    help="our tagger's precision (expel-predict's tagger.precision=)")
    ap.add_argument("--precision-check", action="store_true",
                    help="measure dev F1 in bf16 and int8 and write MODEL_DIR/precision.json "
                         "(expel-train writes it for new models)")
    ap.add_argument("--precision-speed", action="store_true",
                    help="tagger docs/s in fp32, bf16 and int8 on --speed-docs filter-passing docs")
    ap.add_argument("--speed-docs", type=int, default=500, help="docs for --precision-speed")
    ap.add_argument("--dev", default=str(ROOT / "data/gold/dev.jsonl"))
    ap.add_argument("--end-to-end", action="store_true")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--json", default=None, help="write the figures to this file")
    a = ap.parse_args(argv)

    cfg = PredictConfig(model_dir=a.model_dir, filter=a.filter,
                        tagger=TaggerConfig(batch_size=a.batch_size, precision=a.precision))
    if a.precision_check:
        precision_check(cfg, a.dev)
    texts = load_texts(a.dump, a.limit)
    print(f"{len(texts):,} documents from {a.dump}; model {a.model_dir}", flush=True)
    ours = Ours(cfg)
    print(f"our precision: {ours.tagger.settings.precision}", flush=True)
    if ours.filter is None:
        print("note: no document filter (filter=none or no docfilter.json): ours tags every document")
    filt, unique = filtered_texts(texts, ours, a.filtered, a.seed)
    sizes = [int(x) for x in a.batch_sizes.split(",")]
    best, rates = tune_baseline(a.model_dir, filt[:200], sizes)
    print(f"baseline batch size: {best}", flush=True)
    ours.set(batch_size=tune_ours(ours, filt[:200], sizes))
    base = baseline(a.model_dir, best)
    base(filt[:8])
    results: dict[str, Any] = {"model_dir": a.model_dir, "baseline_batch_size": best,
                               "our_batch_size": ours.tagger.settings.batch_size,
                               "baseline_tuning_docs_per_s": rates}
    if "dump" in a.workloads:
        results["dump"] = run_workload("dump", texts, ours, base, a.baseline_sample, a.seed)
    if "filtered" in a.workloads:
        print(f"filtered workload: {len(filt):,} docs ({unique:,} distinct texts pass the filter)")
        results["filtered"] = run_workload("filtered", filt, ours, base, 0, a.seed)
        results["filtered"]["distinct_texts"] = unique
        results["filtered"]["precision"] = ours.tagger.settings.precision
        if ours.tagger.settings.precision == "bf16":
            results["filtered"] |= precision_split(filt, ours, base)
    if a.precision_speed:
        results["precision_speed"] = precision_speed(filt[:a.speed_docs], Ours(replace(cfg, filter="none")))
    if a.end_to_end:
        results["end_to_end"] = end_to_end(cfg, a.dump, a.limit)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
