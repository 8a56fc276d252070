"""engine=ray writes the same shards as the local engine (skipped where Ray is not installed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from tests.helpers import predict_config  # noqa: E402
from pipeline.stages import predict  # noqa: E402

pytestmark = pytest.mark.slow   # starting Ray takes tens of seconds


@pytest.fixture(scope="module")
def ray_local():
    import os

    root = str(Path(__file__).resolve().parent.parent)
    with pytest.MonkeyPatch.context() as mp:
        # Workers import `pipeline` from the project root, as an installed package would.
        mp.setenv("PYTHONPATH", os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
        yield
        ray.shutdown()


def _shards(out: Path) -> list[str]:
    return [line for p in sorted(out.glob("part-*.jsonl")) for line in p.read_text().splitlines()]


def test_ray_matches_local_and_resumes(ray_local, tmp_path):
    from pipeline.training.modeling import build_tiny_bert, save_model

    model, tok = build_tiny_bert(seed=0)
    model_dir = save_model(model, tok, tmp_path / "model", {})
    dump = tmp_path / "news.jsonl"
    lines = [json.dumps({"id": f"n{i}", "text": f"Poland expels {i} Russian diplomats.", "k": i})
             for i in range(100)]
    lines.insert(5, "{broken")
    dump.write_text("\n".join(lines) + "\n")
    # chunk_size=64: shards of 32 (the small first one), 64 and 5 records
    base = dict(model_dir=str(model_dir), input=str(dump), chunk_size=64, batch_size=4,
                filter="none", records=False)
    local = predict(predict_config(output=str(tmp_path / "local"), **base), tmp_path / "r1")
    remote = predict(predict_config(output=str(tmp_path / "ray"), engine="ray", **base), tmp_path / "r2")
    assert _shards(tmp_path / "ray") == _shards(tmp_path / "local")
    assert (tmp_path / "ray/rejects.jsonl").read_text() == (tmp_path / "local/rejects.jsonl").read_text()
    assert {k: remote[k] for k in ("documents", "events", "rejects")} == \
        {k: local[k] for k in ("documents", "events", "rejects")}

    (tmp_path / "ray/part-00002.jsonl").unlink()
    again = predict(predict_config(output=str(tmp_path / "ray"), engine="ray", **base), tmp_path / "r3")
    assert again["skipped_shards"] == 2 and again["processed_this_run"] == 5
    assert [len(p.read_text().splitlines()) for p in sorted((tmp_path / "ray").glob("part-*.jsonl"))] == [31, 64, 5]
    assert _shards(tmp_path / "ray") == _shards(tmp_path / "local")


def test_a_worker_killed_mid_run_still_gives_every_input_exactly_once(ray_local, tmp_path):
    """One tagging actor's process is killed (SIGKILL) after the first shards are written:
    Ray Data restarts it and retries its batch; the driver still writes every record once."""
    import os
    import signal
    import threading
    import time

    from pipeline.training.modeling import build_tiny_bert, save_model

    model, tok = build_tiny_bert(seed=0)
    model_dir = save_model(model, tok, tmp_path / "model", {})
    dump = tmp_path / "news.jsonl"
    n = 400
    dump.write_text("".join(json.dumps({"id": f"n{i}", "text": f"Poland expels {i} Russian diplomats. " * 3})
                            + "\n" for i in range(n)))
    out = tmp_path / "ray"
    killed: list[int] = []

    def tagging_actors() -> list[int]:
        """Pids of the processes Ray titled after our actor class (``ray::_RayTagger...``)."""
        pids = []
        for d in Path("/proc").iterdir():
            try:
                if d.name.isdigit() and b"RayTagger" in (d / "cmdline").read_bytes():
                    pids.append(int(d.name))
            except OSError:
                continue
        return pids

    def killer():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            if len(list(out.glob("part-*.jsonl"))) >= 2:
                for pid in tagging_actors():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    summary = predict(predict_config(model_dir=str(model_dir), input=str(dump), output=str(out), chunk_size=10,
                                     batch_size=4, filter="none", records=False, engine="ray",
                                     max_length=64, stride=16), tmp_path / "r")
    thread.join(5)
    assert killed, "no tagging actor was found to kill"
    ids = [json.loads(line)["id"] for line in _shards(out)]
    assert sorted(ids) == sorted(f"n{i}" for i in range(n)) and len(ids) == n
    assert summary["documents"] == n
