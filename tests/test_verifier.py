"""The trigger verifier (pipeline/events/verifier.py): what it learns from, that it travels with the
model as JSON, and that the tagger drops the events it rejects."""

from __future__ import annotations

import pytest

from pipeline.training.corpus import load_gold
from pipeline.schema import Document, Event, Span
from pipeline.events.verifier import VERIFIER_FILE, context, fit_verifier, load_verifier, training_examples, verify


@pytest.fixture(scope="module")
def verifier():
    return fit_verifier(load_gold(["data/gold/dev.jsonl", "data/gold/train.jsonl"]))


def test_examples_are_gold_triggers_and_the_other_expulsion_words():
    text = "Peru expels a Chilean diplomat. Chile threatens to expel Peruvian diplomats."
    doc = Document("d", text, [Event(Span("TRIGGER", 5, 11, "expels"))])
    texts, labels = training_examples([doc])
    assert labels == [1, 0] and texts[0].startswith("t_expels l_peru r_a r_chilean")
    assert "t_expel l_chile l_threatens l_to" in texts[1]
    assert fit_verifier([doc]) is None                  # too little to learn from: no verifier
    assert fit_verifier([Document("x", "no such word")]) is None


def test_it_travels_with_the_model_and_scores_the_same(verifier, tmp_path):
    verifier.save(tmp_path / VERIFIER_FILE)
    again = load_verifier(tmp_path)
    texts = [context("Russia expels a journalist.", 7, 13), context("Russia expels a diplomat.", 7, 13)]
    assert list(again.model_scores(texts)) == pytest.approx(list(verifier.model_scores(texts)))
    assert load_verifier(tmp_path / "elsewhere") is None


def test_verify_drops_the_events_below_the_threshold(verifier):
    docs = [Document("a", "Russia expels a diplomat.", [Event(Span("TRIGGER", 7, 13, "expels"))])]
    assert verify(docs, verifier, 0.0)[0].events and not verify(docs, verifier, 1.0)[0].events
    assert docs[0].events                                          # the input is left as it was


def test_the_tagger_applies_the_verifier_of_its_model_dir(tiny_model_dir, verifier, tmp_path):
    import shutil

    from pipeline.tagger import Tagger

    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    verifier.save(model / VERIFIER_FILE)
    assert Tagger.from_pretrained(str(model), precision="fp32", verifier=0.4).verifier is not None
    assert Tagger.from_pretrained(str(model), precision="fp32").verifier is None       # off by default
    strict = Tagger.from_pretrained(str(model), precision="fp32", verifier=1.0)
    assert all(not d.events for d in strict.predict([Document("x", "Peru expels a Chilean diplomat.")]))


def test_events_under_the_minimum_trigger_score_are_dropped():
    from pipeline.training.modeling import build_tiny_bert
    from pipeline.tagger import Tagger, TaggerSettings
    from tests.test_span_edges import _NoisyModel

    _, tokenizer = build_tiny_bert(seed=0)
    text = "Poland expels 45 Russian diplomats for spying. " * 4
    kept = Tagger(_NoisyModel(3), tokenizer, TaggerSettings(runtime="onnx")).predict([Document("x", text)])
    assert kept[0].events
    none = Tagger(_NoisyModel(3), tokenizer, TaggerSettings(runtime="onnx", min_trigger_score=1.0)).predict(
        [Document("x", text)])
    assert not none[0].events
    some = Tagger(_NoisyModel(3), tokenizer, TaggerSettings(runtime="onnx", min_trigger_score=0.3)).predict(
        [Document("x", text)])
    assert all(e.trigger.score >= 0.3 for e in some[0].events)


def test_every_trained_model_carries_its_verifier_off_by_default(tiny_model_dir):
    """The train stage fits and saves the verifier (verifier.json) whatever the run's
    threshold, so tagger.verifier=0.4 can turn it on at prediction."""
    from pipeline.tagger import Tagger, TaggerSettings

    assert (tiny_model_dir / VERIFIER_FILE).is_file()
    assert load_verifier(tiny_model_dir) is not None
    assert Tagger.from_dir(str(tiny_model_dir), TaggerSettings()).settings.verifier == 0.0
