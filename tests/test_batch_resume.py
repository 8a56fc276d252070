"""Batch prediction over a dump: killed and restarted at any point, every input lands exactly once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.batch.store import PROGRESS_FILE, REJECTS_FILE, ShardStore, read_shards
from pipeline.config import PredictConfig
from pipeline.errors import ModelDirError, PredictError, PrecisionError
from pipeline.stages import predict
from tests.helpers import predict_config

N_GOOD, CHUNK = 47, 10
TEXTS = ["Poland expels two Russian diplomats over spying activities.",
         "Floods in Chile leave thousands homeless.",
         "Norway orders the Chinese ambassador to leave within 72 hours. Markets were calm.",
         "Stocks fall in Tokyo."]


class Killed(RuntimeError):
    """Stands in for a kill signal arriving in the middle of the run."""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    from pipeline.training.modeling import build_tiny_bert, save_model

    model, tok = build_tiny_bert(seed=0)
    return save_model(model, tok, tmp_path_factory.mktemp("tiny") / "model", {})


@pytest.fixture()
def dump(tmp_path) -> Path:
    p = tmp_path / "news.jsonl"
    lines = [json.dumps({"id": f"n{i}", "text": TEXTS[i % 4] + f" ({i})", "date": "2021-03-04"})
             for i in range(N_GOOD)]
    lines.insert(12, "{broken json")
    lines.insert(30, json.dumps({"id": "notext", "body": "x"}))
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _cfg(model_dir, dump, out, **kw) -> PredictConfig:
    base = dict(model_dir=str(model_dir), input=str(dump), output=str(out), chunk_size=CHUNK,
                batch_size=4, filter="none", records=False)
    return predict_config(**{**base, **kw})


def _output(out: Path) -> tuple[list[str], list[str]]:
    """(all shard lines in order, all reject lines)."""
    lines = []
    for part in sorted(out.glob("part-*.jsonl")):
        lines.extend(part.read_text(encoding="utf-8").splitlines())
    return lines, (out / REJECTS_FILE).read_text(encoding="utf-8").splitlines()


def _kill_after(monkeypatch, k: int) -> None:
    real = ShardStore.write
    calls = {"n": 0}

    def write(self, *a, **kw):
        if calls["n"] == k:
            raise Killed(f"killed after {k} shards")
        calls["n"] += 1
        return real(self, *a, **kw)

    monkeypatch.setattr(ShardStore, "write", write)


@pytest.fixture()
def reference(model_dir, dump, tmp_path):
    out = tmp_path / "ref"
    summary = predict(_cfg(model_dir, dump, out), tmp_path / "run-ref")
    return summary, _output(out)


def test_full_run_output(reference, dump):
    summary, (lines, rejects) = reference
    docs = [json.loads(x) for x in lines]
    assert [d["id"] for d in docs] == [f"n{i}" for i in range(N_GOOD)]
    assert summary["documents"] == N_GOOD and summary["rejects"] == 2
    assert summary["input_records"] == N_GOOD + 2 and len(summary["shards"]) == 5
    assert all(d["date"] == "2021-03-04" for d in docs)              # input fields kept
    for d in docs:
        for ev in d["events"]:
            for s in (ev["trigger"], *ev["arguments"]):
                assert d["text"][s["start"]:s["end"]] == s["text"] and 0 <= s["score"] <= 1
    rej = [json.loads(x) for x in rejects]
    assert [(r["line"], r["id"]) for r in rej] == [(13, None), (31, "notext")]
    assert rej[0]["source"] == str(dump) and "not valid JSON" in rej[0]["reason"]
    prog = json.loads((Path(summary["output"]) / PROGRESS_FILE).read_text())
    assert prog["complete"] and prog["records"] == N_GOOD + 2
    assert [(s["first"], s["last"], s["count"]) for s in prog["shards"].values()] == \
        [(0, 9, 10), (10, 19, 10), (20, 29, 10), (30, 39, 10), (40, 48, 9)]


@pytest.mark.parametrize("k", [0, 1, 3, 4])
def test_killed_after_k_shards_then_resumed(k, reference, model_dir, dump, tmp_path, monkeypatch):
    out = tmp_path / "out"
    cfg = _cfg(model_dir, dump, out)
    with monkeypatch.context() as m:
        _kill_after(m, k)
        with pytest.raises(Killed):
            predict(cfg, tmp_path / "run1")
    assert len(list(out.glob("part-*.jsonl"))) == k
    summary = predict(cfg, tmp_path / "run2")
    assert summary["skipped_shards"] == k
    assert summary["processed_this_run"] == N_GOOD + 2 - 10 * k
    assert _output(out) == reference[1]                 # same lines: none lost, none doubled
    assert summary["documents"] == N_GOOD and summary["rejects"] == 2


def test_killed_between_rename_and_manifest(reference, model_dir, dump, tmp_path, monkeypatch):
    """A shard file in place but not yet in the manifest, plus a stray temp file: redone once."""
    out = tmp_path / "out"
    cfg = _cfg(model_dir, dump, out)
    real_save = ShardStore.save
    calls = {"n": 0}

    def save(self, complete, records=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Killed("killed before the manifest was updated")
        return real_save(self, complete, records)

    with monkeypatch.context() as m:
        m.setattr(ShardStore, "save", save)
        with pytest.raises(Killed):
            predict(cfg, tmp_path / "run1")
    (out / "part-00003.jsonl.tmp").write_text('{"half": ')
    summary = predict(cfg, tmp_path / "run2")
    assert summary["skipped_shards"] == 2
    assert _output(out) == reference[1]


def test_deleted_last_shard_is_redone(reference, model_dir, dump, tmp_path):
    out = tmp_path / "out"
    cfg = _cfg(model_dir, dump, out)
    predict(cfg, tmp_path / "run1")
    (out / "part-00004.jsonl").unlink()
    summary = predict(cfg, tmp_path / "run2")
    assert summary["skipped_shards"] == 4 and summary["processed_this_run"] == 9
    assert _output(out) == reference[1]


def test_truncated_shard_is_redone(reference, model_dir, dump, tmp_path):
    out = tmp_path / "out"
    cfg = _cfg(model_dir, dump, out)
    predict(cfg, tmp_path / "run1")
    p = out / "part-00001.jsonl"
    p.write_text(p.read_text()[:50])
    summary = predict(cfg, tmp_path / "run2")
    assert summary["skipped_shards"] == 4
    assert _output(out) == reference[1]


def test_finished_run_restarted_does_nothing(reference, model_dir, dump, tmp_path):
    out = tmp_path / "out"
    cfg = _cfg(model_dir, dump, out)
    predict(cfg, tmp_path / "run1")
    summary = predict(cfg, tmp_path / "run2")
    assert summary["skipped_shards"] == 5 and summary["processed_this_run"] == 0
    assert summary["input_records"] == N_GOOD + 2 and _output(out) == reference[1]


def test_other_settings_in_same_output_are_refused(model_dir, dump, tmp_path):
    out = tmp_path / "out"
    predict(_cfg(model_dir, dump, out), tmp_path / "run1")
    with pytest.raises(PredictError, match="chunk_size: was 10, now 20"):
        predict(_cfg(model_dir, dump, out, chunk_size=20), tmp_path / "run2")
    dump.write_text(dump.read_text() + json.dumps({"id": "new", "text": "t"}) + "\n")
    with pytest.raises(PredictError, match="(?s)input_fingerprint.*overwrite=true"):
        predict(_cfg(model_dir, dump, out), tmp_path / "run3")


def test_a_touched_input_resumes_and_overwrite_starts_over(reference, model_dir, dump, tmp_path):
    import os

    out = tmp_path / "out"
    predict(_cfg(model_dir, dump, out), tmp_path / "run1")
    st = dump.stat()
    os.utime(dump, ns=(st.st_atime_ns + 10**9, st.st_mtime_ns + 10**9))       # touch: same content
    summary = predict(_cfg(model_dir, dump, out), tmp_path / "run2")
    assert summary["skipped_shards"] == 5 and summary["processed_this_run"] == 0
    (out / "notes.txt").write_text("mine")                                     # not the run's: kept
    summary = predict(_cfg(model_dir, dump, out, chunk_size=20, overwrite=True), tmp_path / "run3")
    assert summary["skipped_shards"] == 0 and summary["processed_this_run"] == N_GOOD + 2
    assert len(list(out.glob("part-*.jsonl"))) == 3 and (out / "notes.txt").read_text() == "mine"


def test_the_default_output_is_named_after_the_input():
    from pipeline.batch.settings import default_output

    assert default_output("data/sample/cep-sample.jsonl") == str(Path("outputs/predictions/cep-sample"))
    assert default_output("/x/news-2024.JSONL.GZ") == str(Path("outputs/predictions/news-2024"))
    assert default_output("dumps/articles/") == str(Path("outputs/predictions/articles"))


def test_missing_paths_are_named(model_dir, dump, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        predict(_cfg(model_dir, tmp_path / "nope.jsonl", tmp_path / "o"), tmp_path / "r")
    with pytest.raises(ModelDirError, match="no-model"):
        predict(_cfg(tmp_path / "no-model", dump, tmp_path / "o"), tmp_path / "r")
    with pytest.raises(PredictError, match="Did you mean 'parquet'"):
        predict(_cfg(model_dir, dump, tmp_path / "o", output_format="parket"), tmp_path / "r")


def test_filter_turns_documents_away(reference, model_dir, dump, tmp_path):
    from pipeline.batch.docfilter import train_filter
    from pipeline.schema import Document, Event, Span

    docs = [Document(f"t{i}", t, [Event(Span("TRIGGER", 7, 13, t[7:13]))] if i % 4 == 0 else [])
            for i, t in enumerate(TEXTS * 10)]
    fdir = tmp_path / "filt"
    train_filter(docs, fdir)
    out = tmp_path / "out"
    summary = predict(_cfg(model_dir, dump, out, filter=str(fdir / "docfilter.json")), tmp_path / "r")
    assert 0 < summary["filtered_out"] < N_GOOD and summary["documents"] == N_GOOD
    got = {d["id"]: d for d in map(json.loads, _output(out)[0])}
    ref = {d["id"]: d for d in map(json.loads, reference[1][0])}
    passed = [i for i in range(N_GOOD) if i % 4 == 0]              # the expulsion text
    assert all(got[f"n{i}"]["events"] == ref[f"n{i}"]["events"] for i in passed)
    assert all(got[f"n{i}"]["tagged"] and got[f"n{i}"]["filter_score"] > 0 for i in passed)
    skipped = [got[f"n{i}"] for i in range(N_GOOD) if i % 4 in (1, 3)]   # the gate stops these
    assert all(d["events"] == [] and d["tagged"] is False and "filter_score" in d for d in skipped)
    assert summary["tagged"] == N_GOOD - summary["filtered_out"]


def test_parquet_shards_and_records(reference, model_dir, dump, tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "out"
    summary = predict(_cfg(model_dir, dump, out, output_format="parquet", records=True), tmp_path / "r")
    assert len(list(out.glob("part-*.parquet"))) == 5
    got = [json.dumps(d.to_json(), ensure_ascii=False) for d in read_shards(out)]
    assert got == reference[1][0]
    assert Path(summary["records_dir"], "events.jsonl").is_file()


def test_other_input_formats(model_dir, tmp_path):
    folder = tmp_path / "txt"
    folder.mkdir()
    for i, t in enumerate(TEXTS):
        (folder / f"doc{i}.txt").write_text(t, encoding="utf-8")
    (folder / "bad.txt").write_bytes(b"\xff")
    summary = predict(_cfg(model_dir, folder, tmp_path / "out"), tmp_path / "r")
    assert (summary["documents"], summary["rejects"]) == (4, 1)
    lines, rejects = _output(tmp_path / "out")
    assert [json.loads(x)["id"] for x in lines] == [f"doc{i}" for i in range(4)]


def test_ray_engine_without_ray_says_how_to_install(model_dir, dump, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)          # import ray -> ImportError
    with pytest.raises(PredictError, match=r"pip install 'expel-pipeline\[ray\]'"):
        predict(_cfg(model_dir, dump, tmp_path / "o", engine="ray"), tmp_path / "r")


def test_int8_needs_a_measured_small_f1_cost(reference, model_dir, dump, tmp_path):
    from pipeline.tagger.precision import PRECISION_FILE

    qdir = tmp_path / "qmodel"
    shutil.copytree(model_dir, qdir)
    cfg = _cfg(qdir, dump, tmp_path / "o", precision="int8", device="cpu")
    check = json.loads((qdir / PRECISION_FILE).read_text()) if (qdir / PRECISION_FILE).is_file() else {"version": 2}
    check.pop("onnx_int8", None)
    (qdir / PRECISION_FILE).write_text(json.dumps(check))
    with pytest.raises(PrecisionError, match="precision=int8 needs the measured dev F1 cost of onnx_int8"):
        predict(cfg, tmp_path / "r")
    from pipeline.tagger.ort import ORT_INT8

    drop = {"trigger": 0.0, "argument": 9.95, "argument_attached": 0.0}
    check["onnx_int8"] = {"drop_points": drop, "accepted": False, "layers": list(ORT_INT8)}
    (qdir / PRECISION_FILE).write_text(json.dumps(check))
    with pytest.raises(PrecisionError, match="up to 9.95 F1 points"):
        predict(cfg, tmp_path / "r")
    drop["argument"] = 0.4
    check["onnx_int8"] = {"drop_points": drop, "accepted": True, "layers": list(ORT_INT8)}
    (qdir / PRECISION_FILE).write_text(json.dumps(check))
    summary = predict(cfg, tmp_path / "r")
    assert summary["documents"] == N_GOOD and summary["tagger"]["runtime"] == "onnx"


def test_identical_texts_are_tagged_once_and_every_copy_is_written(model_dir, tmp_path, monkeypatch):
    """Syndicated copy: the same text under several ids is read by the tagger once in a run
    (across shards too); every id gets its own line with the same events."""
    from pipeline.tagger import Tagger

    p = tmp_path / "wire.jsonl"
    texts = [TEXTS[0], TEXTS[2], TEXTS[0], TEXTS[1], TEXTS[2], TEXTS[0]] * 4      # 24 lines, 3 texts
    p.write_text("".join(json.dumps({"id": f"w{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    seen: list[str] = []
    real = Tagger.predict

    def counting(self, docs):
        docs = list(docs)
        seen.extend(d.text for d in docs)
        return real(self, docs)

    monkeypatch.setattr(Tagger, "predict", counting)
    summary = predict(_cfg(model_dir, p, tmp_path / "out"), tmp_path / "run")
    lines = [json.loads(x) for x in _output(Path(summary["output"]))[0]]
    assert [d["id"] for d in lines] == [f"w{i}" for i in range(len(texts))]
    assert sorted(seen) == sorted(set(texts))                     # each distinct text tagged once
    by_text: dict[str, list] = {}
    for d in lines:
        by_text.setdefault(d["text"], []).append(d["events"])
    assert all(all(e == evs[0] for e in evs) for evs in by_text.values())
    assert summary["phases"]["copies_tagged_once"] == len(texts) - len(set(texts))
    from pipeline.batch.progress import summary_text

    assert f"{len(texts) - len(set(texts))} were copies of a text tagged earlier" in summary_text(summary)


def test_seen_texts_forget_the_oldest_past_their_limit():
    from types import SimpleNamespace

    from pipeline.batch.engine import SeenTexts
    from pipeline.schema import Document

    calls = []
    tagger = SimpleNamespace(predict=lambda docs: (calls.append([d.text for d in docs]), list(docs))[1])
    seen = SeenTexts(limit=2)
    seen.predict(tagger, [Document("a", "one"), Document("b", "two"), Document("c", "one")])
    seen.predict(tagger, [Document("d", "three"), Document("e", "two")])
    seen.predict(tagger, [Document("f", "one")])                  # forgotten: tagged again
    assert calls == [["one", "two"], ["three"], ["one"]] and seen.reused == 2


@pytest.mark.parametrize("chunk", [10, 64, 1000])
def test_shard_plan_puts_each_record_in_one_shard_in_order(chunk):
    from pipeline.batch.store import ShardPlan

    plan = ShardPlan.for_chunk_size(chunk)
    shards = [plan.shard_of(r) for r in range(5000)]
    assert shards == sorted(shards) and shards[0] == 0
    assert all(plan.first_record(k) == shards.index(k) for k in set(shards))
    assert plan.count(5000) == shards[-1] + 1 and plan.count(0) == 0
    sizes = [shards.count(k) for k in range(shards[-1])]
    assert max(sizes) == chunk and sizes[0] == min(32, chunk)      # small first, then chunk_size


def _big_dump(tmp_path, n=150) -> Path:
    p = tmp_path / "big.jsonl"
    p.write_text("".join(json.dumps({"id": f"b{i}", "text": TEXTS[i % 4]}) + "\n" for i in range(n)),
                 encoding="utf-8")
    return p


def test_first_shards_are_small_and_resume_keeps_them(model_dir, tmp_path, monkeypatch):
    """With chunk_size=64 the first shard holds 32 records, so its results are written
    after 32 documents; a run killed after it resumes at record 32."""
    dump = _big_dump(tmp_path)
    ref = predict(_cfg(model_dir, dump, tmp_path / "ref", chunk_size=64), tmp_path / "r0")
    prog = json.loads((Path(ref["output"]) / PROGRESS_FILE).read_text())
    assert prog["run"]["shard_sizes"] == [32]
    assert [(s["first"], s["count"]) for s in prog["shards"].values()] == [(0, 32), (32, 64), (96, 54)]
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        _kill_after(m, 1)
        with pytest.raises(Killed):
            predict(_cfg(model_dir, dump, out, chunk_size=64), tmp_path / "r1")
    summary = predict(_cfg(model_dir, dump, out, chunk_size=64), tmp_path / "r2")
    assert summary["skipped_shards"] == 1 and summary["processed_this_run"] == 150 - 32
    assert _output(out) == _output(tmp_path / "ref")


def test_a_folder_begun_with_even_shards_goes_on_with_them(model_dir, tmp_path, monkeypatch):
    """An output folder from before the small first shards (no "shard_sizes" in its
    manifest, and tagger.windows=paragraph, the default then) resumes with the even plan it
    began with once the run says windows=paragraph; without it, the refusal names it."""
    import pipeline.batch.store as store_mod

    dump, out = _big_dump(tmp_path), tmp_path / "out"
    old = dict(chunk_size=64, windows="paragraph")
    with monkeypatch.context() as m:
        m.setattr(store_mod, "FIRST_SHARDS", ())
        even = predict(_cfg(model_dir, dump, tmp_path / "even", **old), tmp_path / "r0")
        _kill_after(m, 1)
        with pytest.raises(Killed):
            predict(_cfg(model_dir, dump, out, **old), tmp_path / "r1")
    prog_path = out / PROGRESS_FILE
    prog = json.loads(prog_path.read_text())
    del prog["run"]["shard_sizes"]                       # as the earlier code wrote it
    prog_path.write_text(json.dumps(prog))
    with pytest.raises(PredictError, match="windows: was 'paragraph', now 'sentences'"):
        predict(_cfg(model_dir, dump, out, chunk_size=64), tmp_path / "r2")
    summary = predict(_cfg(model_dir, dump, out, **old), tmp_path / "r2")
    assert summary["skipped_shards"] == 1 and summary["processed_this_run"] == 150 - 64
    assert len(summary["shards"]) == len(even["shards"]) == 3
    assert _output(out) == _output(tmp_path / "even")


def test_reading_only_documents_with_events_skips_the_others_unparsed(tmp_path):
    """The records step reads back only lines with events; a line without any is not
    parsed (a broken one there is not even noticed), however the JSON is spaced."""
    from pipeline.formats.jsonl import read_events_jsonl

    ev = {"trigger": {"start": 5, "end": 11, "text": "expels"}, "arguments": []}
    lines = [json.dumps({"id": "a", "text": "Peru expels a consul.", "events": []}),
             json.dumps({"id": "b", "text": "Peru expels a consul.", "events": [ev]}),
             '{"id": "c", "text": "Peru expels a consul.", "events":[ ' + json.dumps(ev) + "]}",
             '{"id": "d", "text": "not parsed", "events": [], "broken": ',
             json.dumps({"id": "e", "text": 'He said "events": [{ here', "events": []})]
    p = tmp_path / "part.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [d.id for d in read_events_jsonl(str(p), with_events_only=True)] == ["b", "c"]
