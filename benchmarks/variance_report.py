"""Seed variance and learning curve of a train multirun: variance.md + learning_curve.png.

Usage:
    expel-train experiment=learning_curve        # or experiment=seeds
    python benchmarks/variance_report.py outputs/train-multirun/<date> [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from pipeline.evaluation.variance import write_variance_report  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("multirun_dir", help="the sweep folder Hydra printed (outputs/train-multirun/<date>)")
    parser.add_argument("--out", default=None, help="output folder (default: the sweep folder)")
    args = parser.parse_args(argv)
    try:
        md = write_variance_report(args.multirun_dir, args.out)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(md.read_text(encoding="utf-8"))
    print(f"written: {md} and {md.parent / 'learning_curve.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
