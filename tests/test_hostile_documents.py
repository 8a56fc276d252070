"""Hostile documents through the tagger: every one gives output, offsets stay valid.

The tagger never normalises a text: a predicted span's ``text`` is always
``document.text[start:end]`` of the text it was given.  A randomly initialised tiny
model predicts spans nearly everywhere, which is what these tests want: many spans
over awkward text.  ``decode_spans`` is also driven with crafted probabilities so that
spans start and end on the awkward characters themselves.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pipeline.tagger.encoding import BIO_LABELS, encode_documents
from pipeline.tagger import Tagger, TaggerSettings
from pipeline.tagger.decoding import decode_spans
from pipeline.schema import Document, Span
from tests.helpers import ROOT

SENTENCE = "Poland expels eight Russian diplomats for spying; they must leave by October 31. "

HOSTILE = {
    "empty": "",
    "one space": " ",
    "whitespace only": " \t\n\r\n\u3000\u2028\u00a0\ufeff   ",
    "single 100,000-character token": "x" * 100_000,
    "100,000-character token inside a sentence": "Poland expels " + "é" * 100_000 + " diplomats.",
    "5,000 punctuation marks": "!" * 5_000,
    "NUL bytes": "\x00" * 50 + SENTENCE + "\x00" + SENTENCE.replace(" ", "\x00"),
    "control characters": "".join(chr(i) for i in range(32)) + SENTENCE + "\x7f\x85\x9f",
    "mixed scripts and right-to-left": ("\u202eإسرائيل تطرد دبلوماسيين\u202c " + SENTENCE
                                        + " פולין מגרשת דיפלומטים רוסים. \u200fРоссия высылает "
                                        "дипломатов. 波兰驱逐俄罗斯外交官。ポーランド"),
    "emoji and combining marks": ("👨\u200d👩\u200d👧 🇵🇱 👍🏽 " + SENTENCE + "Z\u0351\u0359\u0324"
                                  * 30 + " e\u0301\u0302\u0303 " + "\u0301" * 200 + " 𝔓𝔬𝔩𝔞𝔫𝔡"),
    "lone surrogates": "\ud800" + SENTENCE + "\udfff \udc80Poland\ud83d expels",
    "invalid UTF-8 decoded with errors=replace":
        (b"Poland \xff\xfe expels \xc3 eight\xed\xa0\x80 diplomats " * 20).decode("utf-8", "replace"),
    "invalid UTF-8 decoded with surrogateescape":
        (b"Poland \xff\xfe expels \xc3 eight diplomats " * 20).decode("utf-8", "surrogateescape"),
    "CRLF line ends": SENTENCE.replace(" ", "\r\n") + "\r\n\r\n" + SENTENCE + "\r",
    "zero-width characters": "\u200b\u200c\u200d\u2060".join(SENTENCE.split()),
    "private use and noncharacters": "\ue000\uffff\U0010ffff " + SENTENCE + "\ufffe",
}


@pytest.fixture(scope="module")
def tagger(tiny_model_dir) -> Tagger:
    return Tagger.from_dir(str(tiny_model_dir), TaggerSettings(max_length=64, stride=16, batch_size=16))


def assert_valid_output(doc: Document, out: Document) -> None:
    """Same id and text (never normalised); every span slices the text exactly."""
    assert out.id == doc.id and out.text == doc.text and out.meta == doc.meta
    for ev in out.events:
        assert ev.trigger.label == "TRIGGER"
        for s in (ev.trigger, *ev.arguments):
            assert 0 <= s.start < s.end <= len(doc.text), s
            assert doc.text[s.start:s.end] == s.text, s
            assert s.score is not None and 0 <= s.score <= 1


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_document_gives_valid_output(tagger, case):
    doc = Document(f"hostile-{case}", HOSTILE[case], meta={"case": case})
    [out] = tagger.predict([doc])
    assert_valid_output(doc, out)
    for s in tagger.predict_spans([doc])[0]:
        assert doc.text[s.start:s.end] == s.text


def test_all_hostile_documents_in_one_batch_match_one_by_one(tagger):
    """Batching hostile documents together changes nothing (padding, sorting by length)."""
    docs = [Document(k, v) for k, v in HOSTILE.items()]
    together = tagger.predict(docs)
    for doc, out in zip(docs, together):
        assert_valid_output(doc, out)
        alone = tagger.predict([doc])[0]
        assert [e.to_json() for e in alone.events] == [e.to_json() for e in out.events]


def test_long_document_gives_valid_output_in_bounded_memory(tagger):
    import tracemalloc

    text = (SENTENCE + "\r\n" + HOSTILE["mixed scripts and right-to-left"] + " ") * 100  # ~33,000 chars
    doc = Document("long", text)
    tracemalloc.start()
    try:
        spans = tagger.predict_spans([doc])[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"\n{len(text):,}-character document: {len(spans):,} spans, Python peak "
          f"{peak / 2**20:.1f} MB")
    assert spans, "a random model predicts spans in a long text"
    assert all(text[s.start:s.end] == s.text for s in spans)
    assert peak < 200 * 2**20


# --------------------------------------------------------------------------- crafted probabilities

def crafted_probs(windows, rng) -> list[np.ndarray]:
    """Probabilities that make every word a span: random B-/I- tags, confident."""
    out = []
    for w in windows:
        p = np.full((len(w.input_ids), len(BIO_LABELS)), 0.01, dtype=np.float32)
        tags = rng.integers(1, len(BIO_LABELS), size=len(w.input_ids))  # never O
        p[np.arange(len(tags)), tags] = 0.9
        out.append(p)
    return out


@pytest.mark.parametrize("case", [c for c in HOSTILE if len(HOSTILE[c]) < 50_000])
def test_decode_spans_over_hostile_text_slices_the_text(tagger, case):
    text = HOSTILE[case]
    windows, _ = encode_documents([Document("d", text)], tagger.tokenizer, max_length=32, stride=8)
    spans = decode_spans(text, windows, crafted_probs(windows, np.random.default_rng(0)))
    n_words = sum(sum(w.word_starts[t] and w.owned[t] for t in range(len(w.input_ids))) for w in windows)
    assert len(spans) >= (1 if n_words else 0)
    last_end = 0
    for s in spans:
        assert 0 <= s.start < s.end <= len(text) and text[s.start:s.end] == s.text
        assert s.start >= last_end, "decoded spans never overlap"
        last_end = s.end


# --------------------------------------------------------------------------- a 5 MB document

MEMORY_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time, tracemalloc
    from pipeline.tagger import Tagger, TaggerSettings
    from pipeline.schema import Document

    model_dir, n_chars = sys.argv[1], int(sys.argv[2])
    tagger = Tagger.from_dir(model_dir, TaggerSettings(max_length=256, stride=64, batch_size=64))
    tagger.predict_spans([Document("warm-up", "Poland expels a diplomat.")])
    unit = ("Poland expels eight Russian diplomats for spying; they must leave by October 31.\\r\\n"
            "إسرائيل تطرد دبلوماسيين 👨\\u200d👩\\u200d👧 e\\u0301 \\x00 ")
    text = (unit * (n_chars // len(unit) + 1))[:n_chars]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    spans = tagger.predict_spans([Document("big", text)])[0]
    seconds = time.perf_counter() - t0
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    bad = sum(text[s.start:s.end] != s.text for s in spans)
    print(json.dumps({"chars": len(text), "spans": len(spans), "bad_offsets": bad,
                      "seconds": round(seconds, 1), "rss_growth_mb": round((peak - base) / 1024, 1),
                      "python_peak_mb": round(py_peak / 2**20, 1)}))
""")


def run_memory_probe(model_dir, n_chars: int) -> dict:
    """Tag one document of ``n_chars`` in a fresh process; its peak RSS growth and time."""
    res = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(model_dir), str(n_chars)],
                         cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stderr[-3000:]
    fig = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"\n{n_chars:,}-character document: {fig}")
    return fig


@pytest.mark.slow
def test_five_megabyte_document_tags_in_bounded_memory(tiny_model_dir):
    """Memory grows linearly, about 400 bytes per character (tokenizer output, windows,
    probabilities, words and spans of a random model that tags nearly every word):
    measured 1.92-1.98 GB and 156-191 s for 5,000,000 characters on 2 busy cores.  predict's
    max_chars (1,000,000) keeps one document to about 400 MB."""
    fig = run_memory_probe(tiny_model_dir, 5_000_000)
    assert fig["bad_offsets"] == 0 and fig["spans"] > 0
    assert fig["rss_growth_mb"] < 3072, fig




# --------------------------------------------------------------------------- linking (not mine)

def test_linking_time_grows_linearly_with_the_spans():
    import time

    from pipeline.events.linking import link

    def seconds(n_sentences: int) -> float:
        text = SENTENCE * n_sentences
        spans = []
        for k in range(n_sentences):
            base = k * len(SENTENCE)
            for label, word in (("EXPELLER", "Poland"), ("TRIGGER", "expels"), ("EXPELLED", "eight"),
                                ("REASON", "spying"), ("DEADLINE", "October")):
                i = SENTENCE.index(word)
                spans.append(Span(label, base + i, base + i + len(word), word))
        t0 = time.perf_counter()
        assert len(link(text, spans, strategy="sentence")) == n_sentences
        return time.perf_counter() - t0

    small, large = seconds(1000), seconds(2000)
    # Linear: twice the spans, about twice the time; quadratic: four times.
    assert large < 0.5 or large / small < 3, (small, large)


# --------------------------------------------------------------------------- through predict

def run_predict(model_dir, texts: dict[str, str], tmp_path, max_chars: int = 1_000_000):
    """Run the predict stage over a JSONL dump of ``texts``; (shard docs by id, rejects)."""
    from pipeline.stages import predict
    from tests.helpers import predict_config

    dump = tmp_path / "hostile.jsonl"
    # ensure_ascii: a lone surrogate is written as a \ud800 escape, as a broken exporter would.
    dump.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in texts.items()),
                    encoding="utf-8")
    out = tmp_path / "out"
    cfg = predict_config(model_dir=str(model_dir), input=str(dump), output=str(out), chunk_size=4,
                         batch_size=8, max_length=64, stride=16, max_chars=max_chars,
                         filter="none", records=False)
    predict(cfg, tmp_path / "run")
    docs = {d["id"]: d for p in sorted(out.glob("part-*.jsonl")) for d in jsonl(p)}
    return docs, jsonl(out / "rejects.jsonl")


def jsonl(path) -> list[dict]:
    """JSON Lines split on "\\n" only: texts may hold U+2028, U+0085 and other characters
    that ``str.splitlines`` takes for line ends."""
    return [json.loads(x) for x in path.read_text(encoding="utf-8").split("\n") if x]


def assert_predicted_spans_slice(doc: dict) -> None:
    for ev in doc["events"]:
        for s in (ev["trigger"], *ev["arguments"]):
            assert doc["text"][s["start"]:s["end"]] == s["text"]


SURROGATE_CASES = ("lone surrogates", "invalid UTF-8 decoded with surrogateescape")


def test_hostile_documents_through_predict_give_output_or_a_counted_reject(tiny_model_dir, tmp_path):
    texts = {k: v for k, v in HOSTILE.items() if k not in SURROGATE_CASES and len(v) < 50_000}
    texts["too long"] = "x " * 60_000  # 120,000 characters, over max_chars below
    docs, rejects = run_predict(tiny_model_dir, texts, tmp_path, max_chars=100_000)
    assert set(docs) == set(texts) - {"too long"}
    assert [(r["id"], r["record_no"]) for r in rejects] == [("too long", len(texts) - 1)]
    assert "max_chars" in rejects[0]["reason"]
    for k, d in docs.items():
        assert d["text"] == texts[k], "the text is never normalised"
        assert_predicted_spans_slice(d)


def test_lone_surrogates_through_predict_give_output_or_a_counted_reject(tiny_model_dir, tmp_path):
    texts = {k: HOSTILE[k] for k in SURROGATE_CASES}
    texts["fine"] = SENTENCE
    docs, rejects = run_predict(tiny_model_dir, texts, tmp_path)
    assert len(docs) + len(rejects) == len(texts) and "fine" in docs
