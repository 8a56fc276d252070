"""Reading gold corpora for a stage: files checked, splits kept apart, seeded subsets.

Example:
    >>> docs = load_gold(["data/gold/train.jsonl"])      # doctest: +SKIP
    >>> len(subsample(docs, 0.5, seed=1))                 # doctest: +SKIP
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

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


def load_synthetic(paths: Sequence[str] | str) -> list[Document]:
    """Read the synthetic training documents (``data.synthetic``).

    Raises:
        MissingFileError: a file does not exist.
        CorpusError: a document is not marked ``"synthetic": true`` (synthetic text must
            never pass for gold), or a file breaks the contract.
    """
    docs = load_gold(paths)
    unmarked = [d.id for d in docs if d.meta.get("synthetic") is not True]
    if unmarked:
        raise CorpusError(f"{len(unmarked)} document(s) of data.synthetic are not marked \"synthetic\": true, "
                          f"e.g. {unmarked[:3]}; only text the project wrote itself goes there, marked")
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


@dataclass
class Fold:
    """One fold of time-blocked cross-validation: a contiguous block of years held out."""

    index: int
    years: tuple[str, str]           # first and last year held out
    train: list[Document]
    heldout: list[Document]

    def describe(self) -> dict[str, Any]:
        return {"fold": self.index, "years": list(self.years), "train_docs": len(self.train),
                "heldout_docs": len(self.heldout),
                "heldout_events": sum(len(d.events) for d in self.heldout),
                "train_events": sum(len(d.events) for d in self.train)}


def year_blocks(docs: Sequence[Document], k: int) -> list[tuple[str, str]]:
    """``k`` contiguous blocks of years, cut where the running count of events comes
    closest to each ``i/k`` of the total (so every block holds about as many events).

    Raises:
        CorpusError: a document without a date, or fewer distinct years than ``k``.
    """
    undated = [d.id for d in docs if not d.date]
    if undated:
        raise CorpusError(f"time-blocked cross-validation needs a date on every document; "
                          f"{len(undated)} have none, e.g. {undated[:3]}")
    per_year: dict[str, int] = {}
    for d in docs:
        per_year[str(d.date)[:4]] = per_year.get(str(d.date)[:4], 0) + len(d.events)
    years = sorted(per_year)
    if len(years) < k:
        raise CorpusError(f"{k} folds need at least {k} distinct years; the corpus has {len(years)}")
    total = sum(per_year.values())
    cum, running = [], 0
    for y in years:
        running += per_year[y]
        cum.append(running)
    cuts: list[int] = []                 # index of the last year of each block but the last
    for i in range(1, k):
        lo = (cuts[-1] + 1) if cuts else 0
        hi = len(years) - (k - i) - 1    # leave a year for each later block
        best = min(range(lo, hi + 1), key=lambda j: (abs(cum[j] - total * i / k), j))
        cuts.append(best)
    starts = [0] + [c + 1 for c in cuts]
    ends = cuts + [len(years) - 1]
    return [(years[s], years[e]) for s, e in zip(starts, ends)]


def time_folds(docs: Sequence[Document], k: int) -> list[Fold]:
    """The ``k`` folds of :func:`year_blocks`, in time order.

    Example:
        >>> folds = time_folds(load_gold(["data/gold/train.jsonl", "data/gold/dev.jsonl"]), 5)  # doctest: +SKIP
        >>> [f.years for f in folds]                                                          # doctest: +SKIP
    """
    if k < 2:
        raise ConfigError(f"data.folds must be 0 (no cross-validation) or at least 2, got {k}")
    out = []
    for i, (first, last) in enumerate(year_blocks(docs, k)):
        held = [d for d in docs if first <= str(d.date)[:4] <= last]
        rest = [d for d in docs if not first <= str(d.date)[:4] <= last]
        out.append(Fold(i, (first, last), rest, held))
    return out


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


@dataclass
class Split:
    """What a training run learns from and what it is scored on.

    ``heldout`` is None when nothing is held out (the shipped model learns from all gold);
    ``kind`` says which: ``"dev"`` (data.dev), ``"fold"`` (cross-validation) or None.
    """

    train: list[Document]
    heldout: list[Document] | None
    kind: str | None
    fold: Fold | None = None
    synthetic: list[Document] = field(default_factory=list)   # training only, never scored

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "train_docs": len(self.train),
                               "train_events": sum(len(d.events) for d in self.train),
                               "synthetic_docs": len(self.synthetic),
                               "heldout_docs": len(self.heldout) if self.heldout is not None else 0}
        if self.fold is not None:
            out.update(self.fold.describe())
        return out


def load_split(data, seed: int) -> Split:
    """The training documents and the held-out ones for a ``data`` config
    (:class:`pipeline.config.DataConfig`).

    - ``data.folds >= 2``: all of ``data.train`` (and ``data.dev``) cut into time blocks;
      fold ``data.fold`` is held out;
    - else ``data.dev`` (when set) is held out;
    - ``data.fraction`` subsamples the training side (learning curves);
    - ``data.synthetic`` documents are kept apart (``Split.synthetic``): trained on, in
      every fold, never held out or scored.

    Raises:
        MissingFileError, CorpusError: a file is missing or broken, a document is in both
            splits, or (folds) a document has no date.
        ConfigError: a fold number outside ``0 .. folds - 1``.
    """
    train = load_gold(data.train)
    dev = load_gold(data.dev) if data.dev else None
    synthetic = load_synthetic(data.synthetic) if data.synthetic else []
    if dev is not None:
        check_disjoint(train, dev)
    check_disjoint(train + (dev or []), synthetic)
    if data.folds:
        if not 0 <= data.fold < data.folds:
            raise ConfigError(f"data.fold={data.fold} is not one of 0 .. {data.folds - 1} (data.folds={data.folds})")
        fold = time_folds(train + (dev or []), data.folds)[data.fold]
        return Split(subsample(fold.train, data.fraction, seed), fold.heldout, "fold", fold, synthetic)
    return Split(subsample(train, data.fraction, seed), dev, "dev" if dev is not None else None,
                 synthetic=synthetic)
