"""A trigger verifier: is this expulsion word, in its sentence, an expulsion of officials?

The tagger finds 96% of the expulsion mentions but fires on the expulsion of journalists,
aid workers and party members, on threats and calls, on entry bans.  The verifier is a
small linear classifier over the trigger's context (the words around it, marked by
side, and its sentence; TF-IDF of words and character n-grams, scored in plain Python
like the document filter, :mod:`pipeline.batch.docfilter`), trained on:

- positives: every gold trigger;
- negatives: every other expulsion word of the gold documents ("expelled", "expulsion",
  "persona non grata", "ordered", "gave", "told" ... that no annotator marked), which is
  where the hard negatives of the corpus are, and those of the synthetic contrastive
  pairs when they are given.

:func:`verify` drops the events whose trigger it scores below a threshold.

Example:
    >>> v = fit_verifier(train_docs)                                   # doctest: +SKIP
    >>> kept = verify(predicted_docs, v, threshold=0.3)               # doctest: +SKIP
"""

from __future__ import annotations

import re
from typing import Sequence

from pipeline.schema import Document, Event
from pipeline.text import sentences

VERIFIER_FILE = "verifier.json"     # beside the model, written by expel-train

# Words that can be a trigger (ANNOTATION.md's examples and the gold corpus's forms).
CANDIDATES = re.compile(
    r"\b(?:expel\w*|expuls\w*|persona non grata|kick\w* out|ousts?|ousted|orders?|ordered|ordering|"
    r"gives?|gave|given|giving|told|tells?|asked|asks?|remov\w*)\b", re.IGNORECASE)
LEFT, RIGHT = 8, 10          # words of context on each side


def context(text: str, start: int, end: int) -> str:
    """The trigger ``text[start:end]`` in context, as one string for the vectorisers: the
    trigger (``t_``), the words just before (``l_``) and after (``r_``) it in its
    sentence, then the sentence's words."""
    lo, hi = sentences(text).at(start) if 0 <= start < len(text) else (0, len(text))
    left = re.findall(r"\w+", text[lo:start].lower())[-LEFT:]
    right = re.findall(r"\w+", text[end:hi].lower())[:RIGHT]
    trig = "_".join(re.findall(r"\w+", text[start:end].lower()))
    return " ".join([f"t_{trig}", *(f"l_{w}" for w in left), *(f"r_{w}" for w in right), "|",
                     text[lo:hi].replace("\n", " ")])


def training_examples(docs: Sequence[Document]) -> tuple[list[str], list[int]]:
    """Contexts and labels: gold triggers 1, other expulsion words 0."""
    texts, labels = [], []
    for d in docs:
        gold = sorted({(e.trigger.start, e.trigger.end) for e in d.events})
        for s, e in gold:
            texts.append(context(d.text, s, e))
            labels.append(1)
        for m in CANDIDATES.finditer(d.text):
            if not any(s < m.end() and m.start() < e for s, e in gold):
                texts.append(context(d.text, m.start(), m.end()))
                labels.append(0)
    return texts, labels


def fit_verifier(docs: Sequence[Document], c: float = 1.0):
    """The verifier fitted on ``docs`` (a :class:`pipeline.batch.docfilter.DocFilter`
    without a keyword gate: same features, same plain-Python scoring, same JSON file), or
    None when ``docs`` hold no gold trigger or no other expulsion word."""
    from pipeline.batch.docfilter import fit_filter

    texts, labels = training_examples(docs)
    if len(set(labels)) < 2:
        return None                 # nothing to tell apart (a tiny corpus): no verifier
    try:
        return fit_filter(texts, labels, c=c, gate=None)
    except ValueError:              # too few examples for any n-gram to be seen twice
        return None


def trigger_scores(doc: Document, verifier) -> list[float]:
    """The verifier's probability for each event's trigger, in event order."""
    if not doc.events:
        return []
    return [float(p) for p in verifier.model_scores([context(doc.text, e.trigger.start, e.trigger.end)
                                                     for e in doc.events])]


def verify(docs: Sequence[Document], verifier, threshold: float) -> list[Document]:
    """Copies of ``docs`` without the events whose trigger scores below ``threshold``."""
    out = []
    for d in docs:
        keep = [e for e, p in zip(d.events, trigger_scores(d, verifier)) if p >= threshold]
        out.append(Document(d.id, d.text, [Event(e.trigger, list(e.arguments), dict(e.extra)) for e in keep],
                            dict(d.meta)))
    return out


def load_verifier(model_dir):
    """The verifier saved beside a model (``verifier.json``), or None when there is none.

    Raises:
        FilterError: a corrupt file (its path named).
    """
    from pathlib import Path

    from pipeline.batch.docfilter import DocFilter

    path = Path(model_dir) / VERIFIER_FILE
    return DocFilter.load(path) if path.is_file() else None
