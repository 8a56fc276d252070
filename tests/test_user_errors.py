"""One clear line for each user error of the first hour: settings, corpus files, merges."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.errors import ConfigError, json_problem


def test_python_api_names_the_closest_setting(tiny_model_dir):
    from pipeline.tagger import Tagger

    with pytest.raises(ConfigError, match="unknown tagger setting 'batchsize'.*Did you mean 'batch_size'"):
        Tagger.from_pretrained(str(tiny_model_dir), batchsize=8)


def test_tagger_takes_a_date_and_gives_record_fields(tiny_model_dir):
    from pipeline.tagger import Tagger

    tagger = Tagger.from_pretrained(str(tiny_model_dir), precision="fp32")
    doc = tagger("Poland expels 45 Russian diplomats; they must leave by Saturday.", date="2023-03-01")
    assert doc.date == "2023-03-01"
    for ev in doc.events:
        assert {"count", "expeller_country", "deadline_date"} <= set(ev.extra)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        tagger("Peru expels a diplomat.", date="03/01/2023")
    assert isinstance(tagger.records(["Peru expels a diplomat."], dates=["2023-03-01"]), list)
    with pytest.raises(ValueError, match="one date per text"):
        tagger.records(["a", "b"], dates=["2023-03-01"])


def test_json_errors_read_as_one_phrase():
    try:
        json.loads('{"text": "a\tb"}')
    except json.JSONDecodeError as e:
        text = json_problem(e)
    assert "at at" not in text and text.startswith("Invalid control character at column")
    assert "escaped" in text


def test_expel_check_lists_every_problem_of_a_file(tmp_path, capsys):
    from pipeline.annotation.check import main

    p = tmp_path / "bad.jsonl"
    p.write_text("\n".join([
        '{"id": "a", "text": "x", "events": []}',
        '{"id": "b", "text": "y\tz", "events": []}',
        '{"id": "a", "text": "q", "events": []}',
        '{"id": "c", "text": "Peru expels", "events": [{"trigger": {"start": 5, "end": 11, "text": "expelx"}}]}',
        "{broken"]) + "\n", encoding="utf-8")
    assert main([str(p)]) == 1
    captured = capsys.readouterr()
    assert all(f"line {n}" in captured.err for n in (2, 3, 4, 5))
    assert "FAILED: 1 file(s) read, 4 error(s)" in captured.out
    assert main([str(p), "--max-errors", "2"]) == 1
    captured = capsys.readouterr()
    assert "and 2 more problem(s)" in captured.err and "FAILED: 1 file(s) read, 4 error(s)" in captured.out


def test_merge_shows_where_two_texts_differ():
    from pipeline.annotation.merge import plan_merge
    from pipeline.schema import Document

    a = "Poland expels 45 Russian diplomats for spying, the foreign ministry said on Monday in Warsaw."
    b = a.replace("Monday", "Tuesday")
    report = plan_merge([Document("x", a)], [Document("x", b)])
    (msg,) = report.refused
    assert "differ from character" in msg and "Monday" in msg and "Tuesday" in msg


def test_merge_keeps_the_split_by_year_and_names_unreviewed_documents():
    from pipeline.formats.labelstudio import UNCHANGED
    from pipeline.annotation.merge import plan_merge, split_years
    from pipeline.schema import Document

    new = [Document("old", "Peru expels a diplomat.", meta={"date": "2015-01-02"}),
           Document("dev", "Chile expels a diplomat.", meta={"date": "2021-05-06", UNCHANGED: True})]
    report = plan_merge([], new, years=split_years("data/gold/train.jsonl"))
    assert [d.id for d in report.added] == ["old"] and report.other_years == {"dev.jsonl": ["dev"]}
    assert "belong in dev.jsonl" in report.text()
    report = plan_merge([], new, years=split_years("data/gold/dev.jsonl"))
    assert [d.id for d in report.added] == ["dev"] and report.unreviewed == ["dev"]
    assert "exactly the model's proposed spans" in report.text()
    assert UNCHANGED not in report.added[0].meta                  # bookkeeping never reaches gold
    assert plan_merge([], new).other_years == {}                  # a file of another name: any year


def test_label_studio_annotation_equal_to_the_prediction_is_flagged():
    from pipeline.formats.labelstudio import UNCHANGED, parse_task

    region = {"id": "r1", "type": "labels", "from_name": "label", "to_name": "text",
              "value": {"start": 5, "end": 11, "text": "expels", "labels": ["TRIGGER"]}}
    task = {"data": {"id": "t", "text": "Peru expels a diplomat."},
            "annotations": [{"result": [region]}], "predictions": [{"result": [region]}]}
    assert parse_task(task, index=1).meta.get(UNCHANGED) is True
    task["annotations"] = [{"result": []}]
    assert UNCHANGED not in parse_task(task, index=1).meta


def test_annotate_says_which_gold_file_each_pick_belongs_in():
    from pipeline.stages.annotate import merge_targets

    assert merge_targets(["2015-01-01", "2021-02-02", "2021-03-03", None, "2024-01-01"]) == {
        "data/gold/train.jsonl": 1, "data/gold/dev.jsonl": 2, "your own file": 2}


@pytest.mark.parametrize("stage, present, absent", [
    ("predict", ["date_field", "overwrite", "tagger.batch_size"], ["trainer.epochs", "augment"]),
    ("train", ["trainer.epochs", "augment.deadlines", "experiment=tiny"], ["date_field"]),
])
def test_stage_help_lists_the_stage_own_settings(stage, present, absent):
    res = subprocess.run([sys.executable, "-c", f"from pipeline.cli import {stage}_main; {stage}_main()", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"expel-{stage}: ")
    assert all(p in res.stdout for p in present) and not any(a in res.stdout for a in absent)
