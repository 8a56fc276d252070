"""The light inference path (plain PyTorch BERT and the Rust tokenizer) gives what
transformers gives, and other architectures still load through transformers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np

from pipeline.tagger.encoding import encode_documents
from pipeline.formats.jsonl import read_events_jsonl
from pipeline.tagger.loading import load_for_inference, load_model
from pipeline.schema import Document
from pipeline.tagger import Tagger, TaggerSettings, run_model
from pipeline.tagger.bert import BertTagger, RustTokenizer
from tests.helpers import FIXTURES

HOSTILE = ["", " ", "Ünïcödé — “quotes” and emoji 🇵🇱 expels", "a\u00a0b\tc\nd", "x" * 3000,
           "Peru expels two Chilean diplomats for spying.", "\ufffd broken \ufffd"]


def _docs():
    gold = list(read_events_jsonl(str(FIXTURES / "gold" / "dev.jsonl")))
    return [Document(d.id, d.text) for d in gold] + [Document(f"h{i}", t) for i, t in enumerate(HOSTILE)]


def test_light_path_is_taken_for_a_bert_model(tiny_model_dir):
    model, tok, info = load_for_inference(tiny_model_dir)
    assert isinstance(model, BertTagger) and isinstance(tok, RustTokenizer) and "labels" in info


def test_windows_and_probabilities_equal_transformers(tiny_model_dir):
    hf_model, hf_tok, _ = load_model(tiny_model_dir)
    model, tok, _ = load_for_inference(tiny_model_dir)
    docs = _docs()
    w_hf, _ = encode_documents(docs, hf_tok, max_length=64, stride=16)
    w, _ = encode_documents(docs, tok, max_length=64, stride=16)
    assert [(x.input_ids, x.offsets, x.word_starts, x.owned) for x in w] == \
        [(x.input_ids, x.offsets, x.word_starts, x.owned) for x in w_hf]
    for a, b in zip(run_model(hf_model, w_hf, 8), run_model(model, w, 8)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    s = TaggerSettings(max_length=64, stride=16)
    assert [d.to_json() for d in Tagger(hf_model, hf_tok, s).predict(docs)] == \
        [d.to_json() for d in Tagger(model, tok, s).predict(docs)]


def test_another_architecture_loads_through_transformers(tiny_model_dir, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(tiny_model_dir, other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["hidden_act"] = "gelu_new"                  # not what the light path computes
    (other / "config.json").write_text(json.dumps(cfg))
    model, _, _ = load_for_inference(other)
    assert not isinstance(model, BertTagger)


def test_predict_does_not_import_transformers(tiny_model_dir, tmp_path):
    dump = tmp_path / "d.jsonl"
    dump.write_text('{"id": "a", "text": "Peru expels two Chilean diplomats."}\n')
    code = ("import sys; from pipeline.config import PredictConfig, TaggerConfig; "
            "from pipeline.stages import predict; "
            f"predict(PredictConfig(model_dir={str(tiny_model_dir)!r}, input={str(dump)!r}, "
            f"output={str(tmp_path / 'o')!r}, records=False, tagger=TaggerConfig(max_length=64, stride=16)), "
            f"{str(tmp_path / 'r')!r}); "
            "print(sorted(m for m in ('transformers', 'sklearn', 'matplotlib', 'pandas') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "[]"
