"""score_documents on hand-written gold/prediction pairs, and the bootstrap intervals."""

from __future__ import annotations

import pytest

from pipeline.schema import CorpusError, Document, Event, make_span
from pipeline.evaluation.scoring import score_documents
from pipeline.evaluation.intervals import bootstrap_ci, document_counts

TEXT = "Poland and Hungary expel two Russian diplomats for spying by Friday."
#       0123456789012345678901234567890123456789012345678901234567890123456


def sp(label: str, piece: str, text: str = TEXT):
    start = text.index(piece)
    return make_span(text, label, start, start + len(piece))


def ev(trigger: str, *args: tuple[str, str], text: str = TEXT) -> Event:
    return Event(sp("TRIGGER", trigger, text), [sp(r, p, text) for r, p in args])


def doc(*events: Event, id: str = "d1", text: str = TEXT) -> Document:
    return Document(id, text, list(events))


def prf(s: dict) -> tuple:
    return (round(s["precision"], 4), round(s["recall"], 4), round(s["f1"], 4), s["tp"], s["pred"], s["gold"])


def test_empty_sets_score_zero_without_dividing_by_zero():
    s = score_documents([], [])
    assert prf(s["trigger"]) == (0, 0, 0, 0, 0, 0)
    s = score_documents([doc()], [doc()])
    assert prf(s["argument"]) == (0, 0, 0, 0, 0, 0)
    assert s["per_role"]["REASON"]["f1"] == 0.0


def test_perfect_prediction():
    g = doc(ev("expel", ("EXPELLER", "Poland"), ("EXPELLED", "two Russian diplomats"), ("REASON", "spying")))
    s = score_documents([g], [g])
    assert prf(s["trigger"]) == (1, 1, 1, 1, 1, 1)
    assert prf(s["argument"]) == (1, 1, 1, 3, 3, 3)
    assert prf(s["argument_attached"]) == (1, 1, 1, 3, 3, 3)


def test_duplicate_spans_count_once():
    g = doc(ev("expel", ("EXPELLER", "Poland")))
    # The model predicted the same event twice and the same argument twice in it.
    p = doc(ev("expel", ("EXPELLER", "Poland"), ("EXPELLER", "Poland")), ev("expel", ("EXPELLER", "Poland")))
    s = score_documents([g], [p])
    assert prf(s["trigger"]) == (1, 1, 1, 1, 1, 1)
    assert prf(s["argument"]) == (1, 1, 1, 1, 1, 1)


def test_shared_argument_counts_once_for_arg_c_and_per_event_for_arg_c_plus():
    text = "Poland expels two diplomats and orders three officials to leave."
    g = doc(ev("expels", ("EXPELLER", "Poland"), text=text), ev("orders", ("EXPELLER", "Poland"), text=text),
            text=text)
    # Predicted: Poland linked to the first trigger only.
    p = doc(ev("expels", ("EXPELLER", "Poland"), text=text), ev("orders", text=text), text=text)
    s = score_documents([g], [p])
    assert prf(s["argument"]) == (1, 1, 1, 1, 1, 1)
    assert prf(s["argument_attached"]) == (1, 0.5, 0.6667, 1, 1, 2)


def test_arg_c_plus_needs_the_right_trigger():
    g = doc(ev("expel", ("EXPELLED", "two Russian diplomats")))
    text2 = TEXT
    # Right (role, span), attached to a wrong trigger ("spying") that is not a gold trigger.
    p = doc(Event(sp("TRIGGER", "spying", text2), [sp("EXPELLED", "two Russian diplomats", text2)]))
    s = score_documents([g], [p])
    assert prf(s["argument"]) == (1, 1, 1, 1, 1, 1)
    assert prf(s["argument_attached"]) == (0, 0, 0, 0, 1, 1)
    assert prf(s["trigger"]) == (0, 0, 0, 0, 1, 1)


def test_per_role_and_wrong_role():
    g = doc(ev("expel", ("EXPELLER", "Poland"), ("EXPELLER", "Hungary"), ("DEADLINE", "Friday"),
               ("REASON", "spying")))
    p = doc(ev("expel", ("EXPELLER", "Poland"), ("TIME", "Friday"), ("REASON", "spying by Friday")))
    s = score_documents([g], [p])
    assert prf(s["per_role"]["EXPELLER"]) == (1, 0.5, 0.6667, 1, 1, 2)
    assert prf(s["per_role"]["DEADLINE"]) == (0, 0, 0, 0, 0, 1)
    assert prf(s["per_role"]["TIME"]) == (0, 0, 0, 0, 1, 0)
    assert prf(s["per_role"]["REASON"]) == (0, 0, 0, 0, 1, 1)
    assert prf(s["argument"]) == (round(1 / 3, 4), 0.25, round(2 / 7, 4), 1, 3, 4)


def test_documents_are_scored_separately():
    g = [doc(ev("expel"), id="a"), doc(id="b")]
    p = [doc(id="a"), doc(ev("expel"), id="b")]
    s = score_documents(g, p)
    assert prf(s["trigger"]) == (0, 0, 0, 0, 1, 1)
    assert prf(s["document"]) == (0, 0, 0, 0, 1, 1)


def test_different_documents_are_an_error():
    with pytest.raises(CorpusError, match="different documents"):
        score_documents([doc(id="a")], [doc(id="b")])


# ----------------------------------------------------------------------------- bootstrap

def _corpus() -> tuple[list[Document], list[Document]]:
    gold, pred = [], []
    for i in range(12):
        g = doc(ev("expel", ("EXPELLER", "Poland"), ("EXPELLED", "two Russian diplomats")), id=f"d{i}")
        gold.append(g)
        if i % 3 == 0:
            pred.append(doc(id=f"d{i}"))                                     # missed
        elif i % 3 == 1:
            pred.append(doc(ev("expel", ("EXPELLER", "Poland and Hungary")), id=f"d{i}"))
        else:
            pred.append(g)
    return gold, pred


def test_document_counts_sum_to_the_corpus_scores():
    gold, pred = _corpus()
    counts = document_counts(gold, pred).sum(axis=0)
    s = score_documents(gold, pred)
    assert tuple(counts[0]) == (s["trigger"]["tp"], s["trigger"]["pred"], s["trigger"]["gold"])
    assert tuple(counts[1]) == (s["argument"]["tp"], s["argument"]["pred"], s["argument"]["gold"])


def test_bootstrap_contains_point_estimate_and_is_seeded():
    gold, pred = _corpus()
    s = score_documents(gold, pred)
    ci = bootstrap_ci(gold, pred, resamples=300, seed=7)
    for path in (("trigger",), ("argument",), ("argument_attached",), ("per_role", "EXPELLER")):
        point, interval = s, ci
        for key in path:
            point, interval = point[key], interval[key]
        for name in ("precision", "recall", "f1"):
            lo, hi = interval[name]
            assert lo <= point[name] <= hi, (path, name, lo, point[name], hi)
    assert ci == bootstrap_ci(gold, pred, resamples=300, seed=7)
    assert ci != bootstrap_ci(gold, pred, resamples=300, seed=8)


def test_bootstrap_of_a_perfect_system_is_degenerate_and_zero_means_none():
    gold, _ = _corpus()
    assert bootstrap_ci(gold, gold, resamples=50, seed=1)["argument"]["f1"] == (1.0, 1.0)
    assert bootstrap_ci(gold, gold, resamples=0) == {}
    with pytest.raises(ValueError, match="resamples"):
        bootstrap_ci(gold, gold, resamples=-1)
