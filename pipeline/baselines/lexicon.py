"""The lexicon-and-rules baseline: trigger words, threat/negation/membership filters and
regular patterns around the trigger for each role; no training, no NLP model.

Its REASON clause rule (:func:`reason_clause`) also serves the fine-tuned tagger
(:mod:`pipeline.events.reasons`).  Words are ``\\w+|[^\\w\\s]`` with character offsets.

Example:
    >>> docs = [Document("d1", "Poland expels two Russian diplomats.")]
    >>> [e.trigger.text for e in LexiconTagger().predict(docs)[0].events]
    ['expels']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from pipeline.events.linking import link
from pipeline.text import MONTH, WEEKDAY, sentence_bounds
from pipeline.events.reasons import _DURATION, LEADING_CAUSE_RE, Sentence, reason_clause, word_spans
from pipeline.schema import TRIGGER, Document, Span, make_span


_MONTH, _WEEKDAY = MONTH, WEEKDAY

_DATE = (rf"(?:{_MONTH}\s+\d{{1,2}}(?:,?\s+\d{{4}})?|\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?|{_WEEKDAY}"
         r"|the end of (?:the |this )?(?:week|month|year)|midnight|tomorrow)")

OFFICIAL_RE = re.compile(
    r"\b(?:diplomat|ambassador|envoy|official|staff|staffer|attach[eé]|consul|consul-general|"
    r"charg[eé]s?|embassy|consulate|personnel|employee|representative|inspector|delegate|"
    r"delegation|high commissioner|emissar(?:y|ie)|officer|spy|spie|agent|monitor|observer|"
    r"mission|nuncio|legate|secretar(?:y|ie)|minister|chief|head|counterpart|agenc(?:y|ie)|"
    r"commission)s?\b", re.I)
NON_OFFICIAL_RE = re.compile(
    r"\b(?:journalists?|reporters?|correspondents?|migrants?|refugees?|troops|soldiers?|forces|"
    r"students?|cadets?|workers?|citizens|nationals|priests?|missionar(?:y|ies)|clerics?|players?|"
    r"athletes?|settlers?|activists?|detainees|prisoners?|militants|fighters|tourists?|"
    r"businessm[ae]n|companies|firms?|asylum seekers|uyghurs|jews|palestinians|families|"
    r"dependants|family members|news agenc(?:y|ies)|press agenc(?:y|ies)|head of state)\b", re.I)
TRIGGER_RE = re.compile(
    r"\b(?:expel(?:s|led|ling)?|expulsions?|persona[ -]non[- ]grata|kick(?:s|ed|ing)?\s+out|"
    r"oust(?:s|ed|ing)?)\b", re.I)
ORDER_WORD_RE = re.compile(
    r"\b(?:order(?:s|ed|ing)?|give[sn]?|gave|giving|tell(?:s|ing)?|told|instruct(?:s|ed)?)\b", re.I)
# From an order word: its object, then "to leave" ("orders two UK diplomats to leave").
ORDER_RE = re.compile(r"\w+(?P<np>[^.;]{0,120}?)\bto\s+(?:leave|depart|quit|exit)\b", re.I)
# Threats, calls, refusals, denials and hypotheticals a few words before the trigger.
NEGATED_RE = re.compile(
    r"\b(?:threat(?:en|ens|ened|ening)?|call(?:s|ed|ing)?|urg(?:e|es|ed|ing)|demand(?:s|ed|ing)?|"
    r"refus(?:e|es|ed|ing)|not|n't|never|no|den(?:y|ies|ied)|consider(?:s|ed|ing)?|may|might|could|"
    r"would|propos(?:e|es|ed|ing|al)|votes?|voted|favou?rs?|plans?|motion|bill|seek(?:s|ing)?|"
    r"want(?:s|ed)?|ask(?:s|ed)?|whether|if|debat(?:e|es|ed)|warn(?:s|ed)?|recommend(?:s|ed|ing)?|"
    r"vow(?:s|ed)?)\b(?:\W+\w+){0,6}\W*$", re.I)
MEMBERSHIP_RE = re.compile(
    r"^\W*(?:\S+\s+){0,8}?from\s+(?:the\s+|its\s+|their\s+|his\s+|her\s+)?(?:[\w'-]+\s+){0,4}?"
    r"(?:party|league|ranks|school|university|college|club|parliament|federation|association|"
    r"movement|academy|competition|olympics|tournament)\b", re.I)
PARTY_RE = re.compile(r"\b(?:party|league|club|academy|university|school)\b", re.I)


DEADLINE_RE = re.compile(rf"\b(?:by|within|until|before)\s+(?P<v>{_DATE}|{_DURATION})", re.I)
DEADLINE_LEAVE_RE = re.compile(rf"(?P<v>{_DURATION})\s+to\s+(?:leave|depart|quit|exit)\b", re.I)
TIME_RE = re.compile(
    rf"\b(?:(?:[Oo]n|[Ii]n)\s+(?P<v>{_WEEKDAY}|{_MONTH}(?:\s+\d{{1,2}})?(?:,?\s+\d{{4}})?|\d{{4}})|"
    r"(?P<w>(?:last|this|earlier this|later this|earlier|later)\s+(?:week|month|year|weekend)|"
    r"yesterday|recently|earlier|in recent (?:days|weeks|months)|(?:a|one|two|three) days? (?:before|ago|earlier)))\b")
PASSIVE_AUX = {"is", "was", "are", "were", "be", "been", "being", "also", "formally", "officially",
               "reportedly", "to", "get", "got", "gets"}
# Words skipped between an expeller and its trigger ("Poland has decided to expel").
LEAD_IN = {"has", "have", "had", "will", "would", "shall", "also", "formally", "officially", "now",
           "then", "today", "is", "are", "to", "it", "that", "announces", "announced", "says", "said",
           "decides", "decided", "orders", "ordered", "order", "the", "its", "their", "an", "a",
           "immediately", "immediate", "mass", "reciprocal", "retaliatory", "subsequently",
           "later", "declares", "declared", "declaring", "confirms", "confirmed", "approves",
           "approved", "begins", "began", "finally", "in", "turn", "retaliation", "each", "both",
           "jointly", "recently", "who", "which", "reportedly", "swiftly", "promptly", "quickly",
           "definitely", "\"", "“", "”", "simultaneously", "summarily"}
# Lower-case words that may sit inside an expeller phrase.
EXPELLER_INNER = {"of", "the", "and", "for", "de", "al", "'", "’", "s", "-", ".", "foreign", "military",
                  "government", "ministry", "administration", "authorities", "regime", "junta",
                  "president", "prime", "minister", "cabinet", "interim", "de facto", "federal"}
NP_STOP = {"for", "over", "after", "amid", "following", "in", "from", "by", "within", "until", "on",
           "and", "as", "who", "which", "that", "because", "due", "but", "while", "at", "with",
           "citing", "accusing", "saying", "says", "said", ",", ".", ";", ":", "(", ")", "\"", "“",
           "”", "amidst", "before", "since", "during", "when", "whom", "back", "out"}


# --------------------------------------------------------------------------- lexicon rules


@dataclass
class _Trigger:
    span: Span
    kind: str               # verb, nominal, png (persona non grata), order
    np: tuple[int, int] | None = None   # order pattern: character span of the object


def _find_triggers(sent: Sentence) -> list[_Trigger]:
    """Trigger candidates of a sentence, in text order, without overlaps."""
    text, found = sent.text, []
    for m in TRIGGER_RE.finditer(text, sent.start, sent.end):
        low = m.group(0).lower()
        kind = "nominal" if low.startswith("expuls") else "png" if low.startswith("persona") else "verb"
        found.append(_Trigger(make_span(text, TRIGGER, *m.span()), kind))
    for w in ORDER_WORD_RE.finditer(text, sent.start, sent.end):
        m = ORDER_RE.match(text[:sent.end], w.start())
        np = m.group("np") if m else ""
        if not m or TRIGGER_RE.search(np) or ORDER_WORD_RE.search(np) or re.match(r"\s+(?:for|of)\b", np):
            continue    # "orders the expulsion of ...": the trigger is "expulsion"
        found.append(_Trigger(make_span(text, TRIGGER, *w.span()), "order", m.span("np")))
    found.sort(key=lambda t: t.span.start)
    return [t for i, t in enumerate(found) if i == 0 or t.span.start >= found[i - 1].span.end]


def _np_after(sent: Sentence, i: int, limit: int = 14) -> tuple[int, int] | None:
    """Word range of the noun phrase starting at word ``i``, up to a preposition or clause break.

    An apposition after a comma joins the phrase when one of the two names the official
    ("Kang Chol, North Korea's ambassador", "the US ambassador, Philip Goldberg").
    """
    j = i
    while j < len(sent.words) and j - i < limit:
        if sent.word(j).lower() in NP_STOP and not _np_continues(sent, i, j):
            break
        if sent.word(j).lower() == "to" and not _np_continues(sent, i, j):
            break
        j += 1
    if j == i:
        return None
    if j < len(sent.words) and sent.word(j) == "," and j + 1 < len(sent.words):
        more = _np_after_plain(sent, j + 1)
        if more and _apposition(sent, (i, j - 1), more):
            return (i, more[1])
    return (i, j - 1)


_PP_OF_OFFICIALS = re.compile(r"\s*(?:\S+\s+){0,4}?(?:embassy|consulate|mission|delegation|nations|"
                              r"countries|other country)\b", re.I)


def _np_continues(sent: Sentence, i: int, j: int) -> bool:
    """Whether the stop word at ``j`` stays inside the phrase begun at ``i``.

    Abbreviation dots ("U.S."), "to"/"at" + a name ("ambassador to Mexico"), "in the
    country", "from" + an embassy or nations ("diplomats from the Libyan embassy"), and a
    parenthesised acronym ("(CICIG)") do.
    """
    w, prev = sent.word(j).lower(), sent.word(j - 1) if j > i else ""
    nxt = sent.word(j + 1) if j + 1 < len(sent.words) else ""
    rest = sent.text[sent.words[j][1]:sent.end]
    if w == ".":
        return j > i and len(prev) <= 4 and prev[:1].isupper()
    if w in ("to", "at"):
        return nxt[:1].isupper() or nxt == "the"
    if w == "in":
        return rest.lower().startswith(" the country")
    if w == "from":
        return bool(_PP_OF_OFFICIALS.match(rest))
    if w == "(":
        return bool(re.match(r"[A-Z]{2,}\)", rest))
    return w == ")" and j >= 2 and sent.word(j - 2) == "("


def _np_after_plain(sent: Sentence, i: int) -> tuple[int, int] | None:
    j = i
    while j < len(sent.words) and j - i < 10 and sent.word(j).lower() not in NP_STOP:
        j += 1
    return (i, j - 1) if j > i else None


def _apposition(sent: Sentence, first: tuple[int, int], second: tuple[int, int]) -> bool:
    """Whether ``second`` (after a comma) renames ``first``."""
    a = sent.text[sent.words[first[0]][0]:sent.words[first[1]][1]]
    b = sent.text[sent.words[second[0]][0]:sent.words[second[1]][1]]
    after = sent.word(second[1] + 1).lower() if second[1] + 1 < len(sent.words) else ""
    if after in ("says", "said", "saying", "according", "reports", "reported"):
        return False
    return bool(OFFICIAL_RE.search(a + " " + b)) and (not OFFICIAL_RE.search(a) or b[:1].isupper())


def _np_before(sent: Sentence, j: int, limit: int = 12) -> tuple[int, int] | None:
    """Word range of the noun phrase ending at word ``j``, back to a clause break."""
    i = j
    while i >= 0 and j - i < limit and sent.word(i).lower() not in NP_STOP:
        i -= 1
    return (i + 1, j) if i < j else None


def _skip_back(sent: Sentence, j: int, words: set[str], limit: int = 6) -> int:
    """Move left from word ``j`` over at most ``limit`` words of ``words``."""
    k = 0
    while j >= 0 and k < limit and sent.word(j).lower() in words:
        j, k = j - 1, k + 1
    return j


_NOT_NAMES = {"in", "after", "on", "following", "meanwhile", "however", "also", "then", "but",
              "when", "as", "while", "amid", "today", "yesterday", "earlier", "later", "separately"}


def _is_cap(w: str) -> bool:
    return w[:1].isupper() and w.lower() not in _NOT_NAMES


def _name_before(sent: Sentence, j: int) -> list[Span]:
    """EXPELLER spans: the capitalised phrase ending at word ``j``; "A and B" gives two spans."""
    if j >= 1 and sent.word(j) == "s" and sent.word(j - 1) in ("'", "’"):
        j -= 2                                        # "Russia's expulsion"
    i = j
    if j >= 0 and sent.word(j).lower() in ("and", ","):
        return _subject(sent)                        # "Bahrain recalls ... and expels ..."
    while i >= 0 and j - i < 10 and (_is_cap(sent.word(i)) or sent.word(i).lower() in EXPELLER_INNER
                                     or sent.word(i) == ","):
        i -= 1
    return _split_names(sent, i + 1, j)


def _subject(sent: Sentence) -> list[Span]:
    """The capitalised phrase that opens the sentence, after a leading cause clause."""
    lead = LEADING_CAUSE_RE.match(sent.text, sent.start)
    i = sent.index_at(lead.end()) if lead else 0
    while i < len(sent.words) and sent.word(i).lower() in _NOT_NAMES | {","}:
        i += 1
    return _name_after(sent, i) if i < len(sent.words) else []


def _name_after(sent: Sentence, i: int) -> list[Span]:
    """EXPELLER spans: the capitalised phrase starting at word ``i`` ("by the Foreign Ministry")."""
    j = i
    while j < len(sent.words) and j - i < 10 and (_is_cap(sent.word(j))
                                                   or sent.word(j).lower() in EXPELLER_INNER):
        j += 1
    return _split_names(sent, i, j - 1)


def _split_names(sent: Sentence, i: int, j: int) -> list[Span]:
    """Cut words ``i..j`` at "and"/commas; keep parts that hold a capitalised word.

    Commas separate names only in a list closed by "and" ("Turkey, Germany and Canada");
    otherwise only the part after the last comma is kept ("Skripal, the Russian Federation").
    """
    parts, seps, start = [], [], i
    for k in range(i, j + 2):
        if k == j + 1 or sent.word(k).lower() in ("and", ","):
            parts.append((start, k - 1))
            start = k + 1
            if k <= j:
                seps.append(sent.word(k).lower())
    if seps and seps[-1] == ",":
        parts = parts[-1:]
    out = []
    for a, b in parts:
        while a <= b and sent.word(a).lower() in _EDGE_WORDS:
            a += 1
        # Trailing connectives go; a dot closing an abbreviation ("the U.S.") stays.
        while b >= a and sent.word(b).lower() in _TRAILING_WORDS and not (
                sent.word(b) == "." and b > a and len(sent.word(b - 1)) == 1):
            b -= 1
        if a <= b and any(_is_cap(sent.word(k)) for k in range(a, b + 1)):
            out.append(sent.span("EXPELLER", a, b))
    return out


_EDGE_WORDS = {"of", "and", "for", "'", "’", "s", "-", "."}
_TRAILING_WORDS = EXPELLER_INNER - {"government", "ministry", "administration", "authorities", "regime",
                                    "junta", "cabinet"}


def _is_passive(sent: Sentence, t: int) -> bool:
    """The verb trigger at word ``t`` is passive or a participle after its noun."""
    if t == 0 or not sent.word(t).lower().startswith(("expelled", "ousted", "kicked")):
        return False
    prev = sent.word(t - 1).lower()
    return prev in PASSIVE_AUX or bool(OFFICIAL_RE.fullmatch(prev))


def _expelled_and_expeller(sent: Sentence, trig: _Trigger) -> tuple[Span | None, list[Span]]:
    """The EXPELLED span and EXPELLER spans of one trigger, by the trigger's kind."""
    t0 = sent.index_at(trig.span.start)
    t1 = sent.index_at(trig.span.end) - 1          # last word of the trigger
    passive = trig.kind == "verb" and _is_passive(sent, t0)
    if trig.kind == "order" and trig.np and sent.text[trig.np[0]:trig.np[1]].strip():
        np = _np_in(sent, *trig.np)
        return np, _name_before(sent, _skip_back(sent, t0 - 1, LEAD_IN))
    if passive or (trig.kind in ("order", "png") and _declared_passive(sent, t0)):
        aux = _skip_back(sent, t0 - 1, PASSIVE_AUX | _PASSIVE_LEAD)
        rng = _np_before(sent, aux)
        return _np_span(sent, rng), _agent_after(sent, t1 + 1)
    if trig.kind == "png":
        d = next((k for k in range(t0 - 1, -1, -1) if sent.word(k).lower().startswith("declar")), None)
        if d is None:
            return None, []
        return _np_span(sent, (d + 1, t0 - 1)), _name_before(sent, _skip_back(sent, d - 1, LEAD_IN))
    if trig.kind == "nominal":
        rng = _np_after(sent, t1 + 2) if t1 + 1 < len(sent.words) and sent.word(t1 + 1) == "of" else None
        after = rng[1] + 1 if rng else t1 + 1
        agent = _agent_after(sent, after)
        return _np_span(sent, rng), agent or _name_before(sent, _skip_back(sent, t0 - 1, LEAD_IN))
    return _np_span(sent, _np_after(sent, t1 + 1)), _name_before(sent, _skip_back(sent, t0 - 1, LEAD_IN))


_PASSIVE_LEAD = {"declared", "has", "have", "had", "revealed", "reported", "said", "believed", "expected",
                 "set", "due", "likely", "will", "would", "reportedly"}


def _declared_passive(sent: Sentence, t0: int) -> bool:
    """"X was declared persona non grata", "X has been ordered/given ... to leave"."""
    prev = sent.word(t0 - 1).lower() if t0 else ""
    return prev in PASSIVE_AUX or prev == "declared"


def _np_in(sent: Sentence, start: int, end: int) -> Span | None:
    """EXPELLED span inside an order's object; a trailing duration is the DEADLINE, not part of it."""
    chunk = sent.text[start:end].rstrip()
    m = re.search(rf"\s+(?:{_DURATION}|until\s+.*|(?:on|in|by)\s+.*)$", chunk, re.I)
    if m:
        chunk = chunk[:m.start()]
    lead = len(chunk) - len(chunk.lstrip())
    chunk = chunk.strip()
    return make_span(sent.text, "EXPELLED", start + lead, start + lead + len(chunk)) if chunk else None


def _np_span(sent: Sentence, rng: tuple[int, int] | None) -> Span | None:
    """EXPELLED span of a word range, without stray punctuation at its end."""
    if not rng:
        return None
    i, j = rng
    while j >= i and not sent.word(j)[0].isalnum() and sent.word(j) not in (")", ".") :
        j -= 1
    return sent.span("EXPELLED", i, j)


def _agent_after(sent: Sentence, i: int) -> list[Span]:
    """EXPELLER after a passive or nominal trigger: "by NP" or "from COUNTRY" within 3 words."""
    for k in range(i, min(i + 3, len(sent.words))):
        w = sent.word(k).lower()
        if w in ("by", "from") and k + 1 < len(sent.words):
            nxt = sent.words[k + 1][0]
            if re.match(rf"{_DATE}|{_DURATION}", sent.text[nxt:sent.end], re.I):
                return []           # "by August 15" is a deadline
            return _name_after(sent, k + 1)
        if w in NP_STOP - {"by", "from"}:
            break
    return []


def _deadlines(sent: Sentence, after: int) -> list[Span]:
    """DEADLINE spans after ``after``: "by August 15", "within 72 hours", "72 hours to leave"."""
    out = []
    for rx in (DEADLINE_RE, DEADLINE_LEAVE_RE):
        for m in rx.finditer(sent.text, after, sent.end):
            out.append(make_span(sent.text, "DEADLINE", *m.span("v")))
    return out


def _times(sent: Sentence) -> list[Span]:
    """TIME spans of the sentence, without the leading preposition."""
    out = []
    for m in TIME_RE.finditer(sent.text, sent.start, sent.end):
        g = "v" if m.group("v") else "w"
        out.append(make_span(sent.text, "TIME", *m.span(g)))
    return out


def _rejected(sent: Sentence, trig: _Trigger, expelled: Span | None, expellers: list[Span],
              doc_has_event: bool) -> bool:
    """Threats, negations, membership expulsions and non-officials are not events."""
    text = sent.text
    if NEGATED_RE.search(text[sent.start:trig.span.start]):
        return True
    if MEMBERSHIP_RE.match(text[trig.span.end:sent.end]):
        return True
    if any(PARTY_RE.search(e.text) for e in expellers):
        return True
    if expelled is not None:
        return bool(NON_OFFICIAL_RE.search(expelled.text)) or not OFFICIAL_RE.search(expelled.text)
    whole = text[sent.start:sent.end]
    # A bare mention ("criticises the expulsions") follows an event or names officials.
    return not (doc_has_event or (OFFICIAL_RE.search(whole) and not NON_OFFICIAL_RE.search(whole)))


_PRIORITY = {TRIGGER: 0, "EXPELLED": 1, "EXPELLER": 2, "REASON": 3, "DEADLINE": 4, "TIME": 5}


def _resolve_overlaps(spans: list[Span]) -> list[Span]:
    """Keep spans by priority; a REASON is cut short before a span it runs into."""
    kept: list[Span] = []
    for s in sorted(set(spans), key=lambda s: (_PRIORITY[s.label], s.start, s.end)):
        clash = [k for k in kept if k.start < s.end and s.start < k.end]
        if clash and s.label == "REASON" and not any(k.label == TRIGGER for k in clash):
            first = min(clash, key=lambda k: k.start)
            end = first.start
            while end > s.start and not s.text[end - s.start - 1].isalnum():
                end -= 1
            if end - s.start >= 3 and not any(k.start < end and s.start < k.end for k in kept):
                kept.append(Span("REASON", s.start, end, s.text[:end - s.start]))
            continue
        if not clash:
            kept.append(s)
    return sorted(kept, key=lambda s: (s.start, s.end))


_LEAVE_RE = re.compile(r"\b(?:leave|depart|quit|exit)\b", re.I)


class LexiconTagger:
    """Trigger words, filters and patterns around the trigger; see the module docstring."""

    def spans(self, text: str) -> list[Span]:
        """Triggers and arguments of accepted events, without overlaps, not yet linked."""
        words = word_spans(text)
        out: list[Span] = []
        has_event = False
        for ss, se in sentence_bounds(text):
            sent = Sentence(text, ss, se, [w for w in words if ss <= w[0] < se])
            found = self._sentence_spans(sent, has_event)
            has_event = has_event or any(s.label == TRIGGER for s in found)
            if not found and _LEAVE_RE.search(text, ss, se) and has_event:
                found = _deadlines(sent, ss)      # "The officials must leave by October 31."
            out.extend(found)
        return _resolve_overlaps(out)

    def _sentence_spans(self, sent: Sentence, doc_has_event: bool) -> list[Span]:
        out: list[Span] = []
        for trig in _find_triggers(sent):
            expelled, expellers = _expelled_and_expeller(sent, trig)
            if _rejected(sent, trig, expelled, expellers, doc_has_event or bool(out)):
                continue
            after = max(trig.span.end, expelled.end if expelled else 0)
            reason = reason_clause(sent, after)
            out.extend([trig.span, *expellers, *([expelled] if expelled else []),
                        *([reason] if reason else []), *_deadlines(sent, trig.span.start)])
        if out:
            out.extend(_times(sent))
        return out

    def predict(self, docs: Sequence[Document], linking: str = "sentence") -> list[Document]:
        """Copies of ``docs`` with the events the rules find (``events`` of the input ignored)."""
        return [Document(id=d.id, text=d.text, events=link(d.text, self.spans(d.text), linking),
                         meta=dict(d.meta)) for d in docs]
