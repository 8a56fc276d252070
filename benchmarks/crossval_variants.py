"""Decoding-time variants on the same cross-validation folds, without retraining.

Each fold job of ``expel-train experiment=crossval`` keeps its model; this script loads
every fold's model, tags that fold's held-out documents again with tagger overrides, and
reports each variant beside the run as trained (mean ± std over folds, pooled, per role
and per trigger form; see ``pipeline/evaluation/crossval.py``).

Usage:
    python benchmarks/crossval_variants.py outputs/train-multirun/<time> \\
        tagger.consistency=true "tagger.reason=model" "tagger.consistency=true tagger.decoding=argmax"

Each argument after the folder is one variant: space-separated ``tagger.KEY=VALUE``
overrides.  Predictions go to ``<job>/retagged/<variant>/``, the report to ``<folder>/variants/`` (``crossval.md`` and ``.json``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.config import TaggerConfig  # noqa: E402
from pipeline.evaluation.crossval import FoldRun, collect, provenance, report_runs, retagged_run  # noqa: E402
from pipeline.errors import MissingFileError  # noqa: E402


def parse_variant(text: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in text.split():
        key, _, value = item.partition("=")
        name = key.removeprefix("tagger.")
        if name not in TaggerConfig.__dataclass_fields__:
            raise SystemExit(f"error: {key!r} is not a tagger setting ({', '.join(TaggerConfig.__dataclass_fields__)})")
        kind = type(getattr(TaggerConfig(), name))
        out[name] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return out


def rerun(run: FoldRun, name: str, changes: dict[str, object]) -> FoldRun:
    """The fold's held-out documents tagged again by its saved model with ``changes``."""
    try:
        return retagged_run(run, changes, name)
    except MissingFileError as e:
        raise SystemExit(f"error: {e}") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("multirun_dir")
    ap.add_argument("variants", nargs="+", help='e.g. "tagger.consistency=true"')
    a = ap.parse_args(argv)
    runs = collect(a.multirun_dir)
    all_runs = list(runs)
    for text in a.variants:
        changes = parse_variant(text)
        for r in runs:
            all_runs.append(rerun(r, text, changes))
            print(f"{text}: fold {r.fold} done", flush=True)
    out = Path(a.multirun_dir) / "variants"
    md = report_runs(all_runs, out, provenance=provenance(runs, "python benchmarks/crossval_variants.py "
                                                          + " ".join(a.variants), [a.multirun_dir]))
    print(md.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
