"""REASON clauses drawn by rule from the tagger's triggers (pipeline.events.reasons)."""

from __future__ import annotations

import pytest

from pipeline.tagger import TaggerSettings
from pipeline.events.reasons import rule_reasons
from pipeline.schema import make_span


def spans_of(text, *items):
    """Spans from (label, surface text) pairs, each found left to right."""
    out, pos = [], 0
    for label, surface in items:
        start = text.index(surface, pos)
        out.append(make_span(text, label, start, start + len(surface)))
        pos = start + len(surface)
    return out


def reasons(spans):
    return [s.text for s in spans if s.label == "REASON"]


def test_the_clause_after_the_causal_word_replaces_the_taggers_fragment():
    text = "Peru expels two Chilean diplomats for spying on its navy."
    model = spans_of(text, ("TRIGGER", "expels"), ("EXPELLED", "two Chilean diplomats"),
                     ("REASON", "navy"))
    out = rule_reasons(text, model)
    assert reasons(out) == ["spying on its navy"]
    # Every other span is the model's, unchanged.
    assert [s for s in out if s.label != "REASON"] == [s for s in model if s.label != "REASON"]


def test_no_trigger_means_no_reason():
    text = "The minister was accused of spying on the navy."
    assert rule_reasons(text, spans_of(text, ("REASON", "spying on the navy"))) == []


def test_the_search_starts_after_an_expelled_span_that_follows_the_trigger():
    """'for' inside no argument: the clause starts after 'diplomats', not inside EXPELLED."""
    text = "Estonia expels a Russian diplomat for the second time for alleged espionage."
    model = spans_of(text, ("EXPELLER", "Estonia"), ("TRIGGER", "expels"),
                     ("EXPELLED", "a Russian diplomat for the second time"))
    assert reasons(rule_reasons(text, model)) == ["alleged espionage"]


def test_a_clause_that_would_hold_a_trigger_is_not_taken_and_none_overlap():
    text = ("Russia expels ten U.S. diplomats in response to the expulsion of Russian diplomats "
            "by Washington.")
    model = spans_of(text, ("TRIGGER", "expels"), ("EXPELLED", "ten U.S. diplomats"),
                     ("TRIGGER", "expulsion"), ("EXPELLED", "Russian diplomats"),
                     ("EXPELLER", "Washington"))
    out = rule_reasons(text, model)
    for r in (s for s in out if s.label == "REASON"):
        assert not any(t.label == "TRIGGER" and r.start <= t.start < r.end for t in out)
    ordered = sorted(out, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in zip(ordered, ordered[1:]))


def test_two_triggers_in_one_sentence_share_one_clause_not_two():
    text = "Latvia and Lithuania expel and ban two Russian diplomats over espionage."
    model = spans_of(text, ("TRIGGER", "expel"), ("TRIGGER", "ban"),
                     ("EXPELLED", "two Russian diplomats"))
    assert reasons(rule_reasons(text, model)) == ["espionage"]


@pytest.mark.parametrize("field, value", [("reason", "both"), ("decoding", "greedy"), ("linking", "far")])
def test_tagger_settings_refuse_unknown_words(field, value):
    with pytest.raises(ValueError, match=f"{field}={value!r} is not known"):
        TaggerSettings(**{field: value})


def test_evaluate_reports_the_model_with_and_without_the_reason_rule(tiny_model_dir, tmp_path):
    from pipeline.config import compose_config
    from pipeline.stages import evaluate
    from pipeline.stages.evaluate import MODEL_ALONE

    cfg = compose_config("evaluate", [f"model_dir={tiny_model_dir}", "gold=tests/fixtures/gold/dev.jsonl",
                                      "baselines=false", "bootstrap=0"])
    assert cfg.tagger.reason == "rules"
    res = evaluate(cfg, tmp_path / "run")
    m = res["metrics"]
    # Triggers come from the same model either way; only REASON spans may differ.
    assert m["model_reason_from_tagger"]["trigger"] == m["model"]["trigger"]
    for role in ("EXPELLER", "EXPELLED", "TIME", "DEADLINE"):
        assert m["model_reason_from_tagger"]["per_role"].get(role) == m["model"]["per_role"].get(role)
    report = (tmp_path / "run" / "report.md").read_text()
    assert f"{MODEL_ALONE} F1" in report
    assert "REASON spans: clause rule from the model's triggers (reason=rules)" in report


def test_a_clause_running_into_a_model_span_is_cut_or_dropped():
    """'over' reads as causal ("over espionage"), but here the model says what follows is
    the EXPELLER: spans never overlap, so the clause gives way."""
    text = "More than 100 Russian diplomats are expelled from over 20 countries."
    model = spans_of(text, ("EXPELLED", "More than 100 Russian diplomats"), ("TRIGGER", "expelled"),
                     ("EXPELLER", "over 20 countries"))
    out = rule_reasons(text, model)
    ordered = sorted(out, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in zip(ordered, ordered[1:]))
    assert reasons(out) == []
    text = "Peru expels two diplomats for spying on Chile's navy, the ministry says."
    model = spans_of(text, ("TRIGGER", "expels"), ("EXPELLED", "two diplomats"), ("EXPELLER", "Chile"))
    assert reasons(rule_reasons(text, model)) == ["spying"]      # cut before "Chile", "on" trimmed


def test_overlapping_spans_never_reach_the_output(caplog):
    from pipeline.tagger.decoding import without_overlaps

    text = "Peru expels two diplomats."
    spans = spans_of(text, ("TRIGGER", "expels"), ("EXPELLED", "two diplomats"))
    spans.append(make_span(text, "REASON", text.index("diplomats"), len(text) - 1))
    kept = without_overlaps("d1", spans)
    assert [(s.label, s.text) for s in kept] == [("TRIGGER", "expels"), ("EXPELLED", "two diplomats")]
    assert "document d1: dropped REASON 'diplomats'" in caplog.text
