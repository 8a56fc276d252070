"""Faster numeric precisions (bf16, int8): chosen only with a passing dev measurement, and
bf16 by precision=auto only with native hardware; one setting, resolved once.  int8 is
ONNX Runtime's (the one int8 path), gated on the ``onnx_int8`` entry."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.config import TaggerConfig
from pipeline.errors import PrecisionError
from pipeline.tagger import precision
from pipeline.tagger.precision import PRECISION_FILE, resolve
from pipeline.tagger.settings import resolve_settings

METRICS = ("trigger", "argument", "argument_attached")


def write(dir_, accepted=True, drop=0.0, which="bf16"):
    which = "onnx_int8" if which == "int8" else which
    entry = {"f1": {k: 90.0 - drop for k in METRICS}, "drop_points": {k: drop for k in METRICS},
             "accepted": accepted}
    if which == "onnx_int8":
        from pipeline.tagger.ort import ORT_INT8

        entry["layers"] = list(ORT_INT8)
    (dir_ / PRECISION_FILE).write_text(json.dumps({"version": 2, "fp32": {k: 90.0 for k in METRICS},
                                                   which: entry}))


@pytest.fixture
def native(monkeypatch):
    monkeypatch.setattr(precision, "native_bf16", lambda device: True)


def test_fp32_is_always_allowed(tmp_path):
    assert resolve("fp32", tmp_path, "cpu")[0] == "fp32"


@pytest.mark.parametrize("choice", ["bf16", "int8"])
def test_a_faster_precision_without_a_measurement_names_the_command(tmp_path, choice):
    with pytest.raises(PrecisionError, match="--precision-check"):
        resolve(choice, tmp_path, "cpu")


@pytest.mark.parametrize("choice", ["bf16", "int8"])
def test_a_drop_over_one_point_is_refused_by_the_same_gate(tmp_path, choice):
    write(tmp_path, accepted=False, drop=2.5, which=choice)
    with pytest.raises(PrecisionError, match="more than the 1.0 allowed"):
        resolve(choice, tmp_path, "cpu")


def test_int8_with_a_passing_measurement_is_allowed_on_the_cpu_and_onnx_runtime_only(tmp_path):
    write(tmp_path, drop=0.3, which="int8")
    assert resolve("int8", tmp_path, "cpu")[0] == "int8"
    assert resolve("int8", tmp_path, "cpu", runtime="auto")[0] == "int8"
    with pytest.raises(PrecisionError, match="CPU only"):
        resolve("int8", tmp_path, "cuda")
    with pytest.raises(PrecisionError, match="runs on ONNX Runtime"):
        resolve("int8", tmp_path, "cpu", runtime="torch")


def test_auto_needs_native_hardware(tmp_path, monkeypatch):
    write(tmp_path)
    monkeypatch.setattr(precision, "native_bf16", lambda device: False)
    choice, why = resolve("auto", tmp_path, "cpu")
    assert choice == "fp32" and "no native bfloat16" in why


@pytest.mark.parametrize("state, expected", [("accepted", "bf16"), ("rejected", "fp32"),
                                             ("missing", "fp32"), ("corrupt", "fp32"),
                                             ("earlier format", "bf16")])
def test_auto_follows_the_models_measurement(tmp_path, native, state, expected):
    if state == "accepted":
        write(tmp_path, drop=0.4)
    elif state == "rejected":
        write(tmp_path, accepted=False, drop=3.0)
    elif state == "corrupt":
        (tmp_path / PRECISION_FILE).write_text("{not json")
    elif state == "earlier format":   # bf16 only, drop_points at the top level
        (tmp_path / PRECISION_FILE).write_text(json.dumps(
            {"drop_points": {k: 0.0 for k in METRICS}, "accepted": True}))
    assert resolve("auto", tmp_path, "cpu")[0] == expected


def test_auto_never_picks_int8(tmp_path, native):
    write(tmp_path, drop=0.0, which="int8")
    assert resolve("auto", tmp_path, "cpu")[0] == "fp32"


def test_measure_reports_drops_and_the_verdict_per_precision():
    scores = {"fp32": 0.80, "bf16": 0.785, "onnx_int8": 0.80}
    check = precision.measure(lambda p: {k: {"f1": scores[p]} for k in METRICS}, ["bf16", "onnx_int8"])
    assert check["bf16"]["drop_points"] == {k: 1.5 for k in METRICS}
    assert check["bf16"]["accepted"] is False
    assert check["onnx_int8"]["drop_points"] == {k: 0.0 for k in METRICS} and check["onnx_int8"]["accepted"]


def test_settings_are_resolved_once_and_frozen(tmp_path, native):
    import dataclasses

    write(tmp_path, drop=0.2)
    settings = resolve_settings(TaggerConfig(precision="auto", device="cpu"), tmp_path)
    assert (settings.precision, settings.device) == ("bf16", "cpu")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.precision = "fp32"


def test_training_writes_the_measurement_and_bf16_probabilities_stay_close(tiny_model_dir):
    from pipeline.tagger.encoding import encode_documents
    from pipeline.tagger.loading import load_model
    from pipeline.schema import Document
    from pipeline.tagger import run_model

    check = json.loads((tiny_model_dir / PRECISION_FILE).read_text())
    assert set(check["fp32"]) == set(METRICS)
    for p in ("bf16", "onnx_int8"):
        assert set(check[p]["drop_points"]) == set(METRICS) and isinstance(check[p]["accepted"], bool)
    assert "int8" not in check                         # PyTorch's int8 is gone: one int8 path
    model, tok, _ = load_model(str(tiny_model_dir))
    windows, _ = encode_documents([Document("d", "Peru expels two Chilean diplomats for spying.")],
                                  tok, max_length=64, stride=8)
    p32 = run_model(model, windows, 8, "fp32")[0]
    p16 = run_model(model, windows, 8, "bf16")[0]
    assert p32.shape == p16.shape and p16.dtype == np.float32
    assert np.abs(p32 - p16).max() < 0.05


def test_an_int8_tagger_runs_onnx_runtime_int8_and_keeps_the_float_model(tiny_model_dir):
    from pipeline.tagger import Tagger, TaggerSettings
    from pipeline.tagger.ort import ORT_INT8, OrtTagger

    tagger = Tagger.from_dir(str(tiny_model_dir), TaggerSettings(max_length=64, stride=16))
    int8 = tagger.with_settings(precision="int8")
    assert int8.settings.runtime == "onnx" and isinstance(int8.model, OrtTagger)
    assert int8.model.int8 == frozenset(ORT_INT8)
    assert int8.with_settings(precision="fp32", runtime="torch").model is tagger.base_model
    with pytest.raises(Exception, match="runs on ONNX Runtime"):
        TaggerSettings(precision="int8", runtime="torch")


def test_unknown_precision_fails_at_start_up():
    from pipeline.config import compose_config

    with pytest.raises(ValueError, match="Did you mean 'bf16'"):
        compose_config("predict", ["tagger.precision=bf61"])
