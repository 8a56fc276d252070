"""Model-in-the-loop annotation: what is picked, what is never picked, the files written,
and the merge of corrected documents back into gold with its checks."""

from __future__ import annotations

import json

import pytest

from pipeline.formats.inline import parse_markup
from pipeline.formats.labelstudio import read_labelstudio
from pipeline.annotation.merge import main as merge_main
from pipeline.annotation.merge import plan_merge
from pipeline.schema import Document, Event, Span
from pipeline.annotation.selection import Candidate, select, span_uncertainty


def scored(doc_id: str, score: float) -> Document:
    text = f"Peru expels a diplomat ({doc_id})."
    return Document(doc_id, text, [Event(Span("TRIGGER", 5, 11, "expels", score))])


def test_uncertainty_peaks_at_the_decision_boundary():
    assert span_uncertainty(scored("a", 0.5)) == 1.0
    assert span_uncertainty(scored("a", 0.99)) == pytest.approx(0.02)
    assert span_uncertainty(Document("b", "x")) is None


def test_selection_mixes_uncertain_confident_and_random_and_never_repeats_a_text():
    cands = [Candidate(scored(f"p{i}", 0.5 + i / 40), True, 0.9) for i in range(20)]
    cands += [Candidate(Document(f"e{i}", f"Embassy news {i}."), True, 0.3 + i / 100) for i in range(10)]
    cands += [Candidate(Document(f"n{i}", f"Stocks fall {i}."), False, 0.0) for i in range(30)]
    cands.append(Candidate(Document("dup", "Stocks fall 3."), False, 0.0))
    picks = select(cands, 10, uncertain_share=0.6, confident_share=0.2, seed=1)
    buckets = [p.bucket for p in picks]
    assert buckets.count("uncertain") == 6 and buckets.count("confident") == 2 and buckets.count("random") == 2
    uncertain = [p.candidate.doc.id for p in picks if p.bucket == "uncertain"]
    assert uncertain[:2] == ["p0", "e9"]            # boundary first, then filter-yes / tagger-no, in turn
    assert [p.candidate.doc.id for p in picks if p.bucket == "confident"] == ["p19", "p18"]
    assert len({p.candidate.doc.text for p in picks}) == 10
    again = select(cands, 10, uncertain_share=0.6, confident_share=0.2, seed=1)
    assert [p.candidate.doc.id for p in again] == [p.candidate.doc.id for p in picks]


def test_a_short_bucket_leaves_its_places_to_the_others():
    cands = [Candidate(Document(f"n{i}", f"Stocks fall {i}."), False, 0.0) for i in range(30)]
    picks = select(cands, 10, seed=1)
    assert len(picks) == 10 and {p.bucket for p in picks} == {"random"}


def test_annotate_stage_writes_tasks_and_never_picks_gold_or_reserved_items(tiny_model_dir, tmp_path):
    from pipeline.config import compose_config
    from pipeline.stages.annotate import annotate

    gold_line = json.loads(open("data/gold/train.jsonl", encoding="utf-8").readline())
    rows = [{"id": f"n{i}", "text": t, "date": "2021-05-01"} for i, t in enumerate(
        ["Poland expels two Russian diplomats.", "Norway orders the Chinese ambassador to leave.",
         "Floods in Chile.", "Stocks fall.", "The embassy in Oslo reopens.", "A storm hits Lima."] * 3)]
    rows += [{"id": "late", "text": "Peru expels a diplomat (reserved).", "date": "2023-04-01"},
             {"id": gold_line["id"], "text": gold_line["text"], "date": gold_line.get("date")},
             {"id": "copy", "text": gold_line["text"], "date": "2019-01-01"}]
    dump = tmp_path / "dump.jsonl"
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    cfg = compose_config("annotate", [f"model_dir={tiny_model_dir}", f"input={dump}", f"output={out}", "n=8",
                                      "tagger.max_length=64", "tagger.stride=16"])
    res = annotate(cfg, tmp_path / "run")
    assert res["excluded"] == 2 and res["reserved"] == 1 and res["picked"] == 6   # six distinct texts
    tasks = json.loads((out / "tasks.labelstudio.json").read_text())
    ids = {t["data"]["id"] for t in tasks}
    assert not ids & {"late", gold_line["id"], "copy"}
    assert all("predictions" in t and "annotations" not in t for t in tasks)
    assert "<Relations>" in (out / "labeling_config.xml").read_text()
    lines = (out / "tasks.doccano.jsonl").read_text().splitlines()
    assert len(lines) == 6 and all({"entities", "relations"} <= set(json.loads(x)) for x in lines)
    sel = [json.loads(x) for x in (out / "selection.jsonl").read_text().splitlines()]
    assert {s["selection"] for s in sel} <= {"uncertain", "confident", "random"}
    # Accepting the predictions as they are gives a corpus our reader takes back.
    for t in tasks:
        t["annotations"] = [{"result": t["predictions"][0]["result"]}]
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    assert len(list(read_labelstudio(str(tmp_path / "export.json")))) == 6
    cfg_all = compose_config("annotate", [f"model_dir={tiny_model_dir}", f"input={dump}", f"output={out}2",
                                          "n=8", "reserved=false", "tagger.max_length=64", "tagger.stride=16"])
    assert annotate(cfg_all, tmp_path / "run2")["reserved"] == 0


def doc(doc_id: str, markup: str, date: str = "2021-01-01") -> Document:
    d = parse_markup(doc_id, markup)
    d.meta["date"] = date
    return d


def test_merge_checks_ids_texts_annotations_and_reserved_dates():
    gold = [doc("g1", "[Peru]{EXPELLER#1} [expels]{TRIGGER#1} [a diplomat]{EXPELLED#1}."),
            doc("g2", "Markets fall.")]
    new = [doc("g1", "[Peru]{EXPELLER#1} [expels]{TRIGGER#1} [a diplomat]{EXPELLED#1}."),           # unchanged
           doc("g2", "Markets [fall]{TRIGGER#1}."),                                                 # other annotations
           doc("n1", "Chile expels a consul."),
           doc("n2", "Markets fall."),                                                              # same text, new id
           doc("late", "Peru expels a consul.", date="2023-02-02")]
    new[4].meta["selection"] = "random"
    r = plan_merge(gold, new)
    assert r.unchanged == ["g1"] and [d.id for d in r.added] == ["n1", "n2"]
    assert r.duplicate_texts == [("n2", "g2")]
    assert any("other annotations; pass --replace" in m for m in r.refused)
    assert any("dated 2023-02-02" in m for m in r.refused)
    r2 = plan_merge(gold, new, replace=True, reservation=False)
    assert [d.id for d in r2.replaced] == ["g2"] and "late" in [d.id for d in r2.added]
    assert all("selection" not in d.meta for d in r2.added)
    changed = plan_merge(gold, [doc("g2", "Markets rise.")])
    assert "another text" in changed.refused[0]
    assert "given twice" in plan_merge(gold, [doc("x", "A."), doc("x", "A.")]).refused[0]


def test_merge_command_writes_only_when_nothing_is_refused(tmp_path, capsys):
    from pipeline.formats.jsonl import read_events_jsonl, write_events_jsonl

    gold = tmp_path / "gold.jsonl"
    write_events_jsonl([doc("g1", "[Peru]{EXPELLER#1} [expels]{TRIGGER#1} [a diplomat]{EXPELLED#1}.")], str(gold))
    new = tmp_path / "new.jsonl"
    write_events_jsonl([doc("n1", "[Chile]{EXPELLER#1} [expels]{TRIGGER#1} [a consul]{EXPELLED#1}.", "2020-02-02")],
                       str(new))
    assert merge_main([str(gold), str(new), "--dry-run"]) == 0
    assert len(list(read_events_jsonl(str(gold)))) == 1
    assert merge_main([str(gold), str(new)]) == 0
    assert [d.id for d in read_events_jsonl(str(gold))] == ["g1", "n1"]
    bad = tmp_path / "bad.jsonl"
    write_events_jsonl([doc("late", "Peru expels a consul.", date="2024-01-01")], str(bad))
    before = gold.read_bytes()
    assert merge_main([str(gold), str(bad)]) == 1 and gold.read_bytes() == before
    assert "reserved for independent evaluation" in capsys.readouterr().out
