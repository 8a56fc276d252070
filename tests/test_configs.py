"""Every config composes and instantiates; wrong keys and values fail early with a hint."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from pipeline.config import EvaluateConfig, PredictConfig, TrainConfig, check_overrides, schema_keys, to_typed
from tests.helpers import ROOT, compose

EXPERIMENTS = sorted(p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("experiment", [None, *EXPERIMENTS])
def test_train_configs_compose(experiment):
    cfg = compose("train", [f"experiment={experiment}"] if experiment else [])
    obj = OmegaConf.to_object(cfg)
    assert isinstance(obj, TrainConfig)
    assert obj.data.max_length > obj.data.stride


@pytest.mark.parametrize("group,choice", [
    (g, p.stem) for g in ("data", "model", "trainer", "augment", "tagger")
    for p in sorted((ROOT / "configs" / g).glob("*.yaml"))])
def test_every_group_choice_composes(group, choice):
    obj = OmegaConf.to_object(compose("train", [f"{group}={choice}"]))
    assert isinstance(obj, TrainConfig)


def test_evaluate_and_predict_compose():
    assert isinstance(OmegaConf.to_object(compose("evaluate")), EvaluateConfig)
    assert isinstance(OmegaConf.to_object(compose("predict")), PredictConfig)


def test_default_data_files_exist():
    obj = OmegaConf.to_object(compose("train"))
    assert obj.data.dev is None                     # the shipped model learns from all gold
    assert {"data/gold/train.jsonl", "data/gold/dev.jsonl"} <= set(obj.data.train)
    held = OmegaConf.to_object(compose("train", ["data=heldout"]))
    assert "data/gold/dev.jsonl" not in held.data.train
    for p in [*obj.data.train, held.data.dev]:
        assert (ROOT / p).is_file(), p


def test_wrong_key_fails_with_closest_name():
    msg = check_overrides("train", ["trainer.epocs=3"])
    assert msg and "Did you mean 'trainer.epochs'" in msg
    assert check_overrides("train", ["trainer.epochs=3", "model=tiny", "hydra.run.dir=x"]) is None
    assert "Did you mean 'tagger.batch_size'" in check_overrides("predict", ["tagger.batchsize=3"])


def test_appended_unknown_key_fails_when_typed():
    with pytest.raises(ValueError, match="Did you mean 'trainer.epochs'"):
        to_typed(compose("train", ["+trainer.epocs=3"]), "train")


def test_wrong_type_fails_at_compose():
    with pytest.raises(Exception, match="batch_size"):
        compose("train", ["trainer.batch_size=many"])


def test_schema_keys_are_dotted():
    keys = schema_keys(TrainConfig)
    assert "trainer.seed" in keys and "data.train" in keys and "output_dir" in keys


def _stated_defaults(node, schema, where: str) -> list[str]:
    """Keys of a config file whose value is the schema's own default (stated twice)."""
    from dataclasses import MISSING, fields, is_dataclass

    out = []
    by_name = {f.name: f for f in fields(schema)}
    for key, value in (node or {}).items():
        if key in ("defaults", "hydra") or key not in by_name:
            continue
        f = by_name[key]
        default = f.default if f.default is not MISSING else (
            f.default_factory() if f.default_factory is not MISSING else MISSING)
        if is_dataclass(default) and isinstance(value, dict):
            out += _stated_defaults(value, type(default), f"{where}.{key}")
        elif default is not MISSING and value == default:
            out.append(f"{where}: {key}: {value!r}")
    return out


def test_no_default_is_stated_twice():
    """The schema dataclasses (pipeline/config.py) hold every default; a config file states
    only what differs, so the two can never drift apart."""
    import yaml

    from pipeline.config import (AnnotateConfig, AugmentConfig, DataConfig, ModelConfig, TaggerConfig,
                                 TrainerConfig)

    groups = {"data": DataConfig, "model": ModelConfig, "trainer": TrainerConfig, "tagger": TaggerConfig,
              "augment": AugmentConfig, "experiment": TrainConfig}
    stages = {"train": TrainConfig, "evaluate": EvaluateConfig, "predict": PredictConfig, "annotate": AnnotateConfig}
    twice = []
    for group, schema in groups.items():
        for f in sorted((ROOT / "configs" / group).glob("*.yaml")):
            twice += _stated_defaults(yaml.safe_load(f.read_text()), schema, str(f.relative_to(ROOT)))
    for stage, schema in stages.items():
        f = ROOT / "configs" / f"{stage}.yaml"
        twice += _stated_defaults(yaml.safe_load(f.read_text()), schema, str(f.relative_to(ROOT)))
    assert twice == []
    assert _stated_defaults({"epochs": 7.0}, TrainerConfig, "x") == ["x: epochs: 7.0"]     # the check bites


def test_annotate_composes_too():
    from pipeline.config import AnnotateConfig

    assert isinstance(OmegaConf.to_object(compose("annotate")), AnnotateConfig)
