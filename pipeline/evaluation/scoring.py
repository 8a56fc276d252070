"""Scores exactly as ANNOTATION.md defines them, by set intersection.

- Tri-C: a predicted trigger span equals a gold trigger span.
- Arg-C: a predicted ``(role, span)`` equals a gold ``(role, span)`` of the same document.
- Arg-C+: as Arg-C, and linked to a correctly predicted trigger of the gold event it
  belongs to.

Items are sets per document: ``(doc id, start, end)`` for triggers,
``(doc id, role, start, end)`` for arguments and ``(doc id, role, start, end,
trigger start, trigger end)`` for attached arguments, so a span shared by two events
counts once for Arg-C and once per event for Arg-C+.  Micro P/R/F1 over the whole set,
and per role.

Example:
    >>> gold = [Document("d", "Peru expels a diplomat", [Event(Span("TRIGGER", 5, 11, "expels"))])]
    >>> score_documents(gold, gold)["trigger"]["f1"]
    1.0
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

from pipeline.schema import ROLES, CorpusError, Document, Event, Span  # noqa: F401 (doctest)


def lookup(scores: dict, path: Sequence[str]):
    """The entry at ``path`` in nested scores (``("per_role", "REASON")``), or None.

    Example:
        >>> lookup({"per_role": {"TIME": {"f1": 0.5}}}, ("per_role", "TIME", "f1"))
        0.5
    """
    node = scores
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def mean_std(values: Sequence[float]) -> dict[str, float]:
    """Mean, sample standard deviation (n - 1; 0 for one value), count, min and max of the
    scores of several runs (folds, seeds).

    Example:
        >>> round(mean_std([0.8, 0.9, 1.0])["std"], 6)
        0.1
    """
    import statistics

    vals = [float(v) for v in values]
    return {"mean": statistics.fmean(vals), "std": statistics.stdev(vals) if len(vals) > 1 else 0.0,
            "n": len(vals), "min": min(vals), "max": max(vals)}


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    """Precision, recall and F1 (0 where undefined) plus the counts."""
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "pred": n_pred, "gold": n_gold}


def _items(docs: Iterable[Document]) -> dict[str, set]:
    items: dict[str, set] = {"trigger": set(), "arg": set(), "arg+": set()}
    for d in docs:
        for ev in d.events:
            t = ev.trigger
            items["trigger"].add((d.id, t.start, t.end))
            for a in ev.arguments:
                items["arg"].add((d.id, a.label, a.start, a.end))
                items["arg+"].add((d.id, a.label, a.start, a.end, t.start, t.end))
    return items


def _by_role(s: set, role_index: int = 1) -> dict[str, set]:
    out: dict[str, set] = defaultdict(set)
    for x in s:
        out[x[role_index]].add(x)
    return out


def score_documents(gold: Sequence[Document], pred: Sequence[Document]) -> dict:
    """Tri-C, Arg-C and Arg-C+ micro scores, and Arg-C/Arg-C+ per role.

    Raises:
        CorpusError: when the predictions lack a gold document or add one (ids must match).
    """
    gold_ids, pred_ids = {d.id for d in gold}, {d.id for d in pred}
    if gold_ids != pred_ids:
        missing, extra = sorted(gold_ids - pred_ids)[:5], sorted(pred_ids - gold_ids)[:5]
        raise CorpusError(f"predictions and gold cover different documents (missing from "
                          f"predictions: {missing}, not in gold: {extra}); predict on the gold file itself")
    g, p = _items(gold), _items(pred)
    out = {
        "trigger": prf(len(g["trigger"] & p["trigger"]), len(p["trigger"]), len(g["trigger"])),
        "argument": prf(len(g["arg"] & p["arg"]), len(p["arg"]), len(g["arg"])),
        "argument_attached": prf(len(g["arg+"] & p["arg+"]), len(p["arg+"]), len(g["arg+"])),
        "per_role": {},
        "per_role_attached": {},
    }
    for key, name in (("arg", "per_role"), ("arg+", "per_role_attached")):
        gr, pr = _by_role(g[key]), _by_role(p[key])
        for role in ROLES:
            out[name][role] = prf(len(gr[role] & pr[role]), len(pr[role]), len(gr[role]))
    # Document level: does the document report an expulsion at all?
    gpos = {d.id for d in gold if d.events}
    ppos = {d.id for d in pred if d.events}
    out["document"] = prf(len(gpos & ppos), len(ppos), len(gpos))
    return out


def trigger_form(text: str) -> str:
    """A trigger's form: its text lower-cased, white space folded ("Persona non grata" ->
    "persona non grata")."""
    return " ".join(text.lower().split())


def recall_by_trigger_form(gold: Sequence[Document], pred: Sequence[Document],
                           min_count: int = 1) -> dict[str, dict[str, float]]:
    """Trigger recall per form of the gold trigger (Tri-C: exact span), most frequent first.

    Args:
        gold, pred: documents with the same ids (predictions may lack a gold document:
            its triggers count as missed).
        min_count: leave out forms with fewer gold mentions.

    Returns:
        ``{form: {"gold": n, "found": k, "recall": k / n}}``.
    """
    found = {(d.id, e.trigger.start, e.trigger.end) for d in pred for e in d.events}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for d in gold:
        for key in {(e.trigger.start, e.trigger.end): e.trigger for e in d.events}.values():
            c = counts[trigger_form(key.text)]
            c[0] += 1
            c[1] += (d.id, key.start, key.end) in found
    rows = sorted(((f, n, k) for f, (n, k) in counts.items() if n >= min_count), key=lambda x: (-x[1], x[0]))
    return {f: {"gold": n, "found": k, "recall": k / n} for f, n, k in rows}


# Record fields compared on the events whose trigger was found (pipeline.records.normalise).
RECORD_FIELDS = ("count", "expeller_country", "expelled_country", "time_date", "deadline_date")


def field_agreement(gold: Sequence[Document], pred: Sequence[Document],
                    names: Sequence[str] = RECORD_FIELDS) -> dict[str, dict[str, float | int]]:
    """How often an event record's fields agree with gold, on the events whose trigger the
    model found (the same span): per field, ``accuracy`` over the ``n`` gold events that
    state it, and ``spurious``: found events that give it where gold does not.  Both
    sides are normalised with the gold document's date.

    Example:
        >>> doc = Document("d", "Peru expels two diplomats.", meta={"date": "2021-01-01"})
        >>> doc.events = [Event(Span("TRIGGER", 5, 11, "expels"), [Span("EXPELLED", 12, 25, "two diplomats")])]
        >>> field_agreement([doc], [doc])["count"]
        {'accuracy': 1.0, 'n': 1, 'agree': 1, 'spurious': 0}
    """
    from pipeline.records.normalise import normalise_event

    out = {k: {"n": 0, "agree": 0, "spurious": 0} for k in names}
    by_id = {d.id: d for d in pred}
    for g in gold:
        p = by_id.get(g.id)
        if p is None:
            continue
        anchor = Document(g.id, g.text, meta={"date": g.date})
        found = {ev.trigger.key: ev for ev in p.events}
        for gev in g.events:
            pev = found.get(gev.trigger.key)
            if pev is None:
                continue
            gf = normalise_event(Event(gev.trigger, list(gev.arguments)), Document(g.id, g.text, g.events, anchor.meta))
            pf = normalise_event(Event(pev.trigger, list(pev.arguments)), Document(g.id, g.text, p.events, anchor.meta))
            for k in names:
                if gf.get(k) is not None:
                    out[k]["n"] += 1
                    out[k]["agree"] += gf[k] == pf.get(k)
                elif pf.get(k) is not None:
                    out[k]["spurious"] += 1
    return {k: {"accuracy": round(v["agree"] / v["n"], 4) if v["n"] else None, **v} for k, v in out.items()}
