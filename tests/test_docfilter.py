"""The cascade document filter: trains, saves plain JSON, reloads to identical scores, keeps recall."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from pipeline.batch.docfilter import (CHAR, FILTER_FILE, GATE, WORD, DocFilter, FilterError, _vectorizer,
                                      filter_recall, fit_filter, train_filter)
from pipeline.schema import Document, Event, Span

STATES = ["Poland", "Norway", "Peru", "Moldova", "Estonia", "Japan", "Kenya", "Chile", "Ghana", "Latvia"]
WHO = ["two Russian diplomats", "the Chinese ambassador", "eight embassy staff", "a consul",
       "three military attachés", "the chargé d'affaires"]
VERBS = ["expels", "orders the expulsion of", "declares persona non grata", "expelled", "will expel"]
WHY = ["over spying activities", "for alleged espionage", "in response to new sanctions", ""]
NEWS = ["Stocks fall in {s} as inflation rises.", "{s} wins the regional football cup.",
        "Floods in {s} leave thousands homeless.", "{s} opens a new rail line to the coast.",
        "Elections in {s} end with a narrow result.", "A storm hits the capital of {s}.",
        "{s} reports record wheat harvest this year.", "Health ministry of {s} starts a vaccine drive."]
HARD = ["{s} threatens to expel {w}.", "{s} expels migrants at the border.",
        "A party in {s} expels a senator.", "{s} recalls its own ambassador."]


def _corpus(n: int, seed: int) -> list[Document]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        s, w = rng.choice(STATES), rng.choice(WHO)
        kind = rng.random()
        if kind < 0.25:
            text = f"{s} {rng.choice(VERBS)} {w} {rng.choice(WHY)}".strip() + "."
            k = text.index(" ") + 1
            ev = [Event(Span("TRIGGER", k, k + 6, text[k:k + 6]))]
        else:
            tpl = rng.choice(HARD) if kind < 0.4 else rng.choice(NEWS)
            text, ev = tpl.format(s=s, w=w), []
        docs.append(Document(f"d{seed}-{i}", text, ev, {"date": "2015-01-01"}))
    return docs


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("filter")
    report = train_filter(_corpus(240, seed=1), model_dir)
    return model_dir, report


def test_saved_as_plain_json_and_reloads_to_identical_scores(trained):
    model_dir, report = trained
    path = Path(model_dir) / FILTER_FILE
    obj = json.loads(path.read_text(encoding="utf-8"))       # plain JSON, nothing pickled
    assert obj["format"] == "expel-docfilter" and len(obj["features"]) == 2
    assert {"vocabulary", "idf", "spec"} <= set(obj["features"][0])
    assert not any(Path(model_dir).glob("*.pkl")) and not any(Path(model_dir).glob("*.joblib"))
    texts = [d.text for d in _corpus(60, seed=2)] + ["", "x" * 5000]
    a, b = DocFilter.load(path), DocFilter.load(path)
    assert np.array_equal(a.scores(texts), b.scores(texts))
    assert report["threshold"] == pytest.approx(a.threshold)


def test_threshold_from_train_cv_keeps_recall(trained):
    model_dir, report = trained
    assert report["cv_recall"] >= 0.99 and report["positives"] > 0
    f = DocFilter.load(Path(model_dir) / FILTER_FILE)
    held_out = _corpus(200, seed=3)
    r = filter_recall(f, held_out)
    assert r["recall"] >= 0.99, r["missed"]
    assert r["negative_pass_rate"] < 0.7                     # it does filter something


def test_long_text_is_scored_by_its_best_piece(trained):
    model_dir, _ = trained
    f = DocFilter.load(Path(model_dir) / FILTER_FILE)
    event = "Poland expels two Russian diplomats over spying activities. "
    filler = "Floods in Chile leave thousands homeless. " * 200
    assert f.keep([filler + event + filler])[0]
    assert not f.keep([filler + filler])[0]


def test_reserved_items_never_train_the_filter(tmp_path):
    docs = _corpus(120, seed=4)
    late = [Document(f"late{i}", "Poland expels two Russian diplomats.", [], {"date": "2023-05-01"})
            for i in range(30)]
    report = train_filter(docs + late, tmp_path)
    assert report["train_docs"] == 120


def test_scores_equal_scikit_learns_without_importing_it(trained):
    """The filter applies its saved vocabularies and weights itself; scikit-learn (which
    fits them) must give the same probabilities."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    docs = _corpus(240, seed=1)
    texts, labels = [d.text for d in docs], [int(bool(d.events)) for d in docs]
    ours = fit_filter(texts, labels)
    vs = [_vectorizer(s) for s in (WORD, CHAR)]
    lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(
        sp.hstack([v.fit_transform(texts) for v in vs]).tocsr(), labels)
    probe = [d.text for d in _corpus(80, seed=9)] + ["", "Ça va?  Tab\tand  spaces", "a b c"]
    want = lr.predict_proba(sp.hstack([v.transform(probe) for v in vs]).tocsr())[:, 1]
    np.testing.assert_allclose(ours.model_scores(probe), want, atol=1e-12)


def test_the_gate_lets_every_gold_event_document_through():
    from pipeline.training.corpus import load_gold

    docs = load_gold(["data/gold/train.jsonl", "data/gold/dev.jsonl",
                      "seeds/nato-expels-eight-russian-officials.events.jsonl"])
    f = DocFilter([], np.zeros(0), 0.0, 0.0, gate=GATE)
    passed = f.gated([d.text for d in docs])
    missed = [d.id for d, k in zip(docs, passed) if d.events and not k]
    assert missed == []
    assert passed.mean() < 0.75                       # and it is a gate: many negatives stop


def test_a_version_1_filter_file_still_loads_without_a_gate(trained, tmp_path):
    model_dir, _ = trained
    obj = json.loads((Path(model_dir) / FILTER_FILE).read_text())
    old = tmp_path / "v1.json"
    old.write_text(json.dumps({k: v for k, v in obj.items() if k != "gate"} | {"version": 1}))
    f = DocFilter.load(old)
    assert f.gate is None and f.gated(["Stocks fall."]).all()


def test_corrupt_or_tampered_files_are_refused(trained, tmp_path):
    model_dir, _ = trained
    obj = json.loads((Path(model_dir) / FILTER_FILE).read_text())
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(FilterError, match="not valid JSON"):
        DocFilter.load(bad)
    obj2 = dict(obj, coef=obj["coef"][:-1])
    bad.write_text(json.dumps(obj2))
    with pytest.raises(FilterError, match="'coef' has"):
        DocFilter.load(bad)
    spec = dict(obj["features"][0]["spec"], token_pattern="(a+)+$")   # no regex from the file
    obj3 = dict(obj, features=[dict(obj["features"][0], spec=spec), obj["features"][1]])
    bad.write_text(json.dumps(obj3))
    with pytest.raises(FilterError, match="unknown vectoriser settings"):
        DocFilter.load(bad)
    bad.write_text(json.dumps(dict(obj, gate="(a+)+$")))              # nor a gate pattern
    with pytest.raises(FilterError, match="unknown keyword gate"):
        DocFilter.load(bad)
    with pytest.raises(FilterError, match="does not exist"):
        DocFilter.load(tmp_path / "none.json")


@pytest.mark.slow
def test_gold_dev_recall():
    """On the real gold splits: threshold from train CV, recall on dev event documents >= 0.99."""
    from pipeline.training.corpus import load_gold

    root = Path(__file__).resolve().parent.parent
    train_p, dev_p = root / "data/gold/train.jsonl", root / "data/gold/dev.jsonl"
    if not (train_p.is_file() and dev_p.is_file()):
        pytest.skip("gold splits not present")
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        train_filter(load_gold(str(train_p)), d)
        r = filter_recall(DocFilter.load(Path(d) / FILTER_FILE), load_gold(str(dev_p)))
    assert r["recall"] >= 0.99, r["missed"]


def test_word_memo_gives_the_scores_of_a_filter_without_it(trained, monkeypatch):
    """Each word's character n-grams are looked up once and remembered; a filter that has
    seen many texts, and one whose memory filled up and started afresh, score exactly as
    one that remembers nothing."""
    import pipeline.batch.docfilter as docfilter

    model_dir, _ = trained
    probe = [d.text for d in _corpus(60, seed=4)] + ["x" * 60 + " blob", ""]
    used = DocFilter.load(model_dir / FILTER_FILE)
    used.model_scores([d.text for d in _corpus(300, seed=5)] + probe)
    assert used.features[1]._word_columns             # the memo was filled
    got = used.model_scores(probe)
    with monkeypatch.context() as m:
        m.setattr(docfilter, "MEMO_WORDS", 5)          # full after five words: cleared often
        small = DocFilter.load(model_dir / FILTER_FILE)
        small_scores = small.model_scores(probe)
        assert len(small.features[1]._word_columns) <= 5
        m.setattr(docfilter, "MEMO_WORD_CHARS", 0)     # nothing remembered
        none = DocFilter.load(model_dir / FILTER_FILE)
        want = none.model_scores(probe)
        assert not none.features[1]._word_columns
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
    np.testing.assert_allclose(small_scores, want, rtol=0, atol=1e-15)
    assert "x" * 60 not in used.features[1]._word_columns      # a long blob is not remembered
