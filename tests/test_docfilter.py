"""The cascade document filter: trains, saves plain JSON, reloads to identical scores, keeps recall."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from pipeline.batch.docfilter import (FILTER_FILE, DocFilter, FilterError, filter_recall, sample_background,
                                train_filter)
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


def test_background_sample_is_dated_filtered_and_seeded(tmp_path):
    dump = tmp_path / "dump.jsonl"
    rows = [{"id": f"n{i}", "text": f"Stocks rise for day {i}.", "date": "2010-01-01"} for i in range(50)]
    rows += [{"id": "e1", "text": "Peru expels a diplomat.", "date": "2010-01-01"},
             {"id": "late", "text": "Stocks fall.", "date": "2021-01-01"},
             {"id": "n3x", "text": "Gold item.", "date": "2010-01-01"}]
    dump.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    a = sample_background(dump, size=10, until="2019-12-31", exclude_ids={"n3x"}, seed=1)
    b = sample_background(dump, size=10, until="2019-12-31", exclude_ids={"n3x"}, seed=1)
    assert a == b and len(a) == 10
    assert not any("expels" in t or t in ("Stocks fall.", "Gold item.") for t in a)


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
    with pytest.raises(FilterError, match="does not exist"):
        DocFilter.load(tmp_path / "none.json")


@pytest.mark.slow
def test_gold_dev_recall():
    """On the real gold splits: threshold from train CV, recall on dev event documents >= 0.99."""
    from pipeline.corpus import load_gold

    root = Path(__file__).resolve().parent.parent
    train_p, dev_p = root / "data/gold/train.jsonl", root / "data/gold/dev.jsonl"
    if not (train_p.is_file() and dev_p.is_file()):
        pytest.skip("gold splits not present")
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        train_filter(load_gold(str(train_p)), d)
        r = filter_recall(DocFilter.load(Path(d) / FILTER_FILE), load_gold(str(dev_p)))
    assert r["recall"] >= 0.99, r["missed"]
