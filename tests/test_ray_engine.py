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
    from pipeline.modeling import save_model
    from pipeline.modeling import build_tiny_bert

    model, tok = build_tiny_bert(seed=0)
    model_dir = save_model(model, tok, tmp_path / "model", {})
    dump = tmp_path / "news.jsonl"
    lines = [json.dumps({"id": f"n{i}", "text": f"Poland expels {i} Russian diplomats.", "k": i})
             for i in range(23)]
    lines.insert(5, "{broken")
    dump.write_text("\n".join(lines) + "\n")
    base = dict(model_dir=str(model_dir), input=str(dump), chunk_size=7, batch_size=4,
                filter="none", records=False)
    local = predict(predict_config(output=str(tmp_path / "local"), **base), tmp_path / "r1")
    remote = predict(predict_config(output=str(tmp_path / "ray"), engine="ray", **base), tmp_path / "r2")
    assert _shards(tmp_path / "ray") == _shards(tmp_path / "local")
    assert (tmp_path / "ray/rejects.jsonl").read_text() == (tmp_path / "local/rejects.jsonl").read_text()
    assert {k: remote[k] for k in ("documents", "events", "rejects")} == \
        {k: local[k] for k in ("documents", "events", "rejects")}

    (tmp_path / "ray/part-00002.jsonl").unlink()
    again = predict(predict_config(output=str(tmp_path / "ray"), engine="ray", **base), tmp_path / "r3")
    assert again["skipped_shards"] == 3 and again["processed_this_run"] == 7
    assert _shards(tmp_path / "ray") == _shards(tmp_path / "local")
