"""Which documents a person should annotate next (model-in-the-loop annotation).

Three kinds, mixed so that the sample is not all edge cases:

- **uncertain**: documents the tagger read where it is least sure: the least certain of
  its spans near the decision boundary (a span's score is the mean probability of its
  tags; ``1 - |2 * score - 1|`` is 1 at 0.5 and 0 at 0 or 1), and documents the filter
  let through in which the tagger found nothing (the two disagree), most
  filter-confident first;
- **confident**: documents with events whose least certain span is the most certain:
  quick to accept, and a check that confident predictions are right;
- **random**: a seeded sample of documents the filter turned away: where a filter miss
  would hide.

Example:
    >>> picked = select(candidates, n=40, uncertain_share=0.6, confident_share=0.2, seed=13)  # doctest: +SKIP
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from pipeline.schema import Document

BUCKETS = ("uncertain", "confident", "random")


@dataclass
class Candidate:
    """A document of the dump, as the filter and (when it passed) the tagger saw it."""

    doc: Document                  # with predicted events when tagged
    tagged: bool
    filter_score: float | None


def span_uncertainty(doc: Document) -> float | None:
    """``1 - |2 s - 1|`` of the least certain scored span, or None without scored spans."""
    scores = [s.score for e in doc.events for s in (e.trigger, *e.arguments) if s.score is not None]
    return max(1 - abs(2 * s - 1) for s in scores) if scores else None


@dataclass
class Pick:
    candidate: Candidate
    bucket: str
    uncertainty: float | None


def select(candidates: Sequence[Candidate], n: int, *, uncertain_share: float = 0.6,
           confident_share: float = 0.2, seed: int = 13) -> list[Pick]:
    """``n`` documents: the uncertain first, then confident positives, then random
    filter negatives; a bucket short of documents leaves its places to the others.

    Raises:
        ValueError: shares outside [0, 1] or adding up to more than 1.
    """
    if not (0 <= uncertain_share <= 1 and 0 <= confident_share <= 1 and uncertain_share + confident_share <= 1):
        raise ValueError(f"uncertain_share ({uncertain_share}) and confident_share ({confident_share}) must be "
                         "in [0, 1] and add up to at most 1 (the rest is random)")
    rng = random.Random(seed)
    with_events = [(c, span_uncertainty(c.doc)) for c in candidates if c.tagged and c.doc.events]
    empty = [c for c in candidates if c.tagged and not c.doc.events]
    # Uncertain: spans near the boundary, interleaved with filter-yes / tagger-no documents.
    by_span = sorted(with_events, key=lambda cu: -(cu[1] or 0))
    by_filter = sorted(empty, key=lambda c: -(c.filter_score or 0))
    uncertain: list[Pick] = []
    for i in range(max(len(by_span), len(by_filter))):
        if i < len(by_span):
            uncertain.append(Pick(by_span[i][0], "uncertain", by_span[i][1]))
        if i < len(by_filter):
            uncertain.append(Pick(by_filter[i], "uncertain", by_filter[i].filter_score))
    confident = [Pick(c, "confident", u) for c, u in sorted(with_events, key=lambda cu: cu[1] or 0)]
    untagged = [c for c in candidates if not c.tagged]
    rng.shuffle(untagged)
    random_picks = [Pick(c, "random", None) for c in untagged]

    want = {"uncertain": round(n * uncertain_share), "confident": round(n * confident_share)}
    want["random"] = n - want["uncertain"] - want["confident"]
    pools = {"uncertain": uncertain, "confident": confident, "random": random_picks}
    chosen: list[Pick] = []
    seen: set[str] = set()
    texts: set[str] = set()

    def take(bucket: str, k: int) -> int:
        got = 0
        for p in pools[bucket]:
            if got >= k:
                break
            if p.candidate.doc.id in seen or p.candidate.doc.text in texts:
                continue                          # a document once; the same story once
            seen.add(p.candidate.doc.id)
            texts.add(p.candidate.doc.text)
            chosen.append(p)
            got += 1
        return got

    short = 0
    for bucket in BUCKETS:
        short += want[bucket] - take(bucket, want[bucket])
    for bucket in BUCKETS:                         # what a bucket lacked, the others fill
        if short <= 0:
            break
        short -= take(bucket, short)
    return chosen
