"""Does a trigger verifier lift trigger precision? Measured on cross-validation folds.

For every fold job of an ``expel-train experiment=crossval`` sweep, a verifier
(:mod:`pipeline.events.verifier`) is fitted on that fold's training side only (the other year
blocks; ``--synthetic`` adds the synthetic documents), then applied to the fold's saved
held-out predictions at several thresholds.  Printed: Tri-C precision / recall / F1,
Arg-C and Arg-C+ (mean ± std over folds, and pooled), beside the predictions as they
are and beside a plain threshold on the tagger's own trigger score.

Usage:
    python benchmarks/verifier_cv.py outputs/cv/A_default [--synthetic] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.training.corpus import load_gold, load_synthetic, time_folds  # noqa: E402
from pipeline.evaluation.crossval import collect, gold_by_id  # noqa: E402
from pipeline.formats.jsonl import read_events_jsonl  # noqa: E402
from pipeline.schema import Document  # noqa: E402
from pipeline.evaluation.scoring import score_documents  # noqa: E402
from pipeline.events.verifier import fit_verifier, verify  # noqa: E402

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5)
SYNTHETIC = ["data/synthetic/articles.jsonl", "data/synthetic/pairs.jsonl"]


def by_tagger_score(docs, threshold):
    return [Document(d.id, d.text, [e for e in d.events if (e.trigger.score or 0) >= threshold], dict(d.meta))
            for d in docs]


def row(scores):
    t = scores["trigger"]
    return {"P": t["precision"], "R": t["recall"], "Tri-C": t["f1"], "Arg-C": scores["argument"]["f1"],
            "Arg-C+": scores["argument_attached"]["f1"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep")
    ap.add_argument("--synthetic", action="store_true", help="fit the verifier on the synthetic documents too")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    runs = sorted(collect(a.sweep), key=lambda r: r.fold)
    cfg = runs[0].config["data"]
    files = list(cfg["train"]) + ([cfg["dev"]] if cfg.get("dev") else [])
    folds = time_folds(load_gold(files), int(cfg["folds"]))
    synthetic = load_synthetic(SYNTHETIC) if a.synthetic else []
    variants: dict[str, list] = {}
    pooled: dict[str, tuple[list, list]] = {}
    for r in runs:
        by_id = gold_by_id(r.config)
        pred = list(read_events_jsonl(str(r.path / "heldout_predictions.jsonl")))
        gold = [by_id[d.id] for d in pred]
        verifier = fit_verifier(folds[r.fold].train + synthetic)
        cands = {"as tagged": pred}
        cands.update({f"verifier >= {t}": verify(pred, verifier, t) for t in THRESHOLDS})
        cands.update({f"tagger score >= {t}": by_tagger_score(pred, t) for t in (0.6, 0.8, 0.9)})
        for name, docs in cands.items():
            variants.setdefault(name, []).append(row(score_documents(gold, docs)))
            g, p = pooled.setdefault(name, ([], []))
            g.extend(gold)
            p.extend(docs)
        print(f"fold {r.fold} done", flush=True)
    out = {}
    print(f"\n{'variant':<22} " + " ".join(f"{k:>15}" for k in ("P", "R", "Tri-C", "Arg-C", "Arg-C+"))
          + "   pooled P / R / Tri-C / Arg-C / Arg-C+")
    for name, rows in variants.items():
        ms = {k: (statistics.mean(r[k] for r in rows), statistics.stdev(r[k] for r in rows)) for k in rows[0]}
        pool = row(score_documents(*pooled[name]))
        out[name] = {"mean_std": ms, "pooled": pool, "folds": rows}
        print(f"{name:<22} " + " ".join(f"{m:.3f} ± {s:.3f}" for m, s in ms.values()) + "   "
              + " / ".join(f"{v:.3f}" for v in pool.values()))
    if a.out:
        Path(a.out).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
