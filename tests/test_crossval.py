"""Time-blocked cross-validation: folds are contiguous year blocks, every document is held
out exactly once, and the report pools what the folds predicted."""

from __future__ import annotations

import json

import pytest

from pipeline.corpus import load_gold, time_folds, year_blocks
from pipeline.errors import ConfigError, CorpusError
from pipeline.schema import Document, Event, Span
from pipeline.scoring import recall_by_trigger_form

GOLD = ["data/gold/train.jsonl", "data/gold/dev.jsonl", "seeds/nato-expels-eight-russian-officials.events.jsonl"]


def dated(year: int, events: int, i: int = 0) -> Document:
    text = "Peru expels a diplomat."
    evs = [Event(Span("TRIGGER", 5, 11, "expels")) for _ in range(events)]
    return Document(f"d{year}-{i}", text, evs, {"date": f"{year}-05-01"})


def test_blocks_are_contiguous_and_hold_about_as_many_events():
    docs = [dated(y, n) for y, n in [(2001, 3), (2002, 3), (2003, 3), (2004, 3), (2005, 3), (2006, 3)]]
    assert year_blocks(docs, 3) == [("2001", "2002"), ("2003", "2004"), ("2005", "2006")]


def test_on_the_gold_corpus_every_document_is_held_out_once():
    docs = load_gold(GOLD)
    folds = time_folds(docs, 5)
    held = [d.id for f in folds for d in f.heldout]
    assert sorted(held) == sorted(d.id for d in docs)
    for f in folds:
        assert not {d.id for d in f.train} & {d.id for d in f.heldout}
        years = {str(d.date)[:4] for d in f.heldout}
        assert min(years) == f.years[0] and max(years) == f.years[1]
        assert sum(len(d.events) for d in f.heldout) >= 20          # no fold is nearly empty
    assert [f.years for f in folds] == sorted(f.years for f in folds)


def test_undated_documents_and_bad_fold_numbers_are_refused():
    with pytest.raises(CorpusError, match="needs a date on every document"):
        year_blocks([Document("x", "t")], 2)
    with pytest.raises(CorpusError, match="at least 3 distinct years"):
        year_blocks([dated(2001, 1), dated(2002, 1)], 3)
    with pytest.raises(ConfigError, match="at least 2"):
        time_folds([dated(2001, 1)], 1)


def test_recall_by_trigger_form_counts_each_gold_trigger_once():
    gold = [Document("a", "Peru expels a diplomat.", [Event(Span("TRIGGER", 5, 11, "expels"))]),
            Document("b", "Chile Expels a diplomat.", [Event(Span("TRIGGER", 6, 12, "Expels"))])]
    pred = [gold[0], Document("b", gold[1].text)]
    assert recall_by_trigger_form(gold, pred) == {"expels": {"gold": 2, "found": 1, "recall": 0.5}}


def test_a_crossval_sweep_of_the_tiny_model_gives_a_pooled_report(tmp_path):
    """Two folds of the fixture corpus through the real train stage, then the report."""
    from pipeline.config import compose_config
    from pipeline.crossval import write_crossval_report
    from pipeline.stages import train

    sweep = tmp_path / "sweep"
    for fold in (0, 1):
        job = sweep / f"{fold}_data.fold={fold}"
        overrides = ["experiment=tiny", "data.folds=2", f"data.fold={fold}", "trainer.max_steps=2",
                     "save_model=true", "doc_filter=false", "measure_precision=false"]
        train(compose_config("train", overrides), job)
        (job / ".hydra").mkdir()
        from omegaconf import OmegaConf

        from tests.helpers import compose

        (job / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(compose("train", overrides)))
        (job / ".hydra" / "overrides.yaml").write_text(json.dumps([f"data.fold={fold}", "trainer.max_steps=2"]))
    md = write_crossval_report(sweep).read_text()
    assert "| `trainer.max_steps=2` | 2 |" in md                  # one recipe, two folds
    data = json.loads((sweep / "crossval.json").read_text())["trainer.max_steps=2"]
    total = sum(len(d.events) for f in ("train", "dev") for d in load_gold(f"tests/fixtures/gold/{f}.jsonl"))
    forms = data["trigger_forms"]
    assert sum(v["gold"] for v in forms.values()) == total       # every gold trigger, held out once
    assert set(data["mean_std"]) >= {"Tri-C", "Arg-C", "Arg-C+"} and data["curves"]["argument"]
    assert (sweep / "crossval_curves.png").stat().st_size > 1000
    # the same folds, their held-out items composed into articles and tagged by the fold models
    md = write_crossval_report(sweep, articles=True).read_text()
    assert "## Articles and summaries" in md and "| `trainer.max_steps=2` | articles |" in md
    arts = json.loads((sweep / "crossval.json").read_text())["trainer.max_steps=2 · articles"]
    from pipeline.formats.jsonl import read_events_jsonl

    composed = [d for f in (0, 1) for d in read_events_jsonl(str(sweep / f"{f}_data.fold={f}" / "articles"
                                                                  / "heldout_gold.jsonl"))]
    assert any("\n\n" in d.text for d in composed)                  # paragraphs
    assert sum(v["gold"] for v in arts["trigger_forms"].values()) >= total   # + headline mentions
    # tagged again with other decoding settings: same recipe, curves kept, settings said
    from pipeline.crossval import current_decoding

    changes = {**current_decoding(), "min_trigger_score": 0.0, "windows": "document"}
    md = write_crossval_report(sweep, retag=changes).read_text()
    assert "`tagger.windows=document`" in md and "| `trainer.max_steps=2` | 2 |" in md
    again = json.loads((sweep / "crossval.json").read_text())["trainer.max_steps=2"]
    assert again["curves"] == data["curves"] and "| 0 | " in md and "_data.fold=0 |" in md
    for f in (0, 1):
        retagged = sweep / f"{f}_data.fold={f}" / "retagged" / "current"
        assert json.loads((retagged / "settings.json").read_text()) == changes
        assert len(list(read_events_jsonl(str(retagged / "heldout_predictions.jsonl")))) == len(list(
            read_events_jsonl(str(sweep / f"{f}_data.fold={f}" / "heldout_predictions.jsonl"))))
