"""The Python API of the README (Tagger.from_pretrained, tagger(text), tagger.pipe) and
``expel-predict text=...``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.cli import _quote_text
from pipeline.errors import ExpelError, ModelDirError, PredictError
from pipeline.stages.predict import predict_text, text_summary
from pipeline.tagger import Tagger

TEXTS = [
    "Poland expels 45 Russian diplomats for spying.",
    "The weather in Oslo is mild.",
    "Russia orders two Estonian diplomats to leave within 72 hours, citing espionage.",
]


def _spans(doc):
    return [(e.trigger.start, e.trigger.end, sorted((a.label, a.start, a.end) for a in e.arguments))
            for e in doc.events]


def test_from_pretrained_tags_a_string_like_predict(tiny_model_dir):
    tagger = Tagger.from_pretrained(str(tiny_model_dir), precision="fp32")
    doc = tagger(TEXTS[0])
    assert doc.text == TEXTS[0]
    # the one-text call agrees with a batch in which the text is not alone
    ref = tagger.predict([type(doc)("a", TEXTS[2]), type(doc)("text", TEXTS[0])])[1]
    assert _spans(doc) == _spans(ref)
    for ev in doc.events:  # every span slices the text it was given
        for s in [ev.trigger, *ev.arguments]:
            assert TEXTS[0][s.start:s.end] == s.text


def test_pipe_keeps_order_and_matches_one_call_per_text(tiny_model_dir):
    tagger = Tagger.from_pretrained(str(tiny_model_dir), precision="fp32")
    piped = list(tagger.pipe(iter(TEXTS), batch_size=2, chunk=2))
    assert [d.id for d in piped] == ["t0", "t1", "t2"]
    assert [d.text for d in piped] == TEXTS
    assert [_spans(d) for d in piped] == [_spans(tagger(t)) for t in TEXTS]


def test_from_pretrained_refuses_a_missing_dir_and_a_bad_setting(tiny_model_dir, tmp_path):
    with pytest.raises(ModelDirError):
        Tagger.from_pretrained(str(tmp_path / "nowhere"))
    with pytest.raises(ExpelError, match="precision"):
        Tagger.from_pretrained(str(tiny_model_dir), precision="fp16")


def test_text_values_are_quoted_for_hydra():
    assert _quote_text(["text=Peru expels a diplomat; Chile, too."]) == ["text='Peru expels a diplomat; Chile, too.'"]
    assert _quote_text(["text=It's ${x}"]) == ["text='It\\'s \\${x}'"]
    assert _quote_text(["text='already quoted'", "model_dir=m"]) == ["text='already quoted'", "model_dir=m"]


def test_predict_text_returns_events_and_refuses_empty_text(tiny_model_dir):
    from pipeline.config import compose_config

    cfg = compose_config("predict", [f"model_dir={tiny_model_dir}", "text='Poland expels 45 Russian diplomats.'",
                                     "date=2023-03-01", "tagger.precision=fp32"])
    res = predict_text(cfg)
    assert res["text"] == "Poland expels 45 Russian diplomats." and res["date"] == "2023-03-01"
    assert isinstance(res["events"], list)
    out = text_summary(res)
    assert out == "No expulsion found." if not res["events"] else out.startswith("Event 1: trigger")
    empty = compose_config("predict", [f"model_dir={tiny_model_dir}", "text=' '"])
    with pytest.raises(PredictError, match="empty"):
        predict_text(empty)


def test_text_summary_prints_spans_scores_and_record_fields():
    res = {"events": [{"trigger": {"text": "expels", "score": 0.97},
                       "arguments": [{"role": "EXPELLER", "text": "Poland", "score": 0.91},
                                     {"role": "REASON", "text": "for spying", "score": None}],
                       "count": 45, "expeller_country": "POL", "pairs": [["POL", "RUS"]], "time": None}]}
    out = text_summary(res).splitlines()
    assert out[0] == "Event 1: trigger 'expels' (score 0.97)"
    assert out[1].split() == ["EXPELLER", "'Poland'", "(score", "0.91)"]
    assert "(by rule)" in out[2]
    assert out[3] == "  record: count=45, expeller_country=POL"


def test_expel_predict_text_on_the_command_line(tiny_model_dir, tmp_path):
    res = subprocess.run([sys.executable, "-c", "from pipeline.cli import predict_main; predict_main()",
                          f"model_dir={tiny_model_dir}", "text=Peru expels a diplomat; Chile, too.",
                          "tagger.precision=fp32", f"hydra.run.dir={tmp_path}/run"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "No expulsion found." in res.stdout or "Event 1: trigger" in res.stdout
    from omegaconf import OmegaConf

    saved = OmegaConf.load(tmp_path / "run" / ".hydra" / "config.yaml")
    assert saved.text == "Peru expels a diplomat; Chile, too."   # the sentence arrived whole
