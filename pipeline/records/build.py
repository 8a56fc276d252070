"""The one entry point: documents -> normalised mentions -> records -> reciprocity.

Example:
    >>> records = build_records(read_events_jsonl("predictions.jsonl"), window_days=7)  # doctest: +SKIP
    >>> write_records(records, "outputs/records")                                      # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Iterable

from pipeline.records.dedup import deduplicate, mentions_from_documents
from pipeline.records.normalise import normalise_document
from pipeline.records.reciprocity import link_reciprocal
from pipeline.schema import Document, closest


@dataclass(frozen=True)
class RecordsConfig:
    """Settings of :func:`build_records` (all windows in days)."""

    window_days: int = 7                  # reports of one pair this close are one expulsion
    reciprocity_days: int = 30            # an answer comes at most this long after
    explicit_reciprocity_days: int = 90   # ... or this long when it says it is an answer

    @classmethod
    def from_kwargs(cls, **cfg: Any) -> "RecordsConfig":
        """Build from keyword arguments, naming the closest key for a misspelt one.

        Raises:
            TypeError: on an unknown key.
            ValueError: on a window that is not a non-negative integer.
        """
        names = [f.name for f in fields(cls)]
        for key in cfg:
            if key not in names:
                raise TypeError(f"unknown records setting {key!r}; valid settings are "
                                f"{', '.join(names)}." + closest(key, names))
        for key, value in cfg.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"records setting {key} must be a whole number of days >= 0, "
                                 f"got {value!r}")
        return cls(**cfg)


def build_records(docs: Iterable[Document], **cfg: Any) -> list[dict[str, Any]]:
    """Turn predicted (or gold) documents into deduplicated, linked expulsion records.

    Normalises every event in place (``event.extra`` gains the fields of
    ``pipeline.records.normalise``), merges mentions of the same expulsion
    (``pipeline.records.dedup``) and links answers to the expulsions they answer
    (``pipeline.records.reciprocity``).

    Args:
        docs: documents with events; each should carry its ``date`` (``YYYY-MM-DD``).
        **cfg: :class:`RecordsConfig` settings: ``window_days`` (7),
            ``reciprocity_days`` (30), ``explicit_reciprocity_days`` (90).

    Returns:
        Records sorted by ``(date, id)``, each a JSON-ready dict.

    Raises:
        TypeError: on an unknown setting (with the closest valid name).
    """
    config = RecordsConfig.from_kwargs(**cfg)
    docs = [normalise_document(d) for d in docs]
    records = deduplicate(mentions_from_documents(docs), window_days=config.window_days)
    return link_reciprocal(records, window_days=config.reciprocity_days,
                           explicit_window_days=config.explicit_reciprocity_days)

