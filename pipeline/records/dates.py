"""Resolve TIME and DEADLINE phrases against the document date (stdlib only).

A TIME phrase resolves to a :class:`Period`: the first day it can mean, the last, and
its precision (``day``, ``week``, ``month``, ``year``).  Records keep the first day
and the precision, the convention of event datasets that code partly known dates
(ACLED's ``time_precision``): "July" in a document of 2021-10-06 is 2021-07-01 with
precision ``month``.  TIME looks back (the most recent July not after the document
date); DEADLINE looks forward (the next October 31 on or after it) and is always a
day.  Phrases too vague to place ("recently", "just months ago", "a day before",
relative to another event) resolve to None.

Example:
    >>> resolve_date("July", "2021-10-06"), resolve_deadline("72 hours", "2021-10-06")
    ('2021-07-01', '2021-10-09')
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
                 "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty-eight": 48,
                 "seventy-two": 72, "twenty-four": 24}
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_MONTH_RE = rf"(?P<month>{_MONTH_NAMES})\.?"
_DAY_RE = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR_RE = r"(?P<year>(?:1[89]|20)\d\d)"
# Leading words that a span should not hold but a prediction sometimes does.
_LEAD = re.compile(r"^(?:on|in|by|before|until|till|no later than|within|at|during|the)\s+", re.I)


@dataclass(frozen=True)
class Period:
    """Days ``[start, end]`` a phrase can mean, and how precisely."""

    start: date
    end: date
    precision: str  # day, week, month or year


def document_date(value: Any) -> str | None:
    """A document's publication date as ``YYYY-MM-DD``, from the forms news data uses:
    an ISO date, an ISO datetime with or without a zone ("2023-03-01T10:00:00+02:00",
    "2023-03-01 10:00:00Z"), RFC 2822 as in RSS and e-mail ("Wed, 01 Mar 2023 10:00:00
    +0000"), "March 1, 2023" / "1 March 2023", or a ``datetime.date``.  The day is the
    one written (the writer's local day), not converted to UTC.  None for an empty value.

    Raises:
        ValueError: a value that is not one of these forms, or not a real day
            ("2023-13-45"; "03/01/2023", which reads as March 1 in the US and 3 January
            elsewhere), with the forms it accepts.

    Example:
        >>> document_date("Wed, 01 Mar 2023 23:30:00 -0500"), document_date("2023-03-01T10:00:00Z")
        ('2023-03-01', '2023-03-01')
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"a date must be text, got {type(value).__name__} {value!r}; {DATE_FORMS}")
    text = value.strip()
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
                     r"\s*(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)?)?", text, re.IGNORECASE)
    if m:
        d = _day_or_none(int(m[1]), int(m[2]), int(m[3]))
        if d is None:
            raise ValueError(f"{value!r} is not a real day; {DATE_FORMS}")
        return d.isoformat()
    if re.search(r"\d{1,2}:\d{2}", text) and re.match(r"(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}", text):
        from email.utils import parsedate_to_datetime

        try:
            return parsedate_to_datetime(text).date().isoformat()
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"{value!r} is not a readable RFC 2822 date; {DATE_FORMS}") from None
    d = _full_date(re.sub(r"\s+", " ", text.rstrip(".")).lower())
    if d is not None:
        return d.isoformat()
    raise ValueError(f"cannot read the date {value!r}; {DATE_FORMS}")


DATE_FORMS = ("use YYYY-MM-DD (an ISO datetime such as 2023-03-01T10:00:00+02:00 and RFC 2822 "
              "such as 'Wed, 01 Mar 2023 10:00:00 +0000' are read too)")


def parse_iso(day: str | None) -> date | None:
    """``YYYY-MM-DD`` (a longer ISO timestamp is cut to its date) -> date, else None."""
    if not day or not isinstance(day, str):
        return None
    try:
        return date.fromisoformat(day[:10])
    except ValueError:
        return None


def month_end(d: date) -> date:
    """The last day of ``d``'s month."""
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def add_months(d: date, n: int) -> date:
    """``d`` moved by ``n`` months, the day clipped to the month's length."""
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _strip(text: str) -> str:
    text = re.sub(r"\s+", " ", text.strip().strip(".,;:")).lower()
    while True:
        shorter = _LEAD.sub("", text)
        if shorter == text:
            return text
        text = shorter


def _day_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _full_date(t: str) -> date | None:
    """ISO, "July 5, 2021", "5 July 2021"."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", t)
    if m:
        return _day_or_none(int(m[1]), int(m[2]), int(m[3]))
    for pat in (rf"{_MONTH_RE} {_DAY_RE},? {_YEAR_RE}", rf"{_DAY_RE} {_MONTH_RE},? {_YEAR_RE}"):
        m = re.fullmatch(pat, t)
        if m:
            return _day_or_none(int(m["year"]), MONTHS[m["month"]], int(m["day"]))
    return None


def _month_day(t: str) -> tuple[int, int] | None:
    """ "October 31", "31 October", "Oct. 31st" -> (month, day)."""
    for pat in (rf"{_MONTH_RE} {_DAY_RE}", rf"{_DAY_RE} (?:of )?{_MONTH_RE}"):
        m = re.fullmatch(pat, t)
        if m:
            return MONTHS[m["month"]], int(m["day"])
    return None


def _amount(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def _past_month_day(month: int, day: int, ref: date) -> date | None:
    d = _day_or_none(ref.year, month, day)
    if d is not None and d > ref:
        d = _day_or_none(ref.year - 1, month, day)
    return d


def _relative_past(t: str, ref: date) -> Period | None:
    """yesterday, last week, earlier this month, two weeks ago ..."""
    monday = ref - timedelta(days=ref.weekday())
    first = ref.replace(day=1)
    fixed = {
        "today": Period(ref, ref, "day"), "earlier today": Period(ref, ref, "day"),
        "this morning": Period(ref, ref, "day"), "tonight": Period(ref, ref, "day"),
        "yesterday": Period(ref - timedelta(1), ref - timedelta(1), "day"),
        "day before yesterday": Period(ref - timedelta(2), ref - timedelta(2), "day"),
        "this week": Period(monday, ref, "week"), "earlier this week": Period(monday, ref, "week"),
        "last week": Period(monday - timedelta(7), monday - timedelta(1), "week"),
        "this month": Period(first, ref, "month"), "earlier this month": Period(first, ref, "month"),
        "last month": Period(add_months(first, -1), first - timedelta(1), "month"),
        "this year": Period(date(ref.year, 1, 1), ref, "year"),
        "earlier this year": Period(date(ref.year, 1, 1), ref, "year"),
        "last year": Period(date(ref.year - 1, 1, 1), date(ref.year - 1, 12, 31), "year"),
    }
    if t in fixed:
        return fixed[t]
    m = re.fullmatch(r"(\w+(?:-\w+)?) (day|week|month|year)s? ago", t)
    if m and _amount(m[1]) is not None:
        n, unit = _amount(m[1]), m[2]
        if unit == "day":
            d = ref - timedelta(days=n)
            return Period(d, d, "day")
        if unit == "week":
            d = ref - timedelta(weeks=n)
            return Period(d - timedelta(d.weekday()), d - timedelta(d.weekday()) + timedelta(6), "week")
        if unit == "month":
            d = add_months(ref, -n).replace(day=1)
            return Period(d, month_end(d), "month")
        return Period(date(ref.year - n, 1, 1), date(ref.year - n, 12, 31), "year")
    return None


def resolve_period(text: str | None, doc_date: str | None) -> Period | None:
    """The period a TIME phrase names, looking back from the document date.

    Args:
        text: the TIME span ("July", "last week", "Monday", "March 2018", "2006").
        doc_date: the document date, ``YYYY-MM-DD``; phrases that need it resolve to
            None without it.

    Returns:
        A :class:`Period`, or None when the phrase cannot be placed.
    """
    if not text:
        return None
    t, ref = _strip(text), parse_iso(doc_date)
    d = _full_date(t)
    if d is not None:
        return Period(d, d, "day")
    m = re.fullmatch(rf"{_MONTH_RE},? {_YEAR_RE}", t)
    if m:
        start = date(int(m["year"]), MONTHS[m["month"]], 1)
        return Period(start, month_end(start), "month")
    if re.fullmatch(_YEAR_RE, t):
        return Period(date(int(t), 1, 1), date(int(t), 12, 31), "year")
    if ref is None:
        return None
    md = _month_day(t)
    if md:
        d = _past_month_day(*md, ref)
        return Period(d, d, "day") if d else None
    m = re.fullmatch(rf"(?:(?P<last>last|this|earlier in|early|late|mid|mid-) ?)?{_MONTH_RE}", t)
    if m:
        month = MONTHS[m["month"]]
        year = ref.year if month <= ref.month else ref.year - 1
        if m["last"] == "last" and month == ref.month:
            year -= 1
        start = date(year, month, 1)
        return Period(start, month_end(start), "month")
    m = re.fullmatch(r"(?:(last|this|on|past) )?(\w+?)s?", t)
    if m and m[2] in WEEKDAYS:
        back = (ref.weekday() - WEEKDAYS[m[2]]) % 7
        if m[1] == "last" and back == 0:
            back = 7
        d = ref - timedelta(days=back)
        return Period(d, d, "day")
    return _relative_past(t, ref)


def resolve_date(text: str | None, doc_date: str | None) -> str | None:
    """The first day a TIME phrase can mean, ``YYYY-MM-DD``, or None.

    "July" -> the most recent July not after the document date (its first day);
    "Monday" -> the most recent Monday on or before it; "last week" -> Monday of the
    previous week; "2006" -> 2006-01-01.  :func:`resolve_period` gives the precision.

    Example:
        >>> resolve_date("earlier this month", "2021-10-06")
        '2021-10-01'
    """
    p = resolve_period(text, doc_date)
    return p.start.isoformat() if p else None


_DURATION = re.compile(r"(?:within |in )?(?P<n>[\w-]+) (?P<unit>hour|day|week|fortnight|month)s?")
_END_OF = re.compile(rf"end of (?:the |this )?(?P<what>week|month|year|{_MONTH_NAMES})")


def _duration_deadline(t: str, ref: date) -> date | None:
    if t in ("a fortnight", "fortnight"):
        return ref + timedelta(days=14)
    m = _DURATION.fullmatch(t)
    if not m or _amount(m["n"]) is None:
        return None
    n, unit = _amount(m["n"]), m["unit"]
    if unit == "hour":
        # "72 hours" from the order, which the document reports on its own date.
        return ref + timedelta(days=math.ceil(n / 24))
    if unit == "month":
        return add_months(ref, n)
    return ref + timedelta(days=n * {"day": 1, "week": 7, "fortnight": 14}[unit])


def _end_of(t: str, ref: date) -> date | None:
    m = _END_OF.fullmatch(t)
    if not m:
        return None
    what = m["what"]
    if what == "week":
        return ref + timedelta(days=6 - ref.weekday())
    if what == "month":
        return month_end(ref)
    if what == "year":
        return date(ref.year, 12, 31)
    month = MONTHS[what]
    year = ref.year if month >= ref.month else ref.year + 1
    return month_end(date(year, month, 1))


def resolve_deadline(text: str | None, doc_date: str | None) -> str | None:
    """The day a DEADLINE phrase names, looking forward from the document date.

    "October 31" -> the next October 31 on or after the document date; "72 hours" ->
    document date + 3 days (hours round up to whole days); "a week", "within a week",
    "seven days" -> + 7; "one month" -> same day next month; "the end of the month"
    -> its last day; "Friday" -> the next Friday on or after the document date.

    Args:
        text: the DEADLINE span.
        doc_date: the document date, ``YYYY-MM-DD``.

    Returns:
        ``YYYY-MM-DD``, or None when the phrase cannot be placed.

    Example:
        >>> resolve_deadline("October 31", "2021-10-06")
        '2021-10-31'
    """
    if not text:
        return None
    t, ref = _strip(text), parse_iso(doc_date)
    d = _full_date(t)
    if d is None and ref is not None:
        d = _relative_deadline(t, ref)
    return d.isoformat() if d else None


def _relative_deadline(t: str, ref: date) -> date | None:
    md = _month_day(t)
    if md:
        d = _day_or_none(ref.year, *md)
        if d is not None and d < ref:
            d = _day_or_none(ref.year + 1, *md)
        return d
    if t in WEEKDAYS:
        return ref + timedelta(days=(WEEKDAYS[t] - ref.weekday()) % 7)
    if t in ("today", "tonight", "midnight"):
        return ref
    if t == "tomorrow":
        return ref + timedelta(days=1)
    return _duration_deadline(t, ref) or _end_of(t, ref)
