"""Merge mentions of the same expulsion, within a document and across a dump.

A *mention* is one (expeller, expelled) pair of one normalised event of one document
(:func:`mentions_from_event`).
Mentions become one *record* when they name the same expeller and the same expelled
country and their dates fall within ``window_days`` (default 7) of the record's
earliest date.  The date of a mention is its TIME (``time_date``) or else the
document date.

Three passes, each deterministic (mentions are taken in ``(date, doc id, trigger
offset)`` order):

1. *Dated* mentions (a day-precise TIME, or no TIME and the document date) with both
   countries known are clustered per (expeller, expelled) pair.
2. *Coarse* mentions ("earlier this year", "last month", or a TIME too vague to
   place) join the one cluster of their pair whose dates meet their period; with no
   such cluster, or several, they start their own record rather than guess.
3. *Incomplete* mentions (a country unknown: "the decision to remove the alleged
   spies", a bare "the expulsion") join, within their own document, the compatible
   cluster whose mention is nearest in the text, preferring one before them;
   otherwise they make a record of their own.  They are never merged across
   documents: without both countries there is no evidence that two reports agree.

Example:
    >>> records = deduplicate(mentions, window_days=7)   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable, Sequence

from pipeline.records.dates import month_end, parse_iso
from pipeline.schema import Document

# How far back an unplaceable TIME ("recently", "just months ago") may reach.
VAGUE_LOOKBACK_DAYS = 365
# "two more Libyan diplomats", "another diplomat": a new act, not a report of an
# earlier one of the same pair.
_ADDITIONAL = re.compile(r"\b(?:another|further|additional|(?<!no )more(?! than))\b", re.I)


@dataclass
class Mention:
    """One normalised event mention with what dedup and records need."""

    doc_id: str
    doc_date: date | None
    trigger: dict[str, Any]  # {"start", "end", "text"}
    fields: dict[str, Any]  # normalise_event's output
    texts: dict[str, list[str]] = field(default_factory=dict)  # role -> span texts

    @property
    def pair(self) -> tuple[str | None, tuple[str, ...]]:
        """(expeller code, expelled codes); several expelled codes stay one group."""
        return self.fields.get("expeller_country"), tuple(self.fields.get("expelled_countries") or ())

    @property
    def complete(self) -> bool:
        expeller, expelled = self.pair
        return expeller is not None and bool(expelled)

    def period(self) -> tuple[date | None, date | None]:
        """First and last day the mention's expulsion may fall on."""
        start, precision = parse_iso(self.fields.get("time_date")), self.fields.get("time_precision")
        if start is None:
            if precision == "vague" and self.doc_date:
                return self.doc_date - timedelta(days=VAGUE_LOOKBACK_DAYS), self.doc_date
            return self.doc_date, self.doc_date
        end = {"day": start, "week": start + timedelta(days=6), "month": month_end(start),
               "year": date(start.year, 12, 31)}.get(precision, start)
        if self.doc_date and precision in ("week", "month", "year"):
            end = min(end, max(self.doc_date, start))  # "earlier this year" ends at the report
        return start, end

    @property
    def coarse(self) -> bool:
        start, end = self.period()
        return start != end

    @property
    def additional(self) -> bool:
        return any(_ADDITIONAL.search(t) for t in self.texts.get("EXPELLED", []))

    def sort_key(self) -> tuple:
        start, _ = self.period()
        return (start or date.max, self.doc_id, self.trigger["start"])

    def provenance(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "trigger": dict(self.trigger)}


_PAIR_KEYS = ("expeller_country", "expelled_country", "expelled_countries", "count",
              "count_min", "count_max")


def mentions_from_event(doc: Document, event) -> list[Mention]:
    """One :class:`Mention` per (expeller, expelled) pair of a normalised event.

    "Belgium, the Netherlands, Ireland and the Czech Republic expel Russian
    diplomats" is four expulsions, each with the same trigger as provenance.
    """
    texts: dict[str, list[str]] = {}
    for a in event.arguments:
        texts.setdefault(a.label, []).append(a.text)
    t = event.trigger
    pairs = event.extra.get("pairs") or [{k: event.extra.get(k) for k in _PAIR_KEYS}]
    out = []
    for pair in pairs:
        # A pair keeps only its own EXPELLER/EXPELLED texts ("15 Dutch diplomats" is
        # not evidence for the Belgian record of the same sentence).
        own = {**texts, "EXPELLER": pair.get("expeller_texts", texts.get("EXPELLER", [])),
               "EXPELLED": pair.get("expelled_texts", texts.get("EXPELLED", []))}
        fields = {k: v for k, v in {**event.extra, **pair}.items() if not k.endswith("_texts")}
        out.append(Mention(doc_id=doc.id, doc_date=parse_iso(doc.date),
                           trigger={"start": t.start, "end": t.end, "text": t.text},
                           fields=fields, texts=own))
    return out


def mentions_from_documents(docs: Iterable[Document]) -> list[Mention]:
    """Every pair of every event of every document (documents must be normalised)."""
    return [m for d in docs for ev in d.events for m in mentions_from_event(d, ev)]


# ---------------------------------------------------------------- clustering

def _within(a: date | None, b: date | None, days: int) -> bool:
    return a is not None and b is not None and abs((a - b).days) <= days


def _counts_agree(m: Mention, c: Sequence[Mention]) -> bool:
    n = m.fields.get("count")
    return n is None or all(o.fields.get("count") in (None, n) for o in c)


def _cluster_dated(mentions: Sequence[Mention], window_days: int) -> list[list[Mention]]:
    """Pass 1: per pair, a mention joins the open cluster whose first date is near.

    Among several, the latest one whose stated counts agree with the mention's; a
    mention that says it is a further act ("two more diplomats") opens its own.
    """
    clusters: list[list[Mention]] = []
    open_by_pair: dict[tuple, list[list[Mention]]] = {}
    for m in sorted(mentions, key=Mention.sort_key):
        start = m.period()[0]
        candidates = [] if m.additional else [
            c for c in open_by_pair.get(m.pair, []) if _within(start, c[0].period()[0], window_days)]
        agreeing = [c for c in candidates if _counts_agree(m, c)]
        if candidates:
            (agreeing or candidates)[-1].append(m)
        else:
            clusters.append([m])
            open_by_pair.setdefault(m.pair, []).append(clusters[-1])
    return clusters


def _cluster_span(cluster: Sequence[Mention]) -> tuple[date, date]:
    starts = [m.period()[0] for m in cluster if m.period()[0]]
    return min(starts), max(starts)


def _attach_coarse(clusters: list[list[Mention]], coarse: Sequence[Mention], window_days: int) -> None:
    """Pass 2: a coarse mention joins the single cluster of its pair it overlaps."""
    pad = timedelta(days=window_days)
    by_pair: dict[tuple, list[list[Mention]]] = {}
    for c in clusters:
        by_pair.setdefault(c[0].pair, []).append(c)
    for m in sorted(coarse, key=Mention.sort_key):
        start, end = m.period()
        hits = []
        for c in by_pair.get(m.pair, []):
            if start is None or c[0].period()[0] is None:
                continue
            lo, hi = _cluster_span(c)
            if lo <= end + pad and hi >= start - pad:
                hits.append(c)
        if len(hits) == 1:
            hits[0].append(m)
        else:
            clusters.append([m])
            by_pair.setdefault(m.pair, []).append(clusters[-1])


def _compatible(m: Mention, c: Sequence[Mention]) -> bool:
    """Known sides agree: same expeller, same expelled group (unknown matches any)."""
    expeller, expelled = m.pair
    for other_expeller, other_expelled in {o.pair for o in c}:
        if expeller and other_expeller and expeller != other_expeller:
            return False
        if expelled and other_expelled and set(expelled) != set(other_expelled):
            return False
    return True


def _text_distance(m: Mention, c: Sequence[Mention]) -> tuple[int, int] | None:
    """(0 if a mention of ``c`` precedes ``m`` else 1, character distance), same doc only."""
    same = [o for o in c if o.doc_id == m.doc_id and o is not m]
    if not same:
        return None
    best = None
    for o in same:
        before = o.trigger["start"] < m.trigger["start"]
        key = (0 if before else 1, abs(o.trigger["start"] - m.trigger["start"]))
        best = key if best is None or key < best else best
    return best


def _attach_incomplete(clusters: list[list[Mention]], incomplete: Sequence[Mention]) -> None:
    """Pass 3: within its document, an incomplete mention joins the nearest compatible record."""
    by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(clusters):
        for doc_id in {o.doc_id for o in c}:
            by_doc.setdefault(doc_id, []).append(i)
    for m in sorted(incomplete, key=lambda x: (x.doc_id, x.trigger["start"])):
        scored = [(d, i) for i in by_doc.get(m.doc_id, [])
                  if _compatible(m, clusters[i]) and (d := _text_distance(m, clusters[i])) is not None]
        if scored:
            clusters[min(scored)[1]].append(m)
        else:
            clusters.append([m])
            by_doc.setdefault(m.doc_id, []).append(len(clusters) - 1)


def share_document_time(mentions: Sequence[Mention]) -> None:
    """Give TIME-less mentions the TIME of their document's other mentions of the pair.

    In an article, "the Biden administration expelled 10 Russian diplomats just
    months ago ... the decision to remove Russian officials" are one act; the second
    mention has no TIME, and the report date would misdate it.  Only when the
    document gives that pair exactly one TIME.
    """
    groups: dict[tuple, list[Mention]] = {}
    for m in mentions:
        if m.complete:
            groups.setdefault((m.doc_id, m.pair), []).append(m)
    for ms in groups.values():
        times = {(m.fields.get("time_date"), m.fields["time_precision"])
                 for m in ms if m.fields.get("time_precision")}
        if len(times) != 1:
            continue
        time_date, precision = times.pop()
        for m in ms:
            if not m.fields.get("time_precision"):
                m.fields.update(time_date=time_date, time_precision=precision)


def cluster_mentions(mentions: Sequence[Mention], window_days: int = 7) -> list[list[Mention]]:
    """Group mentions of the same expulsion (the three passes of the module docstring)."""
    share_document_time(mentions)
    complete = [m for m in mentions if m.complete]
    clusters = _cluster_dated([m for m in complete if not m.coarse], window_days)
    _attach_coarse(clusters, [m for m in complete if m.coarse], window_days)
    _attach_incomplete(clusters, [m for m in mentions if not m.complete])
    return clusters


# ---------------------------------------------------------------- records

def _merge_count(ms: Sequence[Mention]) -> dict[str, int | None]:
    """The largest stated number wins; else the tightest bounds the mentions agree on."""
    exact = [m.fields["count"] for m in ms if m.fields.get("count") is not None]
    if exact:
        return {"count": max(exact), "count_min": max(exact), "count_max": max(exact)}
    mins = [m.fields["count_min"] for m in ms if m.fields.get("count_min") is not None]
    maxs = [m.fields["count_max"] for m in ms if m.fields.get("count_max") is not None]
    lo, hi = (max(mins) if mins else None), (min(maxs) if maxs else None)
    if lo is not None and hi is not None and hi < lo:
        hi = None  # the reports disagree; keep the lower bound only
    return {"count": None, "count_min": lo, "count_max": hi}


def _first(ms: Sequence[Mention], key: str) -> Any:
    return next((m.fields[key] for m in ms if m.fields.get(key) is not None), None)


def _distinct(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v is not None and v not in out:
            out.append(v)
    return out


def record_id(expeller: str | None, expelled: Sequence[str], day: date | None, first: Mention) -> str:
    """Deterministic id: pair, date and a hash of the earliest mention and its pair.

    ``RUS-EST+LVA+LTU-2022-03-29-1a2b3c4d``; ``UNK`` for an unknown side.  It does not
    change when later reports of the same expulsion join the record.
    """
    expelled_part = "+".join(expelled) or "UNK"
    key = f"{first.doc_id}:{first.trigger['start']}:{first.trigger['end']}:{expeller}:{expelled_part}"
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return f"{expeller or 'UNK'}-{expelled_part}-{day.isoformat() if day else 'nodate'}-{digest}"


def _date_of(ms: Sequence[Mention]) -> tuple[date | None, str | None]:
    """The record's date and its precision.

    A mention without TIME only says "on or before the report"; when the same
    document gives the record a TIME ("just months ago", "July"), that TIME is the
    better evidence and the report date is ignored.  Then: the earliest day-precise
    date (``day`` from a TIME, ``report`` from a document date); else the earliest
    coarse TIME (``week``, ``month``, ``year``); else, when every TIME was too vague
    to place, the earliest document date (``vague``: some time before that day).
    """
    timed_docs = {m.doc_id for m in ms if m.fields.get("time_precision")}
    usable = [m for m in ms if m.fields.get("time_precision") or m.doc_id not in timed_docs]
    dated = [m for m in usable if not m.coarse and m.period()[0]]
    if dated:
        best = min(dated, key=Mention.sort_key)
        return best.period()[0], "day" if best.fields.get("time_date") else "report"
    placed = [m for m in usable if m.fields.get("time_date")]
    if placed:
        best = min(placed, key=Mention.sort_key)
        return best.period()[0], best.fields.get("time_precision")
    reported = [m.doc_date for m in ms if m.doc_date]
    return (min(reported), "vague") if reported else (None, None)


def make_record(cluster: Sequence[Mention]) -> dict[str, Any]:
    """One record from a cluster: merged fields plus provenance of every mention."""
    ms = sorted(cluster, key=Mention.sort_key)
    expeller = _first(ms, "expeller_country")
    expelled_all = next((list(m.pair[1]) for m in ms if m.pair[1]), [])
    expelled = expelled_all[0] if len(expelled_all) == 1 else None
    day, precision = _date_of(ms)
    cameos = _distinct(m.fields.get("cameo") for m in ms)
    cameo = max(cameos, key=len) if cameos else "166"  # the most specific 166x code
    reported = sorted(m.doc_date for m in ms if m.doc_date)
    deadlines = sorted(_distinct(m.fields.get("deadline_date") for m in ms))
    rec: dict[str, Any] = {
        "id": record_id(expeller, expelled_all, day, ms[0]),
        "date": day.isoformat() if day else None,
        "date_precision": precision,
        "expeller_country": expeller,
        "expelled_country": expelled,
        "expelled_countries": expelled_all,
        **_merge_count(ms),
        "deadline_date": deadlines[0] if deadlines else None,
        "cameo": cameo,
        "plover": _first(ms, "plover") or "SANCTION",
        "plover_mode": _first(ms, "plover_mode") or "expel",
        "retaliation": any(m.fields.get("retaliation") for m in ms),
        "reciprocates": None,
        "first_reported": reported[0].isoformat() if reported else None,
        "last_reported": reported[-1].isoformat() if reported else None,
        "n_mentions": len(ms),
        "n_documents": len({m.doc_id for m in ms}),
        "expeller_texts": _distinct(t for m in ms for t in m.texts.get("EXPELLER", [])),
        "expelled_texts": _distinct(t for m in ms for t in m.texts.get("EXPELLED", [])),
        "reason_texts": _distinct(t for m in ms for t in m.texts.get("REASON", [])),
        "mentions": [m.provenance() for m in ms],
    }
    return rec


def deduplicate(mentions: Sequence[Mention], window_days: int = 7) -> list[dict[str, Any]]:
    """Records from mentions, sorted by ``(date, id)``.

    Args:
        mentions: normalised mentions (:func:`mentions_from_documents`).
        window_days: how far apart (days) two dated reports of one pair may be and
            still be the same expulsion.

    Returns:
        One dict per expulsion with merged fields (largest stated count, earliest
        date and deadline, most specific CAMEO code) and ``mentions`` provenance.

    Raises:
        ValueError: on a negative window.
    """
    if window_days < 0:
        raise ValueError(f"window_days must be >= 0 days, got {window_days}")
    records = [make_record(c) for c in cluster_mentions(mentions, window_days)]
    return sorted(records, key=lambda r: (r["date"] or "9999", r["id"]))
