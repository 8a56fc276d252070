"""Sentences of news text (pipeline/text.py): abbreviations, quotes, headlines, datelines."""

from __future__ import annotations

import pytest

from pipeline.text import rough_sentence_bounds, sentence_bounds


def sentences(text: str) -> list[str]:
    return [text[a:b].strip() for a, b in sentence_bounds(text)]


@pytest.mark.parametrize("text, expected", [
    ("The U.S. expels two Russian diplomats. Moscow vows to respond.",
     ["The U.S. expels two Russian diplomats.", "Moscow vows to respond."]),
    ("Mr. Peskov said Gen. Ivanov was expelled. The U.K. agreed.",
     ["Mr. Peskov said Gen. Ivanov was expelled.", "The U.K. agreed."]),
    ("President George W. Bush expels 15 Cuban diplomats.", ["President George W. Bush expels 15 Cuban diplomats."]),
    ('"They must leave by Friday," the minister said. Nobody answered.',
     ['"They must leave by Friday," the minister said.', "Nobody answered."]),
    ("Russia Expels Two U.S. Diplomats\n\nMOSCOW (Reuters) - Russia expelled two U.S. diplomats on Friday.",
     ["Russia Expels Two U.S. Diplomats", "MOSCOW (Reuters) - Russia expelled two U.S. diplomats on Friday."]),
    ("By Jane Doe\n\nWARSAW - Poland expels 45 Russian diplomats.\n\nThe embassy said nothing.",
     ["By Jane Doe", "WARSAW - Poland expels 45 Russian diplomats.", "The embassy said nothing."]),
])
def test_news_sentences(text, expected):
    assert sentences(text) == expected


@pytest.mark.parametrize("text", ["", "a", "\n\n\nx\n\n", "Ends without a stop", "One. Two. Three!"])
def test_bounds_cover_the_text_in_order(text):
    for split in (sentence_bounds, rough_sentence_bounds):
        b = split(text)
        assert b[0][0] == 0 and b[-1][1] == len(text)
        assert all(a[1] == c[0] for a, c in zip(b, b[1:]))
    assert all(s < e for s, e in sentence_bounds(text)) or not text


def test_the_rough_splitter_is_the_old_regex():
    assert len(rough_sentence_bounds("Mr. Peskov spoke. Moscow responds.")) == 3
    assert len(sentence_bounds("Mr. Peskov spoke. Moscow responds.")) == 2


def test_atomic_writes_keep_the_mode_a_plain_write_would_give(tmp_path):
    """pipeline/files.py replaces a file through a temporary one (mkstemp makes it 0600);
    the result keeps the replaced file's mode, or the umask's for a new file."""
    import os
    import stat

    from pipeline.files import atomic_lines, atomic_text

    new = tmp_path / "new.txt"
    atomic_text(new, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    old = tmp_path / "old.jsonl"
    old.write_text("a\n")
    os.chmod(old, 0o640)
    atomic_lines(old, ["b", "c"])
    assert old.read_text() == "b\nc\n" and stat.S_IMODE(old.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_word_gate_answers_as_its_pattern():
    """The two-step search (the pattern without its \\b first) agrees with the pattern
    itself on every gold text and on words the looser step lets through."""
    import re

    from pipeline.text import EXPULSION_WORDS, WordGate
    from pipeline.training.corpus import load_gold

    gate, plain = WordGate(EXPULSION_WORDS), re.compile(EXPULSION_WORDS)
    texts = [d.text.lower() for d in load_gold(["data/gold/train.jsonl", "data/gold/dev.jsonl"])]
    texts += ["the house was sold", "a joust at the fair", "photo leave policy", "they ousted him",
              "he was told to leave.", "", "ousting", "a tour to leave"]
    got = [gate.search(t) for t in texts]
    assert got == [plain.search(t) is not None for t in texts]
    assert got[-8:] == [False, False, False, True, True, False, True, True]


def _reference_bounds(text: str) -> list[tuple[int, int]]:
    """Every paragraph split at once, as sentence_bounds did before it split lazily."""
    import re

    from pipeline.text import _chunks, _segmenter, unwrapped

    starts, paragraphs, lo = [0], [], 0
    for m in re.finditer(r"\n\s*\n", text):
        paragraphs.append((lo, m.start()))
        lo = m.end()
        starts.append(lo)
    paragraphs.append((lo, len(text)))
    flat = unwrapped(text)
    for a, b in (c for p in paragraphs for c in _chunks(text, *p)):
        if flat[a:b].strip():
            starts.append(a)
            starts.extend(a + s.start for s in _segmenter().segment(flat[a:b])[1:])
    starts = sorted({s for s in starts if s < len(text)} or {0})
    return list(zip(starts, starts[1:] + [len(text)]))


def test_sentences_split_lazily_give_the_whole_split_at_every_position():
    """Sentences(text).at(pos) splits only pos's paragraph, yet answers as splitting the
    whole text does, on gold texts, articles, wrapped lines and edge cases."""
    import random

    from pipeline.text import Sentences
    from pipeline.training.articles import articles_of
    from pipeline.training.corpus import load_gold

    docs = load_gold(["data/gold/dev.jsonl"])
    texts = [d.text for d in docs[:80]] + [d.text for d in articles_of(docs, random.Random(5))[:20]]
    texts += ["", " ", "\n\n", "A.\n\n", "A. B.\n\n  ", "\n\nA b. C d.\n\n\n\nE.",
              "Peru expels a\nconsul.\nIt says so.\n \nNext one. " + "Long sentence here. " * 150,
              "Peru expels a consul.\r\nIt says so.\r\n\r\nMarkets fell. Oil rose.\r\n",
              "Peru expels a consul.\n\u00a0\nMarkets fell.\n\u2003\n\nOil rose."]
    rng = random.Random(2)
    for text in texts:
        want = _reference_bounds(text)
        lazy = Sentences(text)
        for pos in rng.sample(range(len(text)), min(25, len(text))):
            assert lazy.at(pos) == next(b for b in want if b[0] <= pos < b[1]), (text[:40], pos)
        assert lazy.bounds() == want
        assert Sentences(text).bounds() == want        # all at once, without at() first
        if text:
            assert lazy.at(len(text)) == want[-1] and lazy.at(-3) == want[0]    # clamped
    s = Sentences("One. Two.\n\nThree. Four.\n\nFive.")
    s.at(13)
    assert list(s._inner) == [1]                       # only the asked paragraph was split
    assert [s.paragraph(p) for p in (0, 10, 11, 26, 99)] == [0, 0, 1, 2, 2]
    huge = "Peru expels a consul. " * 10_000           # past LONG_TEXT: the rough splitter
    assert Sentences(huge).at(30) == (22, 44) and len(Sentences(huge).bounds()) == 10_000
