"""bfloat16 inference: chosen only with native hardware and a passing dev measurement."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline import precision
from pipeline.precision import PRECISION_FILE, PrecisionError, resolve


def write(dir_, accepted=True, drop=0.0):
    (dir_ / PRECISION_FILE).write_text(json.dumps({
        "dev_f1_fp32": {"trigger": 90.0}, "dev_f1_bf16": {"trigger": 90.0 - drop},
        "drop_points": {"trigger": drop, "argument": drop, "argument_attached": drop},
        "accepted": accepted}))


@pytest.fixture
def native(monkeypatch):
    monkeypatch.setattr(precision, "native_bf16", lambda device: True)


def test_fp32_is_always_allowed(tmp_path):
    assert resolve("fp32", tmp_path, "cpu")[0] == "fp32"


def test_bf16_without_a_measurement_names_the_command(tmp_path):
    with pytest.raises(PrecisionError, match="--precision-check"):
        resolve("bf16", tmp_path, "cpu")


def test_bf16_with_a_drop_over_one_point_is_refused(tmp_path):
    write(tmp_path, accepted=False, drop=2.5)
    with pytest.raises(PrecisionError, match="more than the 1.0 allowed"):
        resolve("bf16", tmp_path, "cpu")


def test_auto_needs_native_hardware(tmp_path, monkeypatch):
    write(tmp_path)
    monkeypatch.setattr(precision, "native_bf16", lambda device: False)
    choice, why = resolve("auto", tmp_path, "cpu")
    assert choice == "fp32" and "no native bfloat16" in why


@pytest.mark.parametrize("state, expected", [("accepted", "bf16"), ("rejected", "fp32"),
                                             ("missing", "fp32"), ("corrupt", "fp32")])
def test_auto_follows_the_models_measurement(tmp_path, native, state, expected):
    if state == "accepted":
        write(tmp_path, drop=0.4)
    elif state == "rejected":
        write(tmp_path, accepted=False, drop=3.0)
    elif state == "corrupt":
        (tmp_path / PRECISION_FILE).write_text("{not json")
    assert resolve("auto", tmp_path, "cpu")[0] == expected


def test_measure_reports_drops_and_the_verdict():
    scores = {"fp32": 0.80, "bf16": 0.785}
    check = precision.measure(lambda p: {k: {"f1": scores[p]} for k in
                                         ("trigger", "argument", "argument_attached")})
    assert check["drop_points"] == {"trigger": 1.5, "argument": 1.5, "argument_attached": 1.5}
    assert check["accepted"] is False


def test_training_writes_the_measurement_and_bf16_probabilities_stay_close(tiny_model_dir):
    from pipeline.encoding import encode_documents
    from pipeline.modeling import load_model
    from pipeline.predictor import run_model
    from pipeline.schema import Document

    check = json.loads((tiny_model_dir / PRECISION_FILE).read_text())
    assert set(check["drop_points"]) == {"trigger", "argument", "argument_attached"}
    assert isinstance(check["accepted"], bool)
    model, tok, _ = load_model(str(tiny_model_dir))
    windows, _ = encode_documents([Document("d", "Peru expels two Chilean diplomats for spying.")],
                                  tok, max_length=64, stride=8)
    p32 = run_model(model, windows, 8, "fp32")[0]
    p16 = run_model(model, windows, 8, "bf16")[0]
    assert p32.shape == p16.shape and p16.dtype == np.float32
    assert np.abs(p32 - p16).max() < 0.05


def test_unknown_precision_fails_at_start_up():
    from pipeline.config import compose_config

    with pytest.raises(ValueError, match="Did you mean 'bf16'"):
        compose_config("predict", ["precision=bf61"])
