"""Reading gold corpora for a stage: files checked, splits kept apart, seeded subsets.

Example:
    >>> docs = load_gold(["data/gold/train.jsonl"])      # doctest: +SKIP
    >>> len(subsample(docs, 0.5, seed=1))                 # doctest: +SKIP
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Sequence

from pipeline.errors import ConfigError, CorpusError, MissingFileError
from pipeline.formats import read_corpus
from pipeline.schema import Document


def load_gold(paths: Sequence[str] | str) -> list[Document]:
    """Read and validate gold files (any supported format), in order.

    Raises:
        MissingFileError: a file does not exist (the working directory is named).
        CorpusError: a file breaks the contract (file, line and id named).
    """
    paths = [paths] if isinstance(paths, str) else list(paths)
    docs: list[Document] = []
    for p in paths:
        if not Path(p).is_file():
            raise MissingFileError(f"gold file {p!r} not found (working directory: {Path.cwd()}); "
                                   "run from the project root or set data.train / data.dev / gold")
        docs.extend(read_corpus(p))
    return docs


def check_disjoint(train: Sequence[Document], dev: Sequence[Document]) -> None:
    """No document may be in both splits.

    Raises:
        CorpusError: naming a few of the shared ids.
    """
    overlap = {d.id for d in train} & {d.id for d in dev}
    if overlap:
        raise CorpusError(f"{len(overlap)} document(s) are in both train and dev, e.g. "
                          f"{sorted(overlap)[:3]}; remove them from one split")


def subsample(docs: list[Document], fraction: float, seed: int) -> list[Document]:
    """A seeded share of the documents, keeping the share of positives (learning curves).

    Raises:
        ConfigError: ``fraction`` outside (0, 1].
    """
    if not 0 < fraction <= 1:
        raise ConfigError(f"data.fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return docs
    rng = random.Random(seed)
    pos = [d for d in docs if d.events]
    neg = [d for d in docs if not d.events]
    keep = rng.sample(pos, max(1, round(len(pos) * fraction))) + rng.sample(neg, round(len(neg) * fraction))
    return sorted(keep, key=lambda d: d.id)
