"""Cross-validation report of a train multirun: crossval.md, crossval.json, crossval_curves.png.

Usage:
    expel-train experiment=crossval [other overrides, sweeps allowed]
    python benchmarks/crossval_report.py outputs/train-multirun/<date> [--out DIR] [--articles] [--retag] [--baselines]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from pipeline.evaluation.crossval import DECODING_KEYS, current_decoding, write_crossval_report  # noqa: E402
from pipeline.errors import ExpelError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("multirun_dir", nargs="+", help="sweep folder(s) Hydra printed (outputs/train-multirun/<date>)")
    parser.add_argument("--out", default=None, help="output folder (default: the first sweep folder)")
    parser.add_argument("--articles", action="store_true",
                        help="also score each fold on its held-out items composed into articles (saved fold models)")
    parser.add_argument("--retag", action="store_true",
                        help="tag the held-out documents again with today's decoding settings "
                             f"({', '.join(DECODING_KEYS)}; saved fold models)")
    parser.add_argument("--baselines", action="store_true",
                        help="also run the lexicon rules and the feature tagger on the same folds")
    args = parser.parse_args(argv)
    command = "python benchmarks/crossval_report.py " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        md = write_crossval_report(args.multirun_dir, args.out, articles=args.articles,
                                   retag=current_decoding() if args.retag else None,
                                   baselines=args.baselines, command=command)
    except ExpelError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(md.read_text(encoding="utf-8"))
    print(f"written: {md}, {md.with_suffix('.html')}, {md.with_suffix('.json')}, {md.parent / 'estimate.json'} "
          f"and {md.parent / 'crossval_curves.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
