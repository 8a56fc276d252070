"""Model contracts: train -> save -> load -> predict agrees; batching changes nothing;
label maps are checked; untrusted model directories are refused."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from pipeline.tagger.encoding import BIO_LABELS, encode_documents
from pipeline.formats.jsonl import read_events_jsonl
from pipeline.tagger.loading import ModelDirError, check_model_dir, load_model
from pipeline.training.modeling import save_model
from pipeline.tagger import Tagger, TaggerSettings, run_model
from pipeline.schema import Document
from tests.helpers import FIXTURES


@pytest.fixture(scope="module")
def docs():
    gold = list(read_events_jsonl(str(FIXTURES / "gold" / "dev.jsonl")))
    long = Document("long", " ".join(d.text for d in gold) * 3)
    return [Document(d.id, d.text) for d in gold] + [long]


def probs_of(model, tokenizer, docs, batch_size):
    windows, _ = encode_documents(docs, tokenizer, max_length=64, stride=16)
    return run_model(model, windows, batch_size)


def test_saved_model_predicts_like_before_saving(tiny_model_dir, docs, tmp_path):
    model, tok, info = load_model(tiny_model_dir)
    assert info["labels"] == list(BIO_LABELS) and "dev_scores" in info
    before = probs_of(model, tok, docs, 8)
    again = save_model(model, tok, tmp_path / "copy", info)
    model2, tok2, _ = load_model(again)
    after = probs_of(model2, tok2, docs, 8)
    for a, b in zip(before, after):
        np.testing.assert_allclose(a, b, atol=1e-6)
    s = TaggerSettings(max_length=64, stride=16)
    p1 = Tagger(model, tok, s).predict(docs)
    p2 = Tagger(model2, tok2, s).predict(docs)
    assert [d.to_json() for d in p1] == [d.to_json() for d in p2]


def test_batching_does_not_change_predictions(tiny_model_dir, docs):
    model, tok, _ = load_model(tiny_model_dir)
    one = probs_of(model, tok, docs, 1)
    many = probs_of(model, tok, docs, 7)
    for a, b in zip(one, many):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_model_dir_carries_what_it_needs(tiny_model_dir):
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md", "expel_schema.json"} <= names
    cfg = json.loads((tiny_model_dir / "config.json").read_text())
    assert cfg["id2label"]["1"] == "B-TRIGGER"
    info = json.loads((tiny_model_dir / "expel_schema.json").read_text())
    assert info["config"]["model"]["encoder"] == "tiny-bert"


def test_loads_in_transformers_pipeline(tiny_model_dir):
    from transformers import pipeline

    nlp = pipeline("token-classification", model=str(tiny_model_dir), aggregation_strategy="simple")
    out = nlp("Poland expels two Russian diplomats.")
    assert isinstance(out, list)


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_label_map_mismatch_shows_both(tiny_model_dir, tmp_path):
    d = _copy(tiny_model_dir, tmp_path / "m")
    cfg = json.loads((d / "config.json").read_text())
    cfg["id2label"] = {str(i): lab for i, lab in enumerate(["O", "B-PER", "I-PER", *BIO_LABELS[3:]])}
    cfg["label2id"] = {v: int(k) for k, v in cfg["id2label"].items()}
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelDirError) as e:
        load_model(d)
    assert "B-PER" in str(e.value) and "B-TRIGGER" in str(e.value)


def test_remote_code_is_refused(tiny_model_dir, tmp_path):
    d = _copy(tiny_model_dir, tmp_path / "m")
    cfg = json.loads((d / "config.json").read_text())
    cfg["auto_map"] = {"AutoModelForTokenClassification": "evil.Model"}
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelDirError, match="remote"):
        load_model(d)


def test_pickle_only_weights_are_refused(tiny_model_dir, tmp_path):
    d = _copy(tiny_model_dir, tmp_path / "m")
    (d / "model.safetensors").unlink()
    (d / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelDirError, match="pickle"):
        load_model(d)


def test_missing_or_corrupt_dirs_are_refused(tiny_model_dir, tmp_path):
    with pytest.raises(ModelDirError, match="does not exist"):
        check_model_dir(tmp_path / "nowhere")
    d = _copy(tiny_model_dir, tmp_path / "m")
    (d / "config.json").write_text("{not json")
    with pytest.raises(ModelDirError, match="not valid JSON"):
        load_model(d)
    d2 = _copy(tiny_model_dir, tmp_path / "m2")
    (d2 / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelDirError, match="corrupt"):
        load_model(d2)
