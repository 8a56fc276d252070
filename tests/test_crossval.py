"""Time-blocked cross-validation: folds are contiguous year blocks, every document is held
out exactly once, and the report pools what the folds predicted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.training.corpus import load_gold, time_folds, year_blocks
from pipeline.errors import ConfigError, CorpusError
from pipeline.schema import Document, Event, Span
from pipeline.evaluation.scoring import recall_by_trigger_form

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
    from pipeline.evaluation.crossval import write_crossval_report
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
    from pipeline.evaluation.crossval import current_decoding

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


def test_the_model_card_and_the_evaluation_lead_with_the_recipes_cross_validated_figures(tmp_path):
    """A two-fold sweep of the tiny recipe writes estimate.json; a model trained with the
    same recipe carries those figures first (card, evaluation report, console), one with
    another recipe says they were not measured and what differs."""
    from omegaconf import OmegaConf

    from pipeline.config import compose_config
    from pipeline.evaluation.crossval import find_estimate, write_crossval_report
    from pipeline.stages import evaluate, train
    from tests.helpers import compose

    common = ["experiment=tiny", "trainer.max_steps=2", "doc_filter=false", "measure_precision=false"]
    sweep = tmp_path / "sweep"
    for fold in (0, 1):
        job = sweep / f"{fold}_data.fold={fold}"
        overrides = [*common, "data.folds=2", f"data.fold={fold}", "save_model=true"]
        train(compose_config("train", overrides), job)
        (job / ".hydra").mkdir()
        (job / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(compose("train", overrides)))
        (job / ".hydra" / "overrides.yaml").write_text(json.dumps([f"data.fold={fold}", "trainer.max_steps=2"]))
    md = write_crossval_report(sweep, command="expel-train experiment=crossval (test)")
    html = md.with_suffix(".html").read_text()
    assert "<title>Cross-validation report</title>" in html and "Pooled F1 with 95% bootstrap intervals" in html
    (estimate,) = json.loads((sweep / "estimate.json").read_text())
    assert estimate["folds"] == 2 and estimate["provenance"]["command"] == "expel-train experiment=crossval (test)"
    assert set(estimate["mean_std"]) >= {"Tri-C", "Arg-C", "Arg-C+", "REASON (Arg-C)"}

    res = train(compose_config("train", [*common, f"output_dir={tmp_path}/same", f"crossval_estimates={sweep}"]),
                tmp_path / "run_same")
    card = (Path(res["model_dir"]) / "README.md").read_text()
    assert card.index("## Out-of-sample estimate") < card.index("| Trigger (Tri-C) |")
    arg = estimate["mean_std"]["Arg-C"]
    assert f"| Arg-C | {arg['mean']:.3f} ± {arg['std']:.3f} |" in card and "Provenance:" in card

    other = train(compose_config("train", ["experiment=tiny", "trainer.max_steps=3", "doc_filter=false",
                                           "measure_precision=false", f"output_dir={tmp_path}/other",
                                           f"crossval_estimates={sweep}"]), tmp_path / "run_other")
    card = (Path(other["model_dir"]) / "README.md").read_text()
    assert "not measured for this recipe" in card and "trainer.max_steps (3 vs 2)" in card
    assert find_estimate({"trainer": {"max_steps": 2}}, tmp_path / "nothing")["measured"] is False

    out = evaluate(compose_config("evaluate", [f"model_dir={res['model_dir']}", "gold=tests/fixtures/gold/dev.jsonl",
                                               "baselines=false", "bootstrap=0", "tagger.max_length=64",
                                               "tagger.stride=16", "tagger.precision=fp32", "tagger.runtime=torch"]),
                   tmp_path / "eval")
    report = Path(out["report"]).read_text()
    assert report.index("Out-of-sample estimate of this model's recipe") < report.index("## Scores")
    assert out["metrics"]["estimate"]["measured"] is True
    changed = evaluate(compose_config("evaluate", [f"model_dir={res['model_dir']}", "gold=tests/fixtures/gold/dev.jsonl",
                                                   "baselines=false", "bootstrap=0", "tagger.precision=fp32",
                                                   "tagger.runtime=torch", "tagger.min_trigger_score=0.1"]),
                       tmp_path / "eval2")
    assert "decodes otherwise" in changed["metrics"]["estimate"]["note"]
    assert "tagger.min_trigger_score (0.1 here, 0.8 cross-validated)" in Path(changed["report"]).read_text()


def test_experiment_crossval_ends_with_its_report(tmp_path, capsys):
    """The sweep's Hydra callback writes the report when the last fold is done; with no
    finished fold it says how to write it later and raises nothing (the folds' work stays)."""
    import yaml
    from omegaconf import OmegaConf

    from pipeline.cli import CrossvalReport

    callbacks = yaml.safe_load(open("configs/experiment/crossval.yaml"))["hydra"]["callbacks"]
    assert callbacks["crossval_report"]["_target_"] == "pipeline.cli.CrossvalReport"
    empty = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}, "overrides": {"task": ["data.fold=0"]}}})
    CrossvalReport().on_multirun_end(empty)
    err = capsys.readouterr().err
    assert "could not be written" in err and f"benchmarks/crossval_report.py {tmp_path}" in err


@pytest.mark.slow
def test_expel_train_experiment_crossval_writes_the_report_itself(tmp_path):
    """The command as a user types it (a two-fold tiny sweep): the report is in the sweep folder."""
    import subprocess

    sweep = tmp_path / "sweep"
    proc = subprocess.run(["expel-train", "experiment=crossval", "data=fixture", "model=tiny", "trainer.epochs=1",
                           "trainer.max_steps=2", "data.folds=2", "data.fold=0,1", "data.synthetic=[]",
                           "augment.articles=0.0", f"hydra.sweep.dir={sweep}"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"Cross-validation report: {sweep}/crossval.html" in proc.stdout
    md = (sweep / "crossval.md").read_text()
    assert "lexicon rules (baseline)" in md and "· articles" in md and "## Errors by kind across folds" in md
    (estimate,) = json.loads((sweep / "estimate.json").read_text())
    assert estimate["provenance"]["training"].startswith("expel-train experiment=crossval")


def test_the_kind_of_a_missed_or_spurious_event_reads_whole_words():
    from pipeline.report.analysis import event_kind
    from pipeline.schema import Span

    def kind(text: str) -> str:
        i = text.index("expel")
        return event_kind(text, Span("TRIGGER", i, i + 6, text[i:i + 6]))

    assert kind("On 5 May, Bangladesh and several states expel two diplomats.") == "other mentions"
    assert kind("Russia may expel British diplomats.") == "threats and calls"
    assert kind("Peru expels 30 journalists.") == "non-officials"
    assert kind("Moldova expels the envoy and bans him from entering.") == "entry bans"
