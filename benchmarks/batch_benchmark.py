"""Batch prediction speed, whole processes on the same documents: ``expel-predict`` against
a plain ``transformers.pipeline("token-classification", aggregation_strategy="simple")``
loop (``benchmarks/pipeline_loop.py``, its best batch size).

Workloads, each run by both systems as separate processes (start-up, reading and
writing included; wall time from process start to exit):

1. ``sample``: ``--sample`` items (20,000) drawn with a seed from the news dump;
2. ``filtered``: ``--filtered`` items (2,000) of the dump that all pass our document
   filter, so only the tagger counts;
3. ``full`` (``--full``): the whole dump, ours only (the baseline would take hours; its
   figure is extrapolated from workload 1 and said so);
4. ``articles`` (``--articles N``): N article-shaped documents, each 5-8 dump items of
   neighbouring dates laid out by the composite-article formatter of the evaluation
   (``pipeline/training/articles.py``: headline, dateline, paragraphs, curly quotes,
   wrapped lines), a few percent of them about expulsions, as a news dump is; and
   ``articles-all-pass``: N (``--all-pass``, default the same N) such articles whose lede
   passes our document filter, so that every document reaches the tagger.  The baseline runs on a random ``--baseline-sample``
   of each and is extrapolated (said so).

The baseline on workload 1 runs on a random ``--baseline-sample`` of its documents (its
whole-process time for all of them is its start-up plus the per-document loop time times
the number of documents: said so in the output).  For ours the output adds the share of
time in read / filter / tagger / write / records, the time to the first tagged document,
and peak RSS (both systems report their own high-water mark).

Results (JSON, a log and a Markdown table, with the CPU model and whether bfloat16 was
used) go to ``--out`` (default ``benchmarks/results/<cpu>-<date>/``).

``--precision-check`` measures dev F1 in bf16 and on ONNX Runtime (float32, int8) and writes the model's
``precision.json`` (what ``tagger.precision`` is gated on) for a model trained before
``expel-train`` did so.

Usage:
    python benchmarks/batch_benchmark.py --model-dir models/expel-minilm
    python benchmarks/batch_benchmark.py --precision fp32 --full --out benchmarks/results/x
    python benchmarks/batch_benchmark.py --precision fp32 --compare-runtimes   # also ours on PyTorch
    python benchmarks/batch_benchmark.py --also int8:onnx   # also the opt-in int8 path, same documents
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LOOP = Path(__file__).resolve().parent / "pipeline_loop.py"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown CPU"


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line.rstrip("\n") + "\n" for line in lines), encoding="utf-8")
    return path


def sample_dump(dump: str, n: int, seed: int) -> list[str]:
    """``n`` non-blank lines of the dump, a seeded sample (reservoir: memory flat)."""
    rng = random.Random(seed)
    out: list[str] = []
    with open(dump, encoding="utf-8") as f:
        for i, line in enumerate(x for x in f if x.strip()):
            if len(out) < n:
                out.append(line)
            else:
                k = rng.randrange(i + 1)
                if k < n:
                    out[k] = line
    return out


def filter_passing(dump: str, model_dir: str, n: int, seed: int) -> list[str]:
    from pipeline.batch.docfilter import FILTER_FILE, DocFilter

    f = DocFilter.load(Path(model_dir) / FILTER_FILE)
    lines = [x for x in open(dump, encoding="utf-8") if x.strip()]
    texts = [json.loads(x).get("text") or "" for x in lines]
    keep = f.keep(texts)
    passing = [x for x, k in zip(lines, keep) if k]
    random.Random(seed).shuffle(passing)
    if len(passing) < n:
        print(f"note: only {len(passing)} dump items pass the filter; the filtered workload repeats them",
              flush=True)
        passing = (passing * (n // max(1, len(passing)) + 1))
    return passing[:n]


def article_lines(items: list[str], n: int, seed: int, leads: list[str] | None = None) -> list[str]:
    """``n`` article-shaped documents (JSON lines) of 5-8 items each, laid out by
    :func:`pipeline.training.articles.compose_article` (no labels: the items are unlabelled);
    with ``leads``, each article's lede is one of them (the all-pass set)."""
    from pipeline.schema import Document
    from pipeline.training.articles import compose_article

    rng = random.Random(seed)
    docs = []
    for i, line in enumerate(items):
        x = json.loads(line)
        if x.get("text"):
            docs.append(Document(str(x.get("id", i)), x["text"], [], {"date": x.get("date")}))
    lead_docs = [Document(str(x.get("id")), x["text"], [], {"date": x.get("date")})
                 for x in map(json.loads, leads or []) if x.get("text")]
    out = []
    for k in range(n):
        others = rng.sample(docs, rng.randint(4, 7))
        main = lead_docs[k % len(lead_docs)] if lead_docs else others.pop(0)
        art = compose_article(main, others, rng)
        if art is not None:
            out.append(json.dumps({"id": f"article-{k}", "text": art.text, "date": main.meta.get("date")},
                                  ensure_ascii=False))
    return out


def run_ours(model_dir: str, dump: Path, tmp: Path, precision: str, name: str,
             runtime: str = "auto") -> dict[str, Any]:
    out, run = tmp / f"ours-{name}-{precision}-{runtime}", tmp / f"ours-{name}-{precision}-{runtime}-run"
    cmd = [sys.executable, "-c", "from pipeline.cli import predict_main; predict_main()",
           f"model_dir={model_dir}", f"input={dump}", f"output={out}", f"tagger.precision={precision}",
           f"tagger.runtime={runtime}", f"hydra.run.dir={run}"]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"expel-predict failed:\n{res.stderr[-3000:]}")
    s = json.loads((run / "predict_summary.json").read_text())
    return {"documents": s["documents"], "tagged": s["tagged"], "wall_s": round(wall, 2),
            "docs_per_s": round(s["documents"] / wall, 1), "phases": s.get("phases"),
            "peak_rss_mb": s.get("peak_rss_mb"), "events": s["events"], "tagger": s.get("tagger")}


def run_loop(model_dir: str, dump: Path, tmp: Path, batch_size: int, limit: int = 0) -> dict[str, Any]:
    cmd = [sys.executable, str(LOOP), "--model-dir", model_dir, "--input", str(dump),
           "--output", str(tmp / "loop.jsonl"), "--batch-size", str(batch_size), "--limit", str(limit)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"pipeline loop failed:\n{res.stderr[-3000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["wall_s"] = round(wall, 2)
    return out


def tune_loop(model_dir: str, texts_file: Path, tmp: Path, sizes: list[int]) -> tuple[int, dict]:
    rates = {}
    for bs in sizes:
        r = run_loop(model_dir, texts_file, tmp, bs)
        rates[bs] = round(r["documents"] / r["loop_s"], 1)
        print(f"  baseline batch_size={bs}: {rates[bs]} docs/s (loop only)", flush=True)
    return max(rates, key=rates.get), rates


def workload(name: str, lines: list[str], a, tmp: Path, bs: int, baseline_sample: int) -> dict[str, Any]:
    dump = write_lines(tmp / f"{name}.jsonl", lines)
    ours = run_ours(a.model_dir, dump, tmp, a.precision, name, a.runtime)
    variants = [run_ours(a.model_dir, dump, tmp, p, name, rt) for p, rt in a.variants]
    if baseline_sample and baseline_sample < len(lines):
        sub = write_lines(tmp / f"{name}-baseline.jsonl", random.Random(a.seed).sample(lines, baseline_sample))
        loop = run_loop(a.model_dir, sub, tmp, bs)
        whole = loop["wall_s"] - loop["loop_s"] + loop["loop_s"] / loop["documents"] * len(lines)
        how = f"start-up measured, loop extrapolated from a random {baseline_sample}"
    else:
        loop = run_loop(a.model_dir, dump, tmp, bs)
        whole, how = loop["wall_s"], "measured"
    base_rate = len(lines) / whole
    out = {"workload": name, "documents": len(lines), "ours": ours,
           "baseline": {**loop, "whole_process_s": round(whole, 2), "docs_per_s": round(base_rate, 1), "how": how},
           "ratio": round(ours["docs_per_s"] / base_rate, 2)}
    out["ours_variants"] = []
    for (p, rt), v in zip(a.variants, variants):
        v = {**v, "asked": f"tagger.precision={p} tagger.runtime={rt}", "ratio": round(v["docs_per_s"] / base_rate, 2)}
        out["ours_variants"].append(v)
        print(f"[{name}] ours with {v['asked']}: {v['docs_per_s']:,.1f} docs/s ({v['wall_s']:.1f} s, ran "
              f"{v['tagger']}, {v['events']} events vs {ours['events']}) | x{v['ratio']} | the main run is "
              f"{ours['docs_per_s'] / v['docs_per_s']:.2f}x this", flush=True)
    ph = ours["phases"] or {}
    print(f"[{name}] {len(lines):,} docs | ours {ours['docs_per_s']:,.1f} docs/s ({ours['wall_s']:.1f} s whole "
          f"process, {ours['tagged']:,} tagged, {ours['tagger']}, first tagged after {ph.get('first_tagged_after_s')} s, "
          f"peak RSS {ours['peak_rss_mb']} MiB, shares {ph.get('share')}) | baseline {base_rate:,.1f} docs/s "
          f"({whole:,.1f} s, {how}; peak RSS {loop['peak_rss_mb']} MiB) | x{out['ratio']}", flush=True)
    return out


def precision_check(model_dir: str, dev: str) -> dict[str, Any]:
    """Dev F1 in fp32, bf16 and on ONNX Runtime (float32, int8) into MODEL_DIR/precision.json."""
    from pipeline.config import TaggerConfig
    from pipeline.training.corpus import load_gold
    from pipeline.evaluation.runs import measure_precision_cost
    from pipeline.tagger import Tagger, resolve_settings
    from pipeline.tagger.precision import VARIANTS, write_check

    tagger = Tagger.from_dir(model_dir, resolve_settings(TaggerConfig(precision="fp32"), None))
    check = measure_precision_cost(tagger, load_gold(dev))
    path = write_check(model_dir, check | {"dev": dev})
    for p in VARIANTS:
        if p in check and "f1" in check[p]:
            c = check[p]
            print(f"[precision] fp32 {check['fp32']} | {p} {c['f1']} | drop {c['drop_points']} -> "
                  f"{'accepted' if c['accepted'] else 'REJECTED (drop > 1 point)'}", flush=True)
    print(f"wrote {path}", flush=True)
    return check


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", default="models/expel-minilm")
    ap.add_argument("--dump", default=str(ROOT.parent / "shared/data/cep/items.jsonl"))
    ap.add_argument("--sample", type=int, default=20000)
    ap.add_argument("--filtered", type=int, default=2000)
    ap.add_argument("--baseline-sample", type=int, default=1000,
                    help="baseline documents measured on the sample workload (0 = all of them)")
    ap.add_argument("--batch-sizes", default="8,16,32,64")
    ap.add_argument("--precision", default="fp32", choices=("auto", "fp32", "bf16", "int8"),
                    help="our tagger.precision (fp32: what a CPU without bfloat16 runs)")
    ap.add_argument("--runtime", default="auto", choices=("auto", "torch", "onnx"), help="our tagger.runtime")
    ap.add_argument("--compare-runtimes", action="store_true",
                    help="also ours with tagger.runtime=torch on each workload (the same documents)")
    ap.add_argument("--full", action="store_true", help="also ours over the whole dump")
    ap.add_argument("--articles", type=int, default=0,
                    help="also N article-shaped documents (a realistic mix, and all-pass)")
    ap.add_argument("--all-pass", type=int, default=None,
                    help="documents of the all-pass article workload (default: --articles)")
    ap.add_argument("--only-articles", action="store_true", help="run the article workloads alone")
    ap.add_argument("--precision-check", action="store_true")
    ap.add_argument("--dev", default=str(ROOT / "data/gold/dev.jsonl"))
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", default=None)
    ap.add_argument("--also", action="append", default=[], metavar="PRECISION:RUNTIME",
                    help="also ours in this tagger.precision and tagger.runtime, on the same documents "
                         "(repeatable; e.g. int8:onnx)")
    a = ap.parse_args(argv)
    a.variants = [(a.precision, "torch")] if a.compare_runtimes else []
    for spec in a.also:
        p, _, rt = spec.partition(":")
        if p not in ("auto", "fp32", "bf16", "int8") or rt not in ("auto", "torch", "onnx"):
            ap.error(f"--also {spec!r}: give PRECISION:RUNTIME, e.g. int8:onnx")
        a.variants.append((p, rt))
    a.variants = [v for i, v in enumerate(a.variants) if v != (a.precision, a.runtime) and v not in a.variants[:i]]
    a.model_dir = str(Path(a.model_dir).resolve())
    if a.precision_check:
        precision_check(a.model_dir, a.dev)
    from pipeline.tagger.precision import native_bf16

    results: dict[str, Any] = {"cpu": cpu_model(), "cores": os.cpu_count(), "native_bf16": native_bf16("cpu"),
                               "precision": a.precision, "runtime": a.runtime,
                               "date": dt.date.today().isoformat(),
                               "model_dir": a.model_dir, "dump": a.dump, "seed": a.seed}
    print(f"{results['cpu']} ({results['cores']} cores), native bf16: {results['native_bf16']}, "
          f"ours in tagger.precision={a.precision}", flush=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sample = sample_dump(a.dump, a.sample, a.seed)
        filtered = filter_passing(a.dump, a.model_dir, a.filtered, a.seed)
        tune = write_lines(tmp / "tune.jsonl", filtered[:200])
        bs, rates = tune_loop(a.model_dir, tune, tmp, [int(x) for x in a.batch_sizes.split(",")])
        results["baseline_batch_size"], results["baseline_tuning"] = bs, rates
        if not a.only_articles:
            results["sample"] = workload("sample", sample, a, tmp, bs, a.baseline_sample)
            results["filtered"] = workload("filtered", filtered, a, tmp, bs, 0)
        if a.articles:
            n_pass = a.articles if a.all_pass is None else a.all_pass
            mixed = article_lines(sample, a.articles, a.seed)
            passing = article_lines(sample, n_pass, a.seed, leads=filtered)
            results["articles"] = workload("articles", mixed, a, tmp, bs,
                                           min(a.baseline_sample, max(50, a.articles // 4)))
            results["articles-all-pass"] = workload("articles-all-pass", passing, a, tmp, bs,
                                                    min(a.baseline_sample, max(50, n_pass // 4)))
        if a.full:
            lines = [x for x in open(a.dump, encoding="utf-8") if x.strip()]
            full = run_ours(a.model_dir, write_lines(tmp / "full.jsonl", lines), tmp, a.precision, "full", a.runtime)
            rate = results["sample"]["baseline"]["docs_per_s"]
            results["full"] = {"documents": len(lines), "ours": full,
                               "baseline_extrapolated_s": round(len(lines) / rate, 1),
                               "ratio": round(full["docs_per_s"] / rate, 2)}
            print(f"[full] {len(lines):,} docs | ours {full['wall_s']:.1f} s ({full['docs_per_s']:,.1f} docs/s, "
                  f"{full['tagged']:,} tagged) | baseline extrapolated {len(lines) / rate / 60:.1f} min", flush=True)
    out = Path(a.out) if a.out else ROOT / "benchmarks/results" / (
        f"{results['cpu'].split()[0].lower()}-{results['date']}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "batch_benchmark.json").write_text(json.dumps(results, indent=2))
    (out / "batch_benchmark.md").write_text(markdown(results))
    print(markdown(results))
    print(f"written: {out}/batch_benchmark.json and .md")
    return results


def markdown(r: dict[str, Any]) -> str:
    lines = [f"# Batch benchmark ({r['date']})", "",
             f"{r['cpu']}, {r['cores']} cores, native bfloat16: {r['native_bf16']}; ours in "
             f"`tagger.precision={r['precision']} tagger.runtime={r.get('runtime', 'torch')}` (ran: "
             f"{(r.get('sample') or r.get('articles') or {}).get('ours', {}).get('tagger')}); baseline `transformers.pipeline` loop at batch size "
             f"{r['baseline_batch_size']} (best of {list(r['baseline_tuning'])}). Whole processes, wall time.", "",
             "| workload | documents | ours docs/s | baseline docs/s | ratio | ours first tagged (s) | "
             "ours peak RSS (MiB) | baseline peak RSS (MiB) |", "|---|---|---|---|---|---|---|---|"]
    for name in ("sample", "filtered", "articles", "articles-all-pass"):
        w = r.get(name)
        if w:
            lines.append(f"| {name} | {w['documents']:,} | {w['ours']['docs_per_s']:,.1f} | "
                         f"{w['baseline']['docs_per_s']:,.1f} | **{w['ratio']}x** | "
                         f"{(w['ours']['phases'] or {}).get('first_tagged_after_s')} | {w['ours']['peak_rss_mb']} | "
                         f"{w['baseline']['peak_rss_mb']} |")
        for t in (w or {}).get("ours_variants", []):
            lines.append(f"| {name}, ours with `{t['asked']}` ({t['events']} events vs {w['ours']['events']}) | "
                         f"{w['documents']:,} | {t['docs_per_s']:,.1f} | "
                         f"{w['baseline']['docs_per_s']:,.1f} | {t['ratio']}x | "
                         f"{(t['phases'] or {}).get('first_tagged_after_s')} | {t['peak_rss_mb']} | - |")
    if "full" in r:
        f = r["full"]
        lines.append(f"| full dump | {f['documents']:,} | {f['ours']['docs_per_s']:,.1f} | "
                     f"(extrapolated: {f['baseline_extrapolated_s'] / 60:.0f} min) | {f['ratio']}x | "
                     f"{(f['ours']['phases'] or {}).get('first_tagged_after_s')} | {f['ours']['peak_rss_mb']} | - |")
    lines += ["", "Share of our time per phase:", ""]
    for name in ("sample", "filtered", "articles", "articles-all-pass", "full"):
        w = r.get(name)
        if w and w["ours"].get("phases"):
            lines.append(f"- {name}: " + ", ".join(f"{k} {v:.0%}" for k, v in w["ours"]["phases"]["share"].items())
                         + f" (of {sum(w['ours']['phases']['seconds'].values()):.1f} s in the engine; "
                         f"{w['ours']['wall_s']:.1f} s whole process)")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
