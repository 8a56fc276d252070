"""Label alignment and window merging: encode gold spans, decode them back unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.tagger.encoding import BIO_LABELS, IGNORE, LABEL2ID, encode_document, encode_documents
from pipeline.formats.inline import parse_markup
from pipeline.tagger.decoding import decode_spans


@pytest.fixture(scope="module")
def tokenizer():
    from pipeline.tagger.loading import PACKAGED_MINILM, load_tokenizer, resolve_encoder

    return load_tokenizer(resolve_encoder(PACKAGED_MINILM))


SEED_LIKE = (
    "[NATO]{EXPELLER#1} has [expelled]{TRIGGER#1} [eight Russian officials]{EXPELLED#1} for "
    "[being undeclared intelligence officers]{REASON#1}; they must leave by [October 31]{DEADLINE#1}. "
    "[Last year]{TIME#2}, [Norway]{EXPELLER#2} declared [a Russian diplomat]{EXPELLED#2} "
    "[persona non grata]{TRIGGER#2}. [Poland]{EXPELLER#3} also [expelled]{TRIGGER#3} "
    "[several Russian diplomats]{EXPELLED#3} in [solidarity]{REASON#3}."
)


def one_hot(windows):
    """Perfect 'predictions' from the windows' own labels (label -100 -> O)."""
    out = []
    for w in windows:
        p = np.zeros((len(w.input_ids), len(BIO_LABELS)), dtype=np.float32)
        for t, lab in enumerate(w.labels):
            p[t, LABEL2ID["O"] if lab == IGNORE else lab] = 1.0
        out.append(p)
    return out


def span_keys(spans):
    return sorted((s.label, s.start, s.end) for s in spans)


def test_first_subtoken_carries_the_label(tokenizer):
    doc = parse_markup("d", "[Kyrgyzstan]{EXPELLER} [expels]{TRIGGER} an attaché.")
    (w,) = encode_document(doc, tokenizer, max_length=64, stride=8, with_labels=True)
    labelled = [(tokenizer.convert_ids_to_tokens(i), lab) for i, lab in zip(w.input_ids, w.labels)]
    first = [lab for tok, lab in labelled if lab != IGNORE]
    assert BIO_LABELS[first[0]] == "B-EXPELLER"
    assert BIO_LABELS[first[1]] == "B-TRIGGER"
    # Sub-tokens after the first of a word, and the special tokens, are ignored.
    assert labelled[0][1] == IGNORE and labelled[-1][1] == IGNORE
    assert sum(1 for tok, lab in labelled if tok.startswith("##")) >= 1
    assert all(lab == IGNORE for tok, lab in labelled if tok.startswith("##"))


@pytest.mark.parametrize("max_length,stride", [(512, 32), (24, 6), (16, 4), (11, 2)])
def test_labels_round_trip_through_windows(tokenizer, max_length, stride):
    doc = parse_markup("d", SEED_LIKE)
    windows, stats = encode_documents([doc], tokenizer, max_length=max_length, stride=stride,
                                      with_labels=True)
    assert not stats.misaligned
    assert all(len(w.input_ids) <= max_length for w in windows)
    if max_length < 64:
        assert len(windows) > 1
    # Every token is owned by exactly one window.
    owned = {}
    for w in windows:
        for t, (off, own) in enumerate(zip(w.offsets, w.owned)):
            if own:
                assert off not in owned
                owned[off] = True
    spans = decode_spans(doc.text, windows, one_hot(windows))
    assert span_keys(spans) == span_keys(doc.spans())
    assert all(s.text == doc.text[s.start:s.end] for s in spans)


def test_span_cutting_a_word_is_reported_not_dropped(tokenizer):
    doc = parse_markup("d", "[Rus]{EXPELLER}sia [expels]{TRIGGER} two diplomats.")
    _, stats = encode_documents([doc], tokenizer, max_length=64, stride=8, with_labels=True)
    assert stats.misaligned == [("d", "EXPELLER", "Rus")]


def test_empty_text_gives_one_window_and_no_spans(tokenizer):
    doc = parse_markup("d", "")
    windows, _ = encode_documents([doc], tokenizer, max_length=32, stride=4)
    assert len(windows) == 1 and len(windows[0].input_ids) == 2
    probs = [np.full((2, len(BIO_LABELS)), 1 / len(BIO_LABELS))]
    assert decode_spans(doc.text, windows, probs) == []


def test_stride_must_be_smaller_than_window(tokenizer):
    doc = parse_markup("d", "text")
    with pytest.raises(ValueError, match="max_length"):
        encode_document(doc, tokenizer, max_length=10, stride=8)


def test_adjacent_same_label_words_form_one_span(tokenizer):
    """'persona non grata' tagged B B B decodes as one trigger; a comma keeps spans apart."""
    doc = parse_markup("d", "Peru declares him persona non grata, Chile too.")
    windows, _ = encode_documents([doc], tokenizer, max_length=64, stride=8)
    (w,) = windows
    p = np.zeros((len(w.input_ids), len(BIO_LABELS)), dtype=np.float32)
    p[:, LABEL2ID["O"]] = 1.0
    for t, (s, e) in enumerate(w.offsets):
        word = doc.text[s:e]
        if w.word_starts[t] and word in ("persona", "non", "gr", "Peru", "Chile"):
            lab = "B-TRIGGER" if word in ("persona", "non", "gr") else "B-EXPELLER"
            p[t] = 0.0
            p[t, LABEL2ID[lab]] = 1.0
    spans = decode_spans(doc.text, windows, [p])
    assert [(s.label, s.text) for s in spans] == [
        ("EXPELLER", "Peru"), ("TRIGGER", "persona non grata"), ("EXPELLER", "Chile")]


def _word_probs(doc, windows, word_dists):
    """Probabilities where each named word gets its distribution; other words are O."""
    (w,) = windows
    p = np.zeros((len(w.input_ids), len(BIO_LABELS)), dtype=np.float32)
    p[:, LABEL2ID["O"]] = 1.0
    for t, (s, e) in enumerate(w.offsets):
        word = doc.text[s:e]
        if w.word_starts[t] and word in word_dists:
            p[t] = 0.0
            for lab, v in word_dists[word].items():
                p[t, LABEL2ID[lab]] = v
    return [p]


def test_viterbi_keeps_a_span_whole_where_argmax_breaks_it(tokenizer):
    """'ten [U.S.] diplomats': the middle word leans O (0.55) but I-EXPELLED (0.45) makes
    the whole sequence likelier, since the last word is I- (a continuation)."""
    doc = parse_markup("d", "Moscow expels ten US diplomats today.")
    windows, _ = encode_documents([doc], tokenizer, max_length=64, stride=8)
    dists = {"ten": {"B-EXPELLED": 0.9, "O": 0.1},
             "US": {"O": 0.55, "I-EXPELLED": 0.45},
             "diplomats": {"I-EXPELLED": 0.9, "O": 0.1}}
    probs = _word_probs(doc, windows, dists)
    argmax = decode_spans(doc.text, windows, probs, method="argmax")
    viterbi = decode_spans(doc.text, windows, probs, method="viterbi")
    assert [s.text for s in argmax] == ["ten", "diplomats"]
    assert [(s.label, s.text) for s in viterbi] == [("EXPELLED", "ten US diplomats")]


def test_viterbi_drops_a_weak_continuation_and_starts_no_span_with_i(tokenizer):
    """An I-X with no X before it cannot start a span under Viterbi: the word becomes a
    B-X span if that is probable enough, else O; a strong O in the middle still splits."""
    doc = parse_markup("d", "Peru expels two Chilean diplomats.")
    windows, _ = encode_documents([doc], tokenizer, max_length=64, stride=8)
    probs = _word_probs(doc, windows, {
        "Peru": {"I-EXPELLER": 0.6, "B-EXPELLER": 0.3, "O": 0.1},
        "two": {"B-EXPELLED": 0.9, "O": 0.1},
        "Chilean": {"O": 0.99, "I-EXPELLED": 0.01},
        "diplomats": {"I-EXPELLED": 0.6, "B-EXPELLED": 0.3, "O": 0.1}})
    spans = decode_spans(doc.text, windows, probs, method="viterbi")
    assert [(s.label, s.text) for s in spans] == [
        ("EXPELLER", "Peru"), ("EXPELLED", "two"), ("EXPELLED", "diplomats")]


def test_decoding_of_perfect_predictions_is_the_same_either_way(tokenizer):
    doc = parse_markup("d", SEED_LIKE)
    windows, _ = encode_documents([doc], tokenizer, max_length=24, stride=8, with_labels=True)
    probs = one_hot(windows)
    a = decode_spans(doc.text, windows, probs, method="argmax")
    v = decode_spans(doc.text, windows, probs, method="viterbi")
    assert span_keys(a) == span_keys(v) == span_keys(doc.spans())


def test_unknown_decoding_is_refused(tokenizer):
    doc = parse_markup("d", "Peru expels a diplomat.")
    windows, _ = encode_documents([doc], tokenizer, max_length=64, stride=8, with_labels=True)
    with pytest.raises(ValueError, match="viterbi"):
        decode_spans(doc.text, windows, one_hot(windows), method="beam")


ARTICLE = ("Poland Expels Two Russian Diplomats\n\n"
           "WARSAW (Wire) - [Poland]{EXPELLER#1} [expelled]{TRIGGER#1} [two Russian diplomats]{EXPELLED#1} "
           "on Monday.\n \n"
           "Separately, a court in Lima fined a mining company for pollution.\n\n\n"
           "[Russia]{EXPELLER#2} said it would [expel]{TRIGGER#2} [Polish diplomats]{EXPELLED#2} in return.")


@pytest.mark.parametrize("max_length,stride", [(512, 32), (12, 4)])
def test_paragraph_windows_never_cross_a_blank_line_and_own_every_token_once(tokenizer, max_length, stride):
    from pipeline.tagger.encoding import _PARAGRAPH_BREAK

    doc = parse_markup("d", ARTICLE)
    windows, _ = encode_documents([doc], tokenizer, max_length=max_length, stride=stride,
                                  with_labels=True, paragraphs=True)
    whole, _ = encode_documents([doc], tokenizer, max_length=max_length, stride=stride, with_labels=True)
    assert len(windows) >= 4 > len(whole) or max_length < 64     # one window per paragraph at least
    for w in windows:
        offs = [o for o in w.offsets if o != (0, 0)]
        assert not _PARAGRAPH_BREAK.search(doc.text, offs[0][0], offs[-1][1]), "a window crosses a paragraph"
    owned = [o for w in windows for o, own in zip(w.offsets, w.owned) if own]
    assert sorted(owned) == sorted(o for w in whole for o, own in zip(w.offsets, w.owned) if own)
    assert len(owned) == len(set(owned))
    spans = decode_spans(doc.text, windows, one_hot(windows))
    assert span_keys(spans) == span_keys(doc.spans())


def test_paragraph_runs_of_text_without_breaks_is_the_whole_text():
    from pipeline.tagger.encoding import paragraph_runs

    assert paragraph_runs([(0, 3), (4, 8)], "one two\nthree") == [(0, 2)]
    assert paragraph_runs([], "") == [(0, 0)]
    assert paragraph_runs([(2, 5), (9, 12)], "\n\none\n\n\n\ntwo\n\n") == [(0, 1), (1, 2)]


def test_the_tagger_reads_each_paragraph_apart_unless_told_otherwise(tiny_model_dir):
    """tagger.windows=sentences (the default) and paragraph give windows per paragraph;
    document windows run across the blank lines."""
    from pipeline.schema import Document
    from pipeline.tagger import Tagger, TaggerSettings

    seen = []
    for windows in ("sentences", "paragraph", "document"):
        tagger = Tagger.from_dir(str(tiny_model_dir), TaggerSettings(windows=windows, paragraphs="all"))
        import pipeline.tagger.core as core

        real = core.run_model
        core.run_model = lambda model, ws, *a, **k: (seen.append((windows, len(ws))), real(model, ws, *a, **k))[1]
        try:
            tagger.predict([Document("d", "One para.\n\nTwo para.\n\nThree.")])
        finally:
            core.run_model = real
    assert seen == [("sentences", 3), ("paragraph", 3), ("document", 1)]


def test_paragraphs_without_an_expulsion_word_get_no_window(tokenizer):
    """tagger.paragraphs=keywords: only paragraphs holding a word of the document filter's
    gate are read; a document with none keeps its first paragraph (one window at least)."""
    from pipeline.tagger.encoding import has_keyword

    doc = parse_markup("d", ARTICLE)
    kept, _ = encode_documents([doc], tokenizer, max_length=512, stride=32, with_labels=True,
                               paragraphs=True, keywords_only=True)
    paras = [p for p in doc.text.split("\n") if p.strip()]
    read = {doc.text[w.offsets[1][0]:w.offsets[-2][1]] for w in kept}
    assert all(has_keyword(r) for r in read) and len(kept) == sum(has_keyword(p) for p in paras)
    assert not any("mining company" in r for r in read)               # the Lima paragraph is skipped
    spans = decode_spans(doc.text, kept, one_hot(kept))
    assert span_keys(spans) == span_keys(doc.spans())                 # every gold span still decoded
    plain = parse_markup("p", "Floods in Chile.\n\nMarkets fell.")
    (only,) = encode_document(plain, tokenizer, max_length=64, stride=8, paragraphs=True, keywords_only=True)
    assert "Floods" in plain.text[only.offsets[1][0]:only.offsets[-2][1]]
    assert has_keyword("Russia EXPELS two envoys") and not has_keyword("Markets fell.")


def test_sentence_pieces_cut_long_paragraphs_between_sentences_without_overlap(tokenizer):
    """windows=sentences: a paragraph longer than one window is read in pieces of whole
    sentences, every token once, no window starting or ending inside a sentence; one
    sentence longer than a window still gets overlapping windows."""
    from pipeline.tagger.encoding import sentence_pieces
    from pipeline.text import rough_sentence_bounds

    text = " ".join(f"Sentence number {i} says that Peru expelled {i} diplomats." for i in range(30))
    doc = parse_markup("d", text)
    windows = encode_document(doc, tokenizer, max_length=64, stride=16, paragraphs=True, sentences=True)
    overlapping = encode_document(doc, tokenizer, max_length=64, stride=16, paragraphs=True)
    starts = {a for a, _ in rough_sentence_bounds(text)}
    assert all(w.offsets[1][0] in starts for w in windows)           # each window starts a sentence
    read = [o for w in windows for o in w.offsets[1:-1]]
    assert len(read) == len(set(read)) and all(all(w.owned[1:-1]) for w in windows)   # no token twice
    assert len(read) < sum(len(w.offsets) - 2 for w in overlapping)
    assert all(len(w.input_ids) <= 64 for w in windows)
    long = "word " * 200 + "end."
    assert sentence_pieces(0, 201, [(5 * i, 5 * i + 4) for i in range(201)], long, body=62) == [(0, 201)]
    assert len(encode_document(parse_markup("l", long), tokenizer, max_length=64, stride=16,
                               paragraphs=True, sentences=True)) > 1


def test_sentence_windows_end_paragraphs_at_line_breaks_that_end_sentences(tokenizer):
    """One line break between paragraphs (as many dumps have it: lines longer than a
    wrapped line) ends a paragraph for windows=sentences; hard-wrapped lines do not."""
    from pipeline.tagger.encoding import paragraph_runs

    def runs(text, lines=True):
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offs = enc["offset_mapping"]
        return [text[offs[a][0]:offs[b - 1][1]] for a, b in paragraph_runs(offs, text, lines=lines)]

    lede = ("WARSAW - Poland expelled two Russian diplomats on Monday, the foreign ministry said in a "
            "statement issued in the capital late in the evening.")
    text = "Poland Expels Two Diplomats\n" + lede + "\nMarkets fell across Europe on Tuesday."
    assert runs(text) == ["Poland Expels Two Diplomats", lede, "Markets fell across Europe on Tuesday."]
    assert runs(text, lines=False) == [text]
    wrapped = "Poland Expels Two Diplomats\nWARSAW - Poland expelled two\ndiplomats on Monday.\nMarkets fell."
    assert runs(wrapped) == [wrapped]                 # short lines: wrapping, one paragraph
    kept = encode_document(parse_markup("d", text), tokenizer, max_length=64, stride=8, paragraphs=True,
                           keywords_only=True, sentences=True)
    assert [text[w.offsets[1][0]:w.offsets[-2][1]] for w in kept] == runs(text)[:2]
