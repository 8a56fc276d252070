"""Seed variance / learning curve aggregation on a fake Hydra multirun tree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.evaluation.variance import aggregate, collect_runs, write_variance_report


def _scores(tri: float, arg: float) -> dict:
    m = lambda f: {"precision": f, "recall": f, "f1": f, "tp": 1, "pred": 1, "gold": 1}  # noqa: E731
    return {"trigger": m(tri), "argument": m(arg), "argument_attached": m(arg - 0.1),
            "document": m(tri), "per_role": {}, "per_role_attached": {}}


def fake_multirun(root: Path) -> Path:
    """Jobs as Hydra lays them out: <sweep>/<num>_<overrides>/.hydra/config.yaml + dev_scores.json."""
    sweep = root / "train-multirun" / "2024-05-01_10-00-00"
    values = {0.5: [(0.6, 0.3), (0.7, 0.4)], 1.0: [(0.8, 0.5), (0.9, 0.6), (0.85, 0.55)]}
    num = 0
    for frac, runs in values.items():
        for seed, (tri, arg) in enumerate(runs, start=1):
            job = sweep / f"{num}_data.fraction={frac},trainer.seed={seed}"
            (job / ".hydra").mkdir(parents=True)
            (job / ".hydra" / "config.yaml").write_text(
                f"data:\n  fraction: {frac}\n  train: [data/gold/train.jsonl]\ntrainer:\n  seed: {seed}\n")
            (job / ".hydra" / "overrides.yaml").write_text(
                f"- data.fraction={frac}\n- trainer.seed={seed}\n")
            (job / "dev_scores.json").write_text(json.dumps(_scores(tri, arg)))
            num += 1
    unfinished = sweep / f"{num}_data.fraction=0.25,trainer.seed=1" / ".hydra"
    unfinished.mkdir(parents=True)                    # crashed job: no dev_scores.json
    (unfinished / "config.yaml").write_text("data:\n  fraction: 0.25\n")
    (sweep / "multirun.yaml").write_text("hydra: {}\n")
    return sweep


def test_aggregate_mean_and_std_per_fraction(tmp_path):
    runs = collect_runs(fake_multirun(tmp_path))
    assert len(runs) == 5
    agg = aggregate(runs)
    assert list(agg) == [0.5, 1.0]
    assert agg[0.5]["trigger_f1"]["mean"] == pytest.approx(0.65)
    assert agg[0.5]["trigger_f1"]["std"] == pytest.approx(0.0707107, rel=1e-5)
    assert agg[1.0]["argument_f1"] == pytest.approx({"mean": 0.55, "std": 0.05, "n": 3})


def test_report_files(tmp_path):
    sweep = fake_multirun(tmp_path)
    md = write_variance_report(sweep, tmp_path / "out")
    text = md.read_text()
    assert "| 0.5 | 2 | 0.650 ± 0.071 |" in text
    assert "| 1 | 3 |" in text
    # Runs are named by job number, with the overrides that made them.
    assert "| 2 | 1 | 1 | 0.800 | 0.500 | `data.fraction=1.0 trainer.seed=1` |" in text
    assert (tmp_path / "out" / "learning_curve.png").stat().st_size > 1000
    assert json.loads((tmp_path / "out" / "variance.json").read_text())["1.0"]["argument_f1"]["n"] == 3


def test_missing_or_empty_sweep_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        collect_runs(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no finished run"):
        collect_runs(tmp_path)


def test_cli_script(tmp_path):
    sweep = fake_multirun(tmp_path)
    res = subprocess.run([sys.executable, "benchmarks/variance_report.py", str(sweep)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert (sweep / "variance.md").is_file() and "learning_curve.png" in res.stdout
    res = subprocess.run([sys.executable, "benchmarks/variance_report.py", str(tmp_path / "nope")],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "not found" in res.stderr
