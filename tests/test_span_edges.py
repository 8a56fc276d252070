"""Spans that respect the text: no span starts or ends with whitespace or sentence
punctuation, and none crosses a paragraph break, whatever the layout of the document
(a guarantee of decoding, ``pipeline.tagger.decoding.tidy_span``)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipeline.schema import Document
from pipeline.tagger.decoding import tidy_span

EDGE = re.compile(r"^[\s.,;:!?]|[\s,;:]$")
PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n")

PIECES = ["Poland", " ", "  ", "\n", "\n\n", "expels", "45", "Russian", "diplomats", ".", ",", ";", "“", "”",
          "’s", "'", "\"", "(", ")", "U.S.", "for", "spying", "Mr.", "—", "\t", "!", "?", ":"]


def well_formed(text: str, a: int, b: int) -> bool:
    piece = text[a:b]
    if a == b:
        return True
    if EDGE.search(piece) or PARAGRAPH.search(piece):
        return False
    if piece.endswith((".", "!", "?")) and not re.search(r"(?:[A-Za-z]\.){2,}$|\b(?:Mr|Jr|Gen|Co)\.$", piece):
        return False
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=30), st.data())
def test_tidy_span_gives_a_well_formed_span_inside_the_original(pieces, data):
    text = "".join(pieces)
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    s, e = tidy_span(text, a, b)
    assert a <= s <= e <= b
    assert well_formed(text, s, e), (text[a:b], text[s:e])
    assert tidy_span(text, s, e) == (s, e)                      # idempotent


def _reformat(text: str, rng) -> str:
    """The same words laid out as an article might be: doubled spaces, wrapped lines,
    paragraph breaks between sentences, curly quotes and apostrophes."""
    text = text.replace("'", rng.choice(["'", "’"])).replace(' "', " “").replace('" ', "” ")
    out = []
    for word in text.split(" "):
        out.append(word)
        out.append(rng.choice([" ", " ", " ", "  ", "\n"]))
    text = "".join(out).rstrip()
    return re.sub(r"([.!?]) ", lambda m: m.group(1) + rng.choice([" ", "\n\n", "\n"]), text)


class _NoisyModel:
    """Stands in for a trained model: random label probabilities, tilted towards span
    labels, so that decoding meets every kind of ragged edge (the engine interface of
    ``pipeline.tagger.ort.OrtTagger``)."""

    runtime = "onnx"

    def __init__(self, seed: int):
        import numpy as np
        from types import SimpleNamespace

        self.rng = np.random.default_rng(seed)
        self.config = SimpleNamespace(pad_token_id=0)

    def with_int8(self, layers, threads):
        return self

    def probs(self, ids, mask):
        from pipeline.tagger.encoding import BIO_LABELS

        p = self.rng.random((*ids.shape, len(BIO_LABELS))) ** 3
        p[..., 0] *= 0.5                                         # fewer O: long, ragged spans
        return (p / p.sum(-1, keepdims=True)).astype("float32")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.sampled_from(["rules", "model"]))
def test_the_tagger_never_outputs_a_span_with_ragged_edges(rng, reason):
    from pipeline.training.corpus import load_gold
    from pipeline.training.modeling import build_tiny_bert
    from pipeline.tagger import Tagger, TaggerSettings

    docs = [d for d in load_gold(["data/gold/dev.jsonl"]) if d.events][:40]
    text = "\n\n".join(_reformat(rng.choice(docs).text, rng) for _ in range(3))
    _, tokenizer = build_tiny_bert(seed=0)
    tagger = Tagger(_NoisyModel(rng.randrange(1000)), tokenizer, TaggerSettings(runtime="onnx", reason=reason))
    (out,) = tagger.predict([Document("x", text)])
    assume(out.events)                 # a draw of the noisy model with no event says nothing here
    for ev in out.events:
        for sp in [ev.trigger, *ev.arguments]:
            assert text[sp.start:sp.end] == sp.text and well_formed(text, sp.start, sp.end), repr(sp.text)


def test_an_argument_never_ends_with_a_dangling_function_word():
    """No gold argument ends with "in", "by", "of", "the"...: the model reading on into the
    next phrase ("40 German diplomatic staff in a retaliatory move") is cut back."""
    from pipeline.schema import Span
    from pipeline.tagger.decoding import tidy_spans

    text = "Russia expels 40 German diplomatic staff in a move; the Government of, Peru expels"
    staff, gov = text.index("40 German"), text.index("the Government")
    spans = [("EXPELLED", staff, text.index(" a move")), ("EXPELLER", gov, text.index(", Peru")),
             ("TRIGGER", 0, text.index(" 40"))]
    out = tidy_spans(text, [Span(label, a, b, text[a:b]) for label, a, b in spans])
    assert [s.text for s in out] == ["40 German diplomatic staff", "the Government", "Russia expels"]
    assert all(s.text == text[s.start:s.end] for s in out)
