"""Failures of the machine during predict: an unwritable output, a read error in the middle
of a dump, a full disk, Ctrl-C.  Finished shards are kept, a rerun completes the output,
and every input record ends up exactly once in a shard or in rejects.jsonl."""

from __future__ import annotations

import errno
from dataclasses import replace
import json
import os
from collections import Counter
from pathlib import Path

import pytest

import pipeline.batch.dumps
import pipeline.batch.store
import pipeline.tagger.core
from pipeline.batch.dumps import Record, read_dump
from pipeline.config import PredictConfig
from pipeline.errors import PredictError
from pipeline.stages import predict
from pipeline.tagger import Tagger
from tests.helpers import predict_config

N_RECORDS, CHUNK = 23, 5  # five shards, the last one short


@pytest.fixture
def dump(tmp_path) -> Path:
    path = tmp_path / "dump.jsonl"
    lines = [json.dumps({"id": f"d{i}", "text": f"Country {i} expels {i} diplomats for spying."})
             for i in range(N_RECORDS)]
    lines[7] = "{broken json"                      # a reject, counted like a record
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def config(model_dir, dump: Path, out: Path) -> PredictConfig:
    # queue_docs=1: every shard is tagged on its own, so a failure can be placed between shards.
    return predict_config(model_dir=str(model_dir), input=str(dump), output=str(out),
                          chunk_size=CHUNK, batch_size=8, max_length=64, stride=16,
                          filter="none", records=False, queue_docs=1)


def shard_files(out: Path) -> list[Path]:
    return sorted(out.glob("part-*.jsonl"))


def output_ids(out: Path) -> Counter:
    """Ids in the shards plus record numbers of the rejects: each input record once."""
    seen: Counter = Counter()
    for p in shard_files(out):
        seen.update(d["id"] for d in jsonl(p))
    seen.update(f"reject:{r['record_no']}" for r in jsonl(out / "rejects.jsonl"))
    return seen


def jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").split("\n") if x]


def expected_ids() -> Counter:
    return Counter(f"d{i}" if i != 7 else "reject:7" for i in range(N_RECORDS))


# --------------------------------------------------------------------------- unwritable output

def test_output_under_a_regular_file_fails_before_tagging(tiny_model_dir, dump, tmp_path, monkeypatch):
    """We run as root, so a read-only folder is still writable: a path under a file is not."""
    (tmp_path / "file.txt").write_text("a file, not a folder")
    out = tmp_path / "file.txt" / "sub"
    monkeypatch.setattr(Tagger, "from_dir", lambda *a: pytest.fail("tagger loaded"))
    with pytest.raises((PredictError, OSError)) as e:
        predict(config(tiny_model_dir, dump, out), tmp_path / "run")
    assert str(tmp_path / "file.txt") in str(e.value)


def test_output_that_is_a_file_fails_with_predict_error(tiny_model_dir, dump, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("")
    with pytest.raises(PredictError, match="is a file"):
        predict(config(tiny_model_dir, dump, out), tmp_path / "run")


def test_read_only_output_folder_fails_before_tagging(tiny_model_dir, dump, tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes (see the test above)")
        monkeypatch.setattr(Tagger, "from_dir", lambda *a: pytest.fail("tagger loaded"))
        with pytest.raises((PredictError, OSError)) as e:
            predict(config(tiny_model_dir, dump, ro / "out"), tmp_path / "run")
        assert str(ro) in str(e.value)
    finally:
        ro.chmod(0o700)


def test_corrupt_progress_file_is_a_predict_error(tiny_model_dir, dump, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "_progress.json").write_bytes(b"\xff{not json")
    with pytest.raises(PredictError, match="corrupt"):
        predict(config(tiny_model_dir, dump, out), tmp_path / "run")


# --------------------------------------------------------------------------- read errors

class FlakyFile:
    """A binary file whose reads fail with OSError(EIO) after ``ok_lines`` lines."""

    def __init__(self, path, ok_lines: int):
        self.f, self.left = open(path, "rb"), ok_lines

    def _tick(self) -> None:
        if self.left <= 0:
            raise OSError(errno.EIO, "Input/output error (simulated)")
        self.left -= 1

    def readline(self, *args):
        self._tick()
        return self.f.readline(*args)

    def __iter__(self):
        return self

    def __next__(self):
        self._tick()
        line = self.f.readline()
        if not line:
            raise StopIteration
        return line

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def flaky_open(ok_lines: int):
    real = open

    def fake(path, mode="r", *args, **kwargs):
        return FlakyFile(path, ok_lines) if "b" in mode else real(path, mode, *args, **kwargs)

    return fake


@pytest.mark.parametrize("fmt, content", [
    ("jsonl", "".join(json.dumps({"id": i, "text": f"t{i}"}) + "\n" for i in range(20))),
    ("csv", "id,text\n" + "".join(f"{i},t{i}\n" for i in range(20))),
])
def test_read_error_mid_dump_is_raised_not_taken_for_the_end(fmt, content, tmp_path, monkeypatch):
    path = tmp_path / f"dump.{fmt}"
    path.write_text(content)
    monkeypatch.setattr(pipeline.batch.dumps, "open", flaky_open(ok_lines=8), raising=False)
    got = []
    with pytest.raises(OSError, match="Input/output error"):
        for item in read_dump(path):
            got.append(item)
    assert 0 < len(got) < 20 and all(isinstance(it, Record) for it in got)
    assert [it.record_no for it in got] == list(range(len(got)))


def test_predict_after_a_read_error_keeps_finished_shards_and_completes(tiny_model_dir, dump,
                                                                        tmp_path, monkeypatch):
    out = tmp_path / "out"
    cfg = config(tiny_model_dir, dump, out)
    with monkeypatch.context() as m:
        m.setattr(pipeline.batch.dumps, "open", flaky_open(ok_lines=12), raising=False)
        with pytest.raises(OSError, match="Input/output error"):
            predict(cfg, tmp_path / "run1")
    finished = {p.name: p.stat().st_mtime_ns for p in shard_files(out)}
    assert len(finished) == 12 // CHUNK
    summary = predict(cfg, tmp_path / "run2")
    assert summary["skipped_shards"] == len(finished)
    assert {p.name: p.stat().st_mtime_ns for p in shard_files(out) if p.name in finished} == finished
    assert output_ids(out) == expected_ids()


# --------------------------------------------------------------------------- full disk, Ctrl-C

def test_full_disk_mid_run_then_rerun_completes(tiny_model_dir, dump, tmp_path, monkeypatch):
    out = tmp_path / "out"
    cfg = config(tiny_model_dir, dump, out)
    real, calls = pipeline.batch.store.atomic_lines, []

    def full_disk(path, lines):
        calls.append(path)
        if Path(path).name.startswith("part-00002"):
            raise OSError(errno.ENOSPC, "No space left on device (simulated)", str(path))
        return real(path, lines)

    with monkeypatch.context() as m:
        m.setattr(pipeline.batch.store, "atomic_lines", full_disk)
        with pytest.raises(OSError, match="No space left"):
            predict(cfg, tmp_path / "run1")
    assert [p.name for p in shard_files(out)] == ["part-00000.jsonl", "part-00001.jsonl"]
    assert not list(out.glob("part-00002*")), "no half-written shard is left under the final name"
    predict(cfg, tmp_path / "run2")
    assert output_ids(out) == expected_ids()


def test_ctrl_c_during_prediction_then_rerun_completes(tiny_model_dir, dump, tmp_path, monkeypatch):
    """KeyboardInterrupt in the 3rd model call: shards 0-1 are kept; the rerun tags only the
    rest, and its output equals an uninterrupted run's."""
    out = tmp_path / "out"
    cfg = config(tiny_model_dir, dump, out)
    real, calls = pipeline.tagger.core.run_model, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(pipeline.tagger.core, "run_model", interrupted)
        with pytest.raises(KeyboardInterrupt):
            predict(cfg, tmp_path / "run1")
    kept = {p.name: p.read_bytes() for p in shard_files(out)}
    assert sorted(kept) == ["part-00000.jsonl", "part-00001.jsonl"]

    calls.clear()
    monkeypatch.setattr(pipeline.tagger.core, "run_model",
                        lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    summary = predict(cfg, tmp_path / "run2")
    assert summary["skipped_shards"] == 2 and len(calls) == 3  # shards 2, 3, 4 only
    assert {n: (out / n).read_bytes() for n in kept} == kept
    assert output_ids(out) == expected_ids()

    clean = tmp_path / "clean"
    predict(config(tiny_model_dir, dump, clean), tmp_path / "run3")
    for p in shard_files(clean):
        assert (out / p.name).read_bytes() == p.read_bytes()
    assert (out / "rejects.jsonl").read_text() == (clean / "rejects.jsonl").read_text()


def test_documents_queued_across_shards_give_the_same_output_and_resume(tiny_model_dir, dump, tmp_path,
                                                                          monkeypatch):
    """With the queue (all 23 documents in one tagger call) the shards are byte for byte those of
    shard-by-shard tagging, and a Ctrl-C in that call leaves no shard half-finished."""
    per_shard = tmp_path / "per_shard"
    predict(config(tiny_model_dir, dump, per_shard), tmp_path / "r0")
    queued = tmp_path / "queued"
    cfg = replace(config(tiny_model_dir, dump, queued), queue_docs=512)
    real, calls = pipeline.tagger.core.run_model, []
    with monkeypatch.context() as m:
        m.setattr(pipeline.tagger.core, "run_model", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
        predict(cfg, tmp_path / "r1")
    assert len(calls) == 1                                       # one call for all shards
    for p in shard_files(per_shard):
        assert (queued / p.name).read_bytes() == p.read_bytes()
    again = tmp_path / "again"
    cfg2 = replace(cfg, output=str(again))
    with monkeypatch.context() as m:
        m.setattr(pipeline.tagger.core, "run_model", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
        with pytest.raises(KeyboardInterrupt):
            predict(cfg2, tmp_path / "r2")
    assert shard_files(again) == []
    predict(cfg2, tmp_path / "r3")
    assert output_ids(again) == expected_ids()
