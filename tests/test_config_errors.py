"""Config errors fail at start-up, naming the closest valid key, the expected type or the
path that was looked for; nothing heavy (model, training) starts first."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.config import compose_config
from pipeline.errors import ConfigError, ModelDirError
from tests.helpers import ROOT


def error_text(exc: BaseException) -> str:
    """The message with its causes: Hydra puts the useful part in ``__cause__``."""
    parts = []
    while exc is not None:
        parts.append(str(exc))
        exc = exc.__cause__
    return "\n".join(parts)


@pytest.fixture
def offline(monkeypatch):
    """No hub look-ups (huggingface_hub reads HF_HUB_OFFLINE at import: patch the constant)."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


# --------------------------------------------------------------------------- keys and types

@pytest.mark.parametrize("stage, override, closest", [
    ("train", "tagger.decoding=viterby", "viterbi"),
    ("evaluate", "tagger.decoding=argmx", "argmax"),
    ("predict", "tagger.linking=sentense", "sentence"),
    ("predict", "tagger.precision=int4", "int8"),
])
def test_a_word_setting_outside_its_choices_fails_at_start_up(stage, override, closest):
    with pytest.raises(ConfigError) as e:
        compose_config(stage, [override])
    key, value = override.split("=")
    assert f"{key}={value!r} is not valid for expel-{stage}" in str(e.value)
    assert f"Did you mean {closest!r}?" in str(e.value)


@pytest.mark.parametrize("stage, override, new", [
    ("predict", "precision=fp32", "tagger.precision"),
    ("predict", "quantize=true", "tagger.precision=int8"),
    ("evaluate", "reason=model", "tagger.reason"),
    ("train", "linking=nearest", "tagger.linking"),
])
def test_a_key_that_moved_to_the_tagger_group_says_where(stage, override, new):
    with pytest.raises(ConfigError, match=f"is now '{new}'"):
        compose_config(stage, [override])


def test_train_refuses_a_precision_other_than_fp32():
    with pytest.raises(ConfigError, match="expel-train scores dev in fp32"):
        compose_config("train", ["tagger.precision=bf16"])


@pytest.mark.parametrize("stage, override, closest", [
    ("train", "trainer.epocs=3", "trainer.epochs"),
    ("train", "data.strid=8", "data.stride"),
    ("train", "+trainer.learning_rte=1e-3", "trainer.learning_rate"),
    ("evaluate", "bootstap=10", "bootstrap"),
    ("predict", "imput=dump.jsonl", "input"),
    ("predict", "chunk_sise=10", "chunk_size"),
])
def test_misspelt_key_names_the_closest_valid_key(stage, override, closest):
    with pytest.raises(ValueError) as e:
        compose_config(stage, [override])
    key = override.split("=")[0].lstrip("+")
    assert f"unknown config key {key!r} for expel-{stage}. Did you mean {closest!r}?" in str(e.value)


@pytest.mark.parametrize("stage, override, key, expected", [
    ("train", "trainer.epochs=abc", "trainer.epochs", "takes a number, e.g. trainer.epochs=7"),
    ("train", "trainer.batch_size=1.5", "trainer.batch_size", "takes a whole number"),
    ("train", "data.max_length=null", "data.max_length", "takes a whole number, e.g."),
    ("predict", "chunk_size=ten", "chunk_size", "takes a whole number, e.g. chunk_size=1000"),
    ("predict", "filter_threshold=high", "filter_threshold", "takes a number or null"),
    ("predict", "tagger.batch_size=abc", "tagger.batch_size", "takes a whole number, e.g. tagger.batch_size=16"),
    ("evaluate", "baselines=maybe", "baselines", "takes true or false"),
])
def test_value_of_the_wrong_type_names_key_and_type_in_one_line(stage, override, key, expected):
    with pytest.raises(Exception) as e:
        compose_config(stage, [override])
    text = error_text(e.value)
    assert key in text and expected in text and "\n" not in text.strip(), text


def test_compose_config_raises_value_error_for_a_wrong_type():
    with pytest.raises(ValueError, match="trainer.epochs"):
        compose_config("train", ["trainer.epochs=abc"])


@pytest.mark.parametrize("override, options", [
    ("model=no-such-model", ["minilm", "tiny"]),
    ("experiment=tyni", ["tiny", "seeds"]),
])
def test_unknown_group_option_lists_the_options(override, options):
    with pytest.raises(Exception) as e:
        compose_config("train", [override])
    text = error_text(e.value)
    assert "Available options" in text and all(o in text for o in options), text


# --------------------------------------------------------------------------- missing paths

def test_missing_gold_file_names_the_path_before_any_model_is_built(tmp_path, monkeypatch):
    import pipeline.training.modeling
    from pipeline.errors import MissingFileError
    from pipeline.stages import train

    monkeypatch.setattr(pipeline.training.modeling, "make_model", lambda *a, **k: pytest.fail("model built"))
    cfg = compose_config("train", ["experiment=tiny", "data.dev=no/such/dev.jsonl",
                                   f"output_dir={tmp_path}/model"])
    with pytest.raises(MissingFileError, match="'no/such/dev.jsonl' not found"):
        train(cfg, tmp_path / "run")


def test_unknown_encoder_name_fails_before_training_naming_it(tmp_path, offline):
    """model.encoder=no-such-model-xyz: a ModelDirError that names it, not a raw HF traceback.

    Before the fix in modeling.load_tokenizer this was ``OSError: We couldn't connect to
    'https://huggingface.co' to load the files, and couldn't find them in the cached
    files.`` (the name appears nowhere), after ~60 s of retries without HF_HUB_OFFLINE.
    """
    from pipeline.stages import train

    cfg = compose_config("train", ["experiment=tiny", "model.encoder=no-such-model-xyz",
                                   f"output_dir={tmp_path}/model"])
    with pytest.raises(ModelDirError) as e:
        train(cfg, tmp_path / "run")
    assert "no-such-model-xyz" in str(e.value) and "local path" in str(e.value)
    assert not (tmp_path / "model").exists()


def test_encoder_path_that_does_not_exist_names_it(tmp_path, offline):
    from pipeline.training.modeling import build_model

    with pytest.raises(ModelDirError, match="no/such/encoder"):
        build_model(str(tmp_path / "no/such/encoder"))


def test_missing_model_dir_names_it(tmp_path):
    from pipeline.stages import evaluate

    cfg = compose_config("evaluate", [f"model_dir={tmp_path}/no-model"])
    with pytest.raises(ModelDirError, match=f"model directory '{tmp_path}/no-model' does not exist"):
        evaluate(cfg, tmp_path / "run")


def test_missing_predict_input_names_it(tmp_path):
    from pipeline.stages import predict

    cfg = compose_config("predict", [f"input={tmp_path}/no-dump.jsonl", f"output={tmp_path}/out"])
    with pytest.raises(FileNotFoundError, match=f"input '{tmp_path}/no-dump.jsonl' does not exist"):
        predict(cfg, tmp_path / "run")
    assert not (tmp_path / "out").exists()


def test_missing_predict_model_dir_names_it(tmp_path):
    from pipeline.stages import predict

    dump = tmp_path / "dump.jsonl"
    dump.write_text('{"id": "a", "text": "Peru expels a diplomat."}\n')
    cfg = compose_config("predict", [f"input={dump}", f"output={tmp_path}/out",
                                     f"model_dir={tmp_path}/no-model"])
    with pytest.raises(ModelDirError, match="does not exist"):
        predict(cfg, tmp_path / "run")


# --------------------------------------------------------------------------- the CLI

def cli(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    code = f"import sys; sys.argv = ['expel-{args[0]}', *{list(args[1:])!r}]; " \
           f"from pipeline.cli import {args[0]}_main; {args[0]}_main()"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_cli_misspelt_key_exits_2_with_did_you_mean(tmp_path):
    res = cli("train", "trainer.epocs=3", cwd=tmp_path)
    assert res.returncode == 2
    assert "unknown config key 'trainer.epocs' for expel-train. Did you mean 'trainer.epochs'?" \
        in res.stderr
    assert "Traceback" not in res.stderr


def test_cli_wrong_type_names_key_and_type(tmp_path):
    res = cli("train", "trainer.epochs=abc", f"hydra.run.dir={tmp_path}/run")
    assert res.returncode == 2
    assert res.stderr.strip() == ("error: trainer.epochs='abc' is not a number: trainer.epochs takes a "
                                  "number, e.g. trainer.epochs=7")


def test_cli_prints_the_predict_summary_and_user_errors_without_traceback(tiny_model_dir, tmp_path):
    dump = tmp_path / "dump.jsonl"
    dump.write_text('{"id": "a", "text": "Peru expels two Chilean diplomats."}\n{broken\n')
    res = cli("predict", f"model_dir={tiny_model_dir}", f"input={dump}", f"output={tmp_path}/out",
              "filter=none", "records=false", "tagger.max_length=64", "tagger.stride=16",
              f"hydra.run.dir={tmp_path}/run")
    assert res.returncode == 0, res.stderr
    assert "2 records -> 1 documents (1 read by the tagger, 0 skipped" in res.stdout
    assert f"Output: {tmp_path}/out" in res.stdout
    again = cli("predict", f"model_dir={tiny_model_dir}", f"input={dump}", f"output={tmp_path}/out",
                "filter=none", "records=false", "tagger.precision=bf16", f"hydra.run.dir={tmp_path}/run2")
    # The tiny model was measured: bf16 is refused or allowed by its own precision.json; a run
    # with other settings in the same output folder is refused either way.
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert again.stderr.startswith("error: ")
