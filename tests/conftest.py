"""Shared fixtures: the real configs composed and shrunk to CPU, and a tiny trained model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import ROOT


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny BERT trained a few steps on the fixture corpus through the real train stage."""
    from pipeline.config import compose_config
    from pipeline.stages import train

    out = tmp_path_factory.mktemp("tiny_model")
    cfg = compose_config("train", ["experiment=tiny", f"output_dir={out}/model",
                                   "trainer.max_steps=6"])
    cwd = os.getcwd()
    os.chdir(ROOT)  # the configs name files relative to the project root
    try:
        res = train(cfg, out / "run")
    finally:
        os.chdir(cwd)
    return Path(res["model_dir"])


@pytest.fixture(autouse=True)
def _project_root(monkeypatch):
    """Tests run from the project root, like the CLI (config paths are relative to it)."""
    monkeypatch.chdir(ROOT)
