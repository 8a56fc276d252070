"""ONNX Runtime as the tagger's engine: the same probabilities and predictions as PyTorch,
no torch import on its path, and ``tagger.runtime`` chosen only on a passing F1 gate and a
measured speed on this machine."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from pipeline.tagger.encoding import encode_documents
from pipeline.errors import PrecisionError
from pipeline.formats.jsonl import read_events_jsonl
from pipeline.tagger.loading import load_for_inference
from pipeline.schema import Document
from pipeline.tagger import Tagger, TaggerSettings, run_model
from pipeline.tagger import runtime as rt
from pipeline.tagger.ort import OrtTagger, model_proto, weight_names
from pipeline.tagger.precision import PRECISION_FILE
from tests.helpers import FIXTURES

pytest.importorskip("onnxruntime")

HOSTILE = ["", " ", "Ünïcödé — “quotes” and emoji 🇵🇱 expels", "x" * 3000,
           "Peru expels two Chilean diplomats for spying; they must leave within 72 hours."]


def _docs():
    gold = list(read_events_jsonl(str(FIXTURES / "gold" / "dev.jsonl")))
    return [Document(d.id, d.text) for d in gold] + [Document(f"h{i}", t) for i, t in enumerate(HOSTILE)]


def test_probabilities_and_predictions_equal_pytorch(tiny_model_dir):
    torch_model, tok, _ = load_for_inference(tiny_model_dir)
    ort_model, ort_tok, _ = load_for_inference(tiny_model_dir, runtime="onnx")
    assert isinstance(ort_model, OrtTagger)
    docs = _docs()
    windows, _ = encode_documents(docs, tok, max_length=64, stride=16)
    assert len({len(w.input_ids) for w in windows}) > 3          # batches with padding
    for a, b in zip(run_model(torch_model, windows, 8), run_model(ort_model, windows, 8)):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-4)
    s = TaggerSettings(max_length=64, stride=16)
    want = [d.to_json() for d in Tagger(torch_model, tok, s).predict(docs)]
    got = [d.to_json() for d in Tagger(ort_model, ort_tok, TaggerSettings(max_length=64, stride=16,
                                                                          runtime="onnx")).predict(docs)]
    assert _spans(got, scores=True) == _spans(want, scores=True)
    assert sum(len(d["events"]) for d in want) > 0


def _spans(docs, scores: bool = False):
    """Events as (trigger span, argument spans); with ``scores``, the scores to 2 decimals."""
    def key(s):
        return (s.get("role"), s["start"], s["end"]) + ((round(s["score"] or 0, 2),) if scores else ())

    return [[(key(e["trigger"]), sorted(key(a) for a in e["arguments"])) for e in d["events"]] for d in docs]


def test_a_torch_tagger_switches_runtime_both_ways(tiny_model_dir):
    s = TaggerSettings(max_length=64, stride=16)
    tagger = Tagger.from_dir(str(tiny_model_dir), s)
    on_ort = tagger.with_settings(runtime="onnx")
    assert isinstance(on_ort.model, OrtTagger)
    back = Tagger.from_dir(str(tiny_model_dir), TaggerSettings(max_length=64, stride=16, runtime="onnx"))
    assert isinstance(back.base_model, OrtTagger)
    assert not isinstance(back.with_settings(runtime="torch").model, OrtTagger)
    docs = _docs()[:6]
    assert _spans([d.to_json() for d in on_ort.predict(docs)]) == \
        _spans([d.to_json() for d in back.with_settings(runtime="torch").predict(docs)])


def test_the_graph_reads_exactly_the_weights_of_the_directory(tiny_model_dir):
    from safetensors.numpy import load_file

    config = json.loads((tiny_model_dir / "config.json").read_text())
    weights = load_file(str(next(tiny_model_dir.glob("*.safetensors"))))
    assert {k for k in weights if not k.startswith("bert.pooler.")} == weight_names(config)
    assert model_proto(config, weights)[:2] == b"\x08\x08"           # ModelProto.ir_version = 8
    missing = dict(weights)
    missing.pop("classifier.bias")
    assert OrtTagger.from_weights(config, missing) is None
    extra = {**weights, "bert.encoder.layer.9.output.dense.weight": weights["classifier.weight"]}
    assert OrtTagger.from_weights(config, extra) is None


def test_onnx_path_never_imports_torch(tiny_model_dir, tmp_path):
    dump = tmp_path / "d.jsonl"
    dump.write_text('{"id": "a", "text": "Peru expels two Chilean diplomats."}\n'
                    '{"id": "b", "text": "Markets fell on Monday."}\n')
    code = ("import sys; from pipeline.config import PredictConfig, TaggerConfig; "
            "from pipeline.stages import predict; "
            f"s = predict(PredictConfig(model_dir={str(tiny_model_dir)!r}, input={str(dump)!r}, filter='none', "
            f"output={str(tmp_path / 'o')!r}, records=False, tagger=TaggerConfig(max_length=64, stride=16, "
            f"runtime='onnx', precision='fp32')), {str(tmp_path / 'r')!r}); "
            "print(s['documents'], s['tagged'], sorted(m for m in ('torch', 'transformers', 'sklearn') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "2 2 []"


def _model_with(tmp_path, tiny_model_dir, onnx_entry):
    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    check = json.loads((d / PRECISION_FILE).read_text())
    if onnx_entry is None:
        check.pop("onnx", None)
        check.pop("onnx_int8", None)
    else:
        check["onnx"] = onnx_entry
    (d / PRECISION_FILE).write_text(json.dumps(check))
    return d


PASS = {"f1": {}, "drop_points": {"trigger": 0.0, "argument": 0.2, "argument_attached": 0.0}, "accepted": True}


def test_training_measured_onnx_for_the_record(tiny_model_dir):
    entry = json.loads((tiny_model_dir / PRECISION_FILE).read_text())["onnx"]
    assert set(entry["drop_points"]) == {"trigger", "argument", "argument_attached"}
    assert "speed" not in entry                      # no timing probe: the engine is chosen by a rule


def test_auto_is_a_rule_float32_and_int8_on_the_cpu_run_on_onnx_runtime(tmp_path, tiny_model_dir):
    d = _model_with(tmp_path, tiny_model_dir, None)                  # nothing measured: float32 needs no gate
    assert rt.resolve_runtime("auto", d, "cpu", "fp32")[0] == "onnx"
    assert rt.resolve_runtime("onnx", d, "cpu", "fp32")[0] == "onnx"
    assert rt.resolve_runtime("auto", d, "cpu", "bf16")[0] == "torch"        # bf16 on PyTorch
    assert rt.resolve_runtime("auto", d, "cuda", "fp32")[0] == "torch"       # GPUs on PyTorch
    assert rt.resolve_runtime("torch", d, "cpu", "fp32")[0] == "torch"
    assert rt.resolve_runtime("auto", None, "cpu", "fp32")[0] == "torch"     # no folder to build a graph from
    # int8 is ONNX Runtime's only (its gate is precision.resolve's): where ONNX Runtime cannot
    # run, int8 is refused with the reason
    assert rt.resolve_runtime("auto", d, "cpu", "int8")[0] == "onnx"
    with pytest.raises(PrecisionError, match="int8 runs on ONNX Runtime only"):
        rt.resolve_runtime("auto", None, "cpu", "int8")


def test_onnx_on_request_says_why_it_cannot_run(tmp_path, tiny_model_dir):
    d = _model_with(tmp_path, tiny_model_dir, None)
    with pytest.raises(PrecisionError, match="CPU"):
        rt.resolve_runtime("onnx", d, "cuda", "fp32")
    with pytest.raises(PrecisionError, match="float32 or int8, and the tagger runs bf16"):
        rt.resolve_runtime("onnx", d, "cpu", "bf16")
    with pytest.raises(PrecisionError, match="not one of"):
        rt.resolve_runtime("tensorrt", d, "cpu", "fp32")


def test_an_architecture_onnx_does_not_run_is_refused(tiny_model_dir, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(tiny_model_dir, other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["hidden_act"] = "gelu_new"
    (other / "config.json").write_text(json.dumps(cfg))
    runtime, why = rt.resolve_runtime("auto", other, "cpu", "fp32")
    assert runtime == "torch" and "BERT-family" in why
    with pytest.raises(PrecisionError, match="BERT-family"):
        rt.resolve_runtime("onnx", other, "cpu", "fp32")
    tagger = Tagger.from_dir(str(other), TaggerSettings(max_length=64, stride=16))
    with pytest.raises(PrecisionError, match="BERT-family"):
        tagger.with_settings(runtime="onnx")


def test_a_faster_precision_leaves_onnx_runtime(tiny_model_dir):
    tagger = Tagger.from_dir(str(tiny_model_dir), TaggerSettings(max_length=64, stride=16, runtime="onnx"))
    bf16 = tagger.with_settings(precision="bf16")
    assert bf16.settings.runtime == "torch" and not isinstance(bf16.model, OrtTagger)
    int8 = tagger.with_settings(precision="int8")                 # stays on ONNX Runtime, its int8
    from pipeline.tagger.ort import ORT_INT8

    assert int8.settings.runtime == "onnx" and int8.model.int8 == frozenset(ORT_INT8)
    assert int8.with_settings(threads=1).model is not int8.model
    assert not isinstance(int8.with_settings(precision="fp32", runtime="torch").model, OrtTagger)
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="on the CPU, not bf16"):
        TaggerSettings(runtime="onnx", precision="bf16")


def test_int8_layers_run_close_to_float32_and_unknown_ones_are_refused(tiny_model_dir):
    from pipeline.tagger.ort import INT8_LAYERS, quantize_columns

    cfg = json.loads((tiny_model_dir / "config.json").read_text())
    fp32 = OrtTagger.from_dir(tiny_model_dir, cfg)
    ids = np.random.RandomState(0).randint(5, cfg["vocab_size"], (3, 21))
    mask = np.ones_like(ids)
    mask[1, 12:] = 0
    want = fp32.probs(ids, mask)
    for layers in ({"qkv"}, set(INT8_LAYERS)):
        got = OrtTagger.from_dir(tiny_model_dir, cfg, int8=layers).probs(ids, mask)
        assert got.shape == want.shape
        np.testing.assert_allclose(got[mask == 1], want[mask == 1], atol=2e-2)
        assert not np.array_equal(got, want)                     # the int8 kernels did run
    w = np.random.RandomState(1).randn(8, 4).astype(np.float32)
    q, scale = quantize_columns(w)
    assert q.dtype == np.int8 and np.abs(q).max() == 127
    np.testing.assert_allclose(q * scale, w, atol=scale.max() / 2 + 1e-7)
    with pytest.raises(ValueError, match="int8 layers must be among"):
        OrtTagger.from_dir(tiny_model_dir, cfg, int8={"pooler"})


def test_int8_is_onnx_runtimes_and_its_own_measured_opt_in(tmp_path, tiny_model_dir):
    from pipeline.tagger.ort import ORT_INT8

    check = json.loads((tiny_model_dir / PRECISION_FILE).read_text())
    assert "drop_points" in check["onnx_int8"] or "error" in check["onnx_int8"]   # training measured it
    d = _model_with(tmp_path, tiny_model_dir, PASS)
    measured = json.loads((d / PRECISION_FILE).read_text())
    measured["onnx_int8"] = {**PASS, "layers": list(ORT_INT8)}
    (d / PRECISION_FILE).write_text(json.dumps(measured))
    tagger = Tagger.from_pretrained(str(d), precision="int8", max_length=64, stride=16)   # runtime=auto
    assert (tagger.settings.precision, tagger.settings.runtime) == ("int8", "onnx")
    assert tagger.model.int8 == frozenset(ORT_INT8)
    assert tagger.with_settings(precision="fp32", runtime="onnx").model.int8 == frozenset()
    with pytest.raises(PrecisionError, match="precision=int8 runs on ONNX Runtime"):
        Tagger.from_pretrained(str(d), precision="int8", runtime="torch")
    docs = _docs()
    assert len(tagger.predict(docs)) == len(docs)
    measured["onnx_int8"] = {**PASS, "accepted": False, "drop_points": {"trigger": 2.5}, "layers": list(ORT_INT8)}
    (d / PRECISION_FILE).write_text(json.dumps(measured))
    with pytest.raises(PrecisionError, match="onnx_int8 costs this model up to 2.50"):
        Tagger.from_pretrained(str(d), precision="int8", runtime="onnx")
    measured["onnx_int8"] = {**PASS, "layers": ["qkv"]}          # measured by a version quantising others
    (d / PRECISION_FILE).write_text(json.dumps(measured))
    with pytest.raises(PrecisionError, match="with other layers"):
        Tagger.from_pretrained(str(d), precision="int8", runtime="onnx")


def test_the_graph_written_by_hand_passes_the_onnx_checker(tiny_model_dir):
    """pipeline/tagger/ort.py writes the ONNX protobuf itself (the onnx package costs a
    second of start-up); the onnx package reads it back and its checker accepts it, in
    float32 and with the int8 layers."""
    onnx = pytest.importorskip("onnx")
    from safetensors.numpy import load_file

    from pipeline.tagger.ort import ORT_INT8, model_proto

    cfg = json.loads((tiny_model_dir / "config.json").read_text())
    weights = load_file(str(tiny_model_dir / "model.safetensors"))
    for int8 in (frozenset(), frozenset(ORT_INT8)):
        model = onnx.load_from_string(model_proto(cfg, weights, int8))
        onnx.checker.check_model(model)
        assert [i.name for i in model.graph.input] == ["input_ids", "attention_mask"]
        assert [o.name for o in model.graph.output] == ["probs"]
        assert any(n.op_type == "Attention" and n.domain == "com.microsoft" for n in model.graph.node)
        assert any(n.op_type == "DynamicQuantizeMatMul" for n in model.graph.node) is bool(int8)
