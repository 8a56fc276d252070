"""Link tit-for-tat expulsions: Y expels X's officials after X expelled Y's.

A record B (expeller Y, expelled X) *reciprocates* an earlier record A (expeller X,
expelled Y, or Y among A's ``expelled_countries``) when B's dates come at most
``window_days`` (default 30) after A's.  When B says so itself (``retaliation``: "in
response to", "tit-for-tat", "retaliation" in its REASON or its sentence) the search
reaches back ``explicit_window_days`` (default 90), since an announced answer may
come later than a spontaneous one.  Only records dated to the day (``day`` or
``report`` precision) link without such a statement; a coarse date ("July", "earlier
this year", "just months ago") may hide the order of the two acts.  Among candidates
the nearest in time wins (the latest on a tie), so a chain of answers links step by
step.  Same-day pairs ("Russia and Ukraine expel each other's diplomats") link the
later record, in visiting order, to the earlier one, never both ways.

Example:
    >>> link_reciprocal(records, window_days=30)   # doctest: +SKIP
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Sequence

from pipeline.records.dates import month_end, parse_iso
from pipeline.records.dedup import VAGUE_LOOKBACK_DAYS


def record_period(rec: dict[str, Any]) -> tuple[date, date] | None:
    """First and last day a record's expulsion may fall on, from date and precision."""
    start = parse_iso(rec.get("date"))
    if start is None:
        return None
    precision = rec.get("date_precision")
    if precision == "week":
        return start, start + timedelta(days=6)
    if precision == "month":
        return start, month_end(start)
    if precision == "year":
        return start, date(start.year, 12, 31)
    if precision == "vague":
        return start - timedelta(days=VAGUE_LOOKBACK_DAYS), start
    return start, start


def _answers(b: dict[str, Any], a: dict[str, Any]) -> bool:
    """B's expeller is among A's expelled and A's expeller is B's expelled."""
    if not b.get("expeller_country") or not a.get("expeller_country"):
        return False
    a_expelled = a.get("expelled_countries") or [a.get("expelled_country")]
    b_expelled = b.get("expelled_countries") or [b.get("expelled_country")]
    return b["expeller_country"] in a_expelled and a["expeller_country"] in b_expelled


_PRECISE = ("day", "report", None)
# The longest period a record may span (a year, or a vague date's look-back): a record
# that starts more than this before the answer's window cannot reach it.
_LONGEST = max(366, VAGUE_LOOKBACK_DAYS + 1)


def _gap_days(a: tuple[date, date], b: tuple[date, date]) -> int | None:
    """Days from A to B (0 when the periods overlap); None when A is wholly after B."""
    if a[0] > b[1]:
        return None
    return max(0, (b[0] - a[1]).days)


def find_counterpart(b: dict[str, Any], earlier: Sequence[dict[str, Any]],
                     periods: dict[str, tuple[date, date] | None], window_days: int,
                     explicit_window_days: int) -> dict[str, Any] | None:
    """The record that ``b`` answers, or None.

    Args:
        b: the possible answer.
        earlier: records visited before ``b`` whose expeller ``b`` expelled, oldest first.
        periods: record id -> :func:`record_period`.
        window_days, explicit_window_days: as in :func:`link_reciprocal`.
    """
    pb = periods[b["id"]]
    if pb is None:
        return None
    explicit = bool(b.get("retaliation"))
    limit = max(window_days, explicit_window_days) if explicit else window_days
    reach = pb[0] - timedelta(days=limit + _LONGEST)
    best, best_gap = None, None
    for a in reversed(earlier):  # newest first, so the latest wins a tie
        pa = periods[a["id"]]
        if pa is None:
            continue
        if pa[0] < reach:
            break
        gap = _gap_days(pa, pb)
        if gap is None or gap > limit or not _answers(b, a):
            continue
        if not explicit and not (a.get("date_precision") in _PRECISE
                                 and b.get("date_precision") in _PRECISE):
            continue
        if best_gap is None or gap < best_gap:
            best, best_gap = a, gap
    return best


def link_reciprocal(records: list[dict[str, Any]], window_days: int = 30,
                    explicit_window_days: int = 90) -> list[dict[str, Any]]:
    """Set ``reciprocates`` (the answered record's id, or None) on every record.

    Args:
        records: deduplicated records (``dedup.deduplicate``); changed in place.
        window_days: how long after X expels Y's officials an expulsion of X's by Y
            counts as the answer.
        explicit_window_days: the same for records that call themselves a response.

    Returns:
        The records, sorted by ``(date, id)``.

    Raises:
        ValueError: on a negative window.
    """
    if window_days < 0 or explicit_window_days < 0:
        raise ValueError(f"reciprocity windows must be >= 0 days, got {window_days} and "
                         f"{explicit_window_days}")
    periods = {r["id"]: record_period(r) for r in records}
    # Visit records by the first day they may fall on, so that a vaguely dated
    # expulsion ("just months ago", reported in October) comes before a July answer.
    ordered = sorted(records, key=lambda r: ((periods[r["id"]] or (date.max,))[0], r["id"]))
    by_expeller: dict[str, list[dict[str, Any]]] = {}  # earlier records, oldest first
    for b in ordered:
        targets = dict.fromkeys(b.get("expelled_countries") or [b.get("expelled_country")])
        found = [a for code in targets if code and (a := find_counterpart(
            b, by_expeller.get(code, []), periods, window_days, explicit_window_days))]
        # Answering several countries: the nearest of their records, the latest on a tie.
        pb = periods[b["id"]]
        best = min(found, key=lambda a: (_gap_days(periods[a["id"]], pb),
                                         -periods[a["id"]][0].toordinal()), default=None)
        b["reciprocates"] = best["id"] if best else None
        if b.get("expeller_country"):
            by_expeller.setdefault(b["expeller_country"], []).append(b)
    return sorted(records, key=lambda r: (r.get("date") or "9999", r["id"]))

