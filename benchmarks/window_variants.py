"""What the tagger reads, and what that costs in quality: window settings on the saved fold
models of a cross-validation sweep, on the held-out items as they are and composed into
articles.

For each fold, the held-out gold items are tagged as themselves (summaries) and composed
into articles (:func:`pipeline.training.articles.articles_of`, the evaluation's seed) in
two lengths (3-5 and 6-9 items) and two layouts:

- ``paragraphs``: blank lines between paragraphs, as the composite-article evaluation;
- ``lines``: one line break between paragraphs (``"\\n\\n"`` becomes ``" \\n"``, same
  length), as many scraped dumps have it: to blank-line paragraphs the whole article is one;
- ``one block`` (long articles only): two spaces between paragraphs, no line break at all.

Each is tagged with every variant of ``tagger.windows`` (paragraph, sentences, document)
and ``tagger.paragraphs`` (all, keywords), the other decoding settings as today.  Printed
and saved: Tri-C, Arg-C, Arg-C+ (arguments with their trigger) and REASON F1 as the mean ±
std over folds, the tokens read (model
inputs, special tokens included), and for each variant how many documents' predicted events
differ from the reference variant's (``--reference``) and how many gold triggers and
arguments each finds that the other does not.

Usage:
    python benchmarks/window_variants.py outputs/cv/B_synth_art_e7 --out benchmarks/results/windows-2026-12-07
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VARIANTS = [("paragraph", "keywords"), ("paragraph", "all"), ("sentences", "keywords"), ("sentences", "all"),
            ("document", "all")]


def lines_layout(docs, between: str = " \n"):
    """The same documents with ``between`` for each blank line between paragraphs (same
    length, spans kept): one line break, or two spaces (one block of text)."""
    from pipeline.schema import Document

    return [Document(d.id, d.text.replace("\n\n", between), d.events, dict(d.meta)) for d in docs]


def workloads(items, fold: int, seed: int) -> dict[str, list]:
    from pipeline.training.articles import articles_of

    short = articles_of(items, random.Random(f"{seed}:{fold}"))
    long = articles_of(items, random.Random(f"{seed}:{fold}:long"), per_article=(6, 9))
    return {"summaries": list(items), "articles 3-5, paragraphs": short, "articles 3-5, lines": lines_layout(short),
            "articles 6-9, paragraphs": long, "articles 6-9, lines": lines_layout(long),
            "articles 6-9, one block": lines_layout(long, "  ")}


def tokens_read(tagger, docs) -> int:
    from pipeline.tagger.encoding import encode_documents, reading

    s = tagger.settings
    windows, _ = encode_documents(docs, tagger.tokenizer, max_length=s.max_length, stride=s.stride,
                                  **reading(s.windows, s.paragraphs))
    return sum(len(w.input_ids) for w in windows)


def found(gold, pred) -> tuple[set, set]:
    """(gold triggers found, gold arguments found with their trigger), as span keys."""
    by_id = {d.id: d for d in pred}
    trig, args = set(), set()
    for g in gold:
        p = by_id[g.id]
        ptrig = {(e.trigger.start, e.trigger.end) for e in p.events}
        pargs = {((e.trigger.start, e.trigger.end), a.label, a.start, a.end) for e in p.events for a in e.arguments}
        for e in g.events:
            t = (e.trigger.start, e.trigger.end)
            if t in ptrig:
                trig.add((g.id, t))
            for a in e.arguments:
                if (t, a.label, a.start, a.end) in pargs:
                    args.add((g.id, t, a.label, a.start, a.end))
    return trig, args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sweep", help="a cross-validation sweep folder with saved fold models")
    ap.add_argument("--out", default=None)
    ap.add_argument("--reference", default="paragraph/keywords", help="the variant others are compared with")
    ap.add_argument("--folds", default=None, help="comma-separated fold numbers (default: all)")
    a = ap.parse_args(argv)
    from pipeline.evaluation.crossval import ARTICLE_SEED, collect, fold_tagger, gold_by_id
    from pipeline.evaluation.runs import predict_and_score
    from pipeline.evaluation.scoring import mean_std
    from pipeline.formats.jsonl import read_events_jsonl

    runs = sorted(collect(a.sweep), key=lambda r: r.fold)
    if a.folds:
        keep = {int(x) for x in a.folds.split(",")}
        runs = [r for r in runs if r.fold in keep]
    results: dict[str, dict[str, Any]] = {}
    for run in runs:
        by_id = gold_by_id(run.config)
        items = [by_id[d.id] for d in read_events_jsonl(str(run.path / "heldout_predictions.jsonl"))]
        loads = workloads(items, run.fold, ARTICLE_SEED)
        for windows, paragraphs in VARIANTS:
            tagger = fold_tagger(run, windows=windows, paragraphs=paragraphs)
            name = f"{windows}/{paragraphs}"
            for load, gold in loads.items():
                t0 = time.perf_counter()
                scores, pred = predict_and_score(tagger, gold)
                r = results.setdefault(load, {}).setdefault(name, {"folds": [], "pred": {}, "gold": {}})
                r["folds"].append({"fold": run.fold, "tri_c": scores["trigger"]["f1"],
                                   "arg_c": scores["argument"]["f1"],
                                   "arg_c_plus": scores["argument_attached"]["f1"],
                                   "reason": scores["per_role"]["REASON"]["f1"],
                                   "tokens": tokens_read(tagger, gold), "seconds": time.perf_counter() - t0})
                r["pred"].update({f"{run.fold}:{d.id}": d for d in pred})
                r["gold"].update({f"{run.fold}:{d.id}": d for d in gold})
            print(f"fold {run.fold} {name} done", flush=True)
    out: dict[str, Any] = {"sweep": str(a.sweep), "reference": a.reference, "workloads": {}}
    lines = ["# What the tagger reads: window settings on the saved fold models", "",
             f"Sweep `{a.sweep}`, folds {[r.fold for r in runs]}; mean ± std over folds; tokens = model inputs "
             f"summed over folds; differences against `{a.reference}` (pooled over folds).", "",
             "Command: `python benchmarks/window_variants.py " + " ".join(sys.argv[1:] if argv is None else argv) + "`",
             ""]
    for load, variants in results.items():
        ref = variants[a.reference]
        lines += [f"## {load}", "", "| windows/paragraphs | Tri-C | Arg-C | Arg-C+ | REASON | tokens read | documents with other events "
                  "| gold triggers found only by ref / only here | gold arguments only by ref / only here |",
                  "|---|---|---|---|---|---|---|---|---|"]
        out["workloads"][load] = {}
        ref_ids = sorted(ref["pred"])
        gold_docs = [ref["gold"][k] for k in ref_ids]

        def keyed(docs, ids):
            from pipeline.schema import Document

            return [Document(k, docs[k].text, docs[k].events) for k in ids]

        rt, ra = found(keyed(ref["gold"], ref_ids), keyed(ref["pred"], ref_ids))
        for name, r in variants.items():
            ms = {k: mean_std([f[k] for f in r["folds"]]) for k in ("tri_c", "arg_c", "arg_c_plus", "reason")}
            tokens = sum(f["tokens"] for f in r["folds"])
            differ = sum(1 for k in ref_ids if [e.to_json() for e in r["pred"][k].events]
                         != [e.to_json() for e in ref["pred"][k].events])
            vt, va = found(keyed(r["gold"], ref_ids), keyed(r["pred"], ref_ids))
            row = {"mean_std": ms, "tokens": tokens, "documents": len(gold_docs), "differ": differ,
                   "triggers_only_ref": len(rt - vt), "triggers_only_here": len(vt - rt),
                   "arguments_only_ref": len(ra - va), "arguments_only_here": len(va - ra),
                   "folds": r["folds"]}
            out["workloads"][load][name] = row
            fmt = lambda m: f"{m['mean']:.3f} ± {m['std']:.3f}" if m else "-"   # noqa: E731
            lines.append(f"| {name} | {fmt(ms['tri_c'])} | {fmt(ms['arg_c'])} | {fmt(ms['arg_c_plus'])} | {fmt(ms['reason'])} | {tokens:,} "
                         f"({tokens / max(1, sum(f['tokens'] for f in ref['folds'])):.0%} of ref) | "
                         f"{differ} of {len(gold_docs)} | {len(rt - vt)} / {len(vt - rt)} | {len(ra - va)} / {len(va - ra)} |")
        lines.append("")
    md = "\n".join(lines) + "\n"
    print(md)
    if a.out:
        d = Path(a.out)
        d.mkdir(parents=True, exist_ok=True)
        (d / "window_variants.json").write_text(json.dumps(out, indent=1))
        (d / "window_variants.md").write_text(md)
        print(f"written: {d}/window_variants.md and .json")
    return out


if __name__ == "__main__":
    main()
