"""An interrupted training run resumes from its last finished epoch with the same command."""

from __future__ import annotations

import pytest

from pipeline.config import compose_config
from pipeline.stages import train


def interrupt_after_first_save(path):
    raise KeyboardInterrupt


@pytest.mark.slow
def test_interrupted_training_resumes(tmp_path):
    overrides = ["experiment=tiny", f"output_dir={tmp_path}/model", "trainer.epochs=3",
                 "trainer.early_stopping_patience=5"]
    cfg = compose_config("train", overrides)
    with pytest.raises(KeyboardInterrupt, match="Run the same command again to resume"):
        train(cfg, tmp_path / "run1", on_checkpoint=interrupt_after_first_save)
    assert (tmp_path / "model.checkpoints" / "checkpoint" / "model.safetensors").is_file()
    assert not (tmp_path / "model").exists()
    res = train(compose_config("train", overrides), tmp_path / "run2")
    assert res["resumed_from"] and res["resumed_from"].endswith("checkpoint")
    assert [e["epoch"] for e in res["epochs"]] == [1, 2, 3]
    assert (tmp_path / "model" / "model.safetensors").is_file()
    assert not (tmp_path / "model.checkpoints").exists()


@pytest.mark.slow
def test_checkpoints_of_another_config_are_not_resumed(tmp_path):
    base = ["experiment=tiny", f"output_dir={tmp_path}/model", "trainer.epochs=2"]
    with pytest.raises(KeyboardInterrupt):
        train(compose_config("train", base), tmp_path / "r1", on_checkpoint=interrupt_after_first_save)
    res = train(compose_config("train", base + ["trainer.seed=99"]), tmp_path / "r2")
    assert res["resumed_from"] is None


def test_unknown_encoder_fails_before_training(tmp_path, monkeypatch):
    from pipeline.tagger.loading import ModelDirError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = compose_config("train", ["experiment=tiny", "model.encoder=no-such-model-xyz",
                                   f"output_dir={tmp_path}/m"])
    with pytest.raises(ModelDirError, match="no-such-model-xyz"):
        train(cfg, tmp_path / "run")
