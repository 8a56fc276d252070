"""How many people an EXPELLED phrase names: ``parse_count``.

Example:
    >>> parse_count("two Russian diplomats")
    {'count': 2, 'count_min': 2, 'count_max': 2}
    >>> parse_count("Resolution 1701")
    {'count': None, 'count_min': None, 'count_max': None}
"""

from __future__ import annotations

import re

_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
          "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
          "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
          "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
# Bounds for quantities without a number; "several" and "dozens" follow the brief's
# reading (docs/records.md), "a few" and "a handful" are 2-5.
_VAGUE = {"several": (3, 9), "few": (2, 5), "handful": (2, 5), "dozens": (24, 99),
          "scores": (40, 99), "hundreds": (200, 999)}
# Words for the people themselves: the head of an EXPELLED phrase.
_PERSON_SINGULAR = {
    "diplomat", "ambassador", "envoy", "official", "attaché", "attache", "consul", "chargé",
    "charge", "counterpart", "representative", "head", "chief", "minister", "secretary",
    "commissioner", "spy", "member", "officer", "staffer", "delegate", "emissary", "agent",
    "adviser", "advisor", "counsellor", "counselor", "employee", "inspector", "observer",
    "monitor", "coordinator", "director", "nuncio", "expert", "person", "worker",
    "operative", "deputy", "spokesman", "spokeswoman"}
_PERSON_PLURAL = ({w + "s" for w in _PERSON_SINGULAR} | {"chargés", "people", "others", "staff",
                  "personnel", "citizens", "nationals", "families", "men", "women",
                  "spies", "deputies", "persons"})
# A number after one of these is a label ("Resolution 1701"), not a count, unless the
# word is a determiner or quantifier that may precede a count.
_PRE_COUNT = {"the", "all", "a", "another", "some", "about", "around", "over", "nearly",
              "almost", "approximately", "roughly", "at", "least", "up", "to", "than",
              "more", "fewer", "less", "its", "their", "his", "her", "those", "these",
              "as", "many", "further", "additional", "only", "just", "total", "of",
              "estimated", "an", "most", "by"}
_STOP_BETWEEN = {"of", "from", "in", "at", "to", "for", "by", "with", "and", "or", ","}
_TIME_UNITS = {"hour", "hours", "day", "days", "week", "weeks", "month", "months", "year",
               "years", "minutes", "percent", "%"}
_TOKEN = re.compile(r"\d[\d,]*(?:st|nd|rd|th)?|[^\W\d_][\w'’.-]*|[^\s\w]")


def _tokens(text: str) -> list[str]:
    return [t.lower().replace("’", "'") for t in _TOKEN.findall(text)]


def _word_number(tok: str) -> int | None:
    """ "eight" -> 8, "twenty-three" -> 23, "23" -> 23, "1,000" -> 1000; ordinals -> None."""
    if tok[0].isdigit():
        if re.fullmatch(r"\d+(?:st|nd|rd|th)", tok):
            return None  # "the 2nd secretary": an ordinal, not a count
        return int(tok.replace(",", "")) if re.fullmatch(r"\d{1,3}(?:,\d{3})*|\d+", tok) else None
    if tok in _UNITS:
        return _UNITS[tok]
    if tok in _TENS:
        return _TENS[tok]
    parts = tok.split("-")
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _UNITS and _UNITS[parts[1]] < 10:
        return _TENS[parts[0]] + _UNITS[parts[1]]
    return None


def _head_index(toks: list[str]) -> int | None:
    for i, t in enumerate(toks):
        if t in _PERSON_SINGULAR or t in _PERSON_PLURAL:
            return i
    return None


_MULTIPLIERS = {"dozen": 12, "hundred": 100, "thousand": 1000}


def _is_label(toks: list[str], i: int) -> bool:
    """ "Resolution 1701", "Flight 17": a number right after a noun names something.

    Determiners, quantifier words, possessives ("Russia's 23 diplomats") and numbers
    may precede a count.
    """
    prev = toks[i - 1] if i > 0 else ""
    return bool(prev) and prev[0].isalpha() and prev not in _PRE_COUNT \
        and not prev.endswith(("'s", "s'")) and _word_number(prev) is None


def _number_before(toks: list[str], head: int) -> tuple[int, int] | None:
    """``(index, value)`` of the count that quantifies the head, scanning left of it.

    The scan stops at a preposition other than "of" ("59 diplomats from 23 nations"
    counts 59, "the ambassadors of ten nations" counts nothing) and at a time unit.
    """
    for i in range(head - 1, -1, -1):
        t = toks[i]
        if t in _TIME_UNITS or (t in _STOP_BETWEEN and t != "of"):
            return None
        if t in _MULTIPLIERS:  # "a dozen", "two dozen", "a hundred"
            factor = _word_number(toks[i - 1]) if i > 0 else None
            return (i - 1, factor * _MULTIPLIERS[t]) if factor else (max(i - 1, 0), _MULTIPLIERS[t])
        value = _word_number(t)
        if value is None:
            continue
        if re.fullmatch(r"(?:1[89]|20)\d\d", t) or _is_label(toks, i):
            return None  # a year ("the 2016 election") or a label, not a count of people
        return i, value
    return None


# Heads that stand one per state: "the ambassadors of ten Western nations" are ten.
_ONE_PER_STATE = {"ambassadors", "envoys", "commissioners", "chargés", "nuncios"}
_STATES = {"nations", "countries", "states", "governments"}


def _envoys_of_states(toks: list[str], head: int) -> tuple[int, int] | None:
    """``(index, value)`` of N in "<ambassadors> of|from [the] N [adjectives] <nations>"."""
    if toks[head] not in _ONE_PER_STATE:
        return None
    rest = toks[head + 1:head + 7]
    if not rest or rest[0] not in ("of", "from"):
        return None
    for j, t in enumerate(rest[1:], start=head + 2):
        value = _word_number(t)
        if value is not None:
            following = toks[j + 1:j + 4]
            return (j, value) if any(w in _STATES for w in following) else None
        if t not in ("the", "all") and not t[0].isalpha():
            return None
    return None


def _bounded(toks: list[str], i: int, value: int) -> dict[str, int | None]:
    """Apply "more than", "over", "at least", "up to", "nearly" before the number."""
    before = " ".join(toks[max(0, i - 2):i])
    if re.search(r"(?:more than|over|upwards of)$", before):
        return {"count": None, "count_min": value + 1, "count_max": None}
    if re.search(r"at least$", before):
        return {"count": None, "count_min": value, "count_max": None}
    if re.search(r"(?:up to|as many as|no more than)$", before):
        return {"count": None, "count_min": 1, "count_max": value}
    if re.search(r"(?:fewer than|less than)$", before):
        return {"count": None, "count_min": 1, "count_max": value - 1}
    if re.search(r"(?:nearly|almost)$", before):
        return {"count": None, "count_min": None, "count_max": value}
    return {"count": value, "count_min": value, "count_max": value}


def parse_count(expelled_text: str | None) -> dict[str, int | None]:
    """How many people an EXPELLED phrase names.

    Rules (docs/records.md): a number counts only when it quantifies the person noun
    that heads the phrase ("23 Russian diplomats", "one of its diplomats", "a dozen
    members"); years, labels ("Resolution 1701"), durations ("72 hours") and ordinals
    ("the 2nd secretary") are refused.  Without a number, a singular person noun is
    one person ("the ambassador", "Syrian diplomat"), vague quantifiers give bounds
    ("several" 3-9, "dozens" 24-99, "hundreds" 200-999), and a bare plural is unknown.
    "about 100" counts as 100.

    Args:
        expelled_text: the EXPELLED span.

    Returns:
        ``{"count", "count_min", "count_max"}``; ``count`` is set only for an exact
        number, and then both bounds equal it.

    Example:
        >>> parse_count("more than 100 Russian diplomats")
        {'count': None, 'count_min': 101, 'count_max': None}
        >>> parse_count("the 2016 election")
        {'count': None, 'count_min': None, 'count_max': None}
    """
    unknown: dict[str, int | None] = {"count": None, "count_min": None, "count_max": None}
    toks = _tokens(expelled_text or "")
    head = _head_index(toks)
    if head is None:
        return unknown
    found = _number_before(toks, head) or _envoys_of_states(toks, head)
    if found is not None:
        return _bounded(toks, *found)
    for t in toks[:head]:
        if t in _VAGUE:
            lo, hi = _VAGUE[t]
            return {"count": None, "count_min": lo, "count_max": hi}
    if toks[head] in _PERSON_SINGULAR and "each" not in toks[:head]:
        return {"count": 1, "count_min": 1, "count_max": 1}
    return unknown


def add_counts(counts: list[dict[str, int | None]]) -> dict[str, int | None]:
    """The total of several phrases' counts ("two Spanish diplomats" + "the ambassador").

    Exact only when every part is exact; the lower bound adds the known lower bounds,
    the upper bound exists only when every part has one.
    """
    if not counts:
        return {"count": None, "count_min": None, "count_max": None}
    exact = [c["count"] for c in counts]
    mins = [c["count_min"] for c in counts if c["count_min"] is not None]
    maxs = [c["count_max"] for c in counts]
    total = sum(exact) if None not in exact else None
    return {"count": total, "count_min": sum(mins) if mins else None,
            "count_max": sum(maxs) if None not in maxs else None}
