"""The tagger: documents in, documents with scored events out.

Windows from :mod:`pipeline.encoding` are sorted by length and batched with dynamic
padding (a batch is padded to its own longest window, not to ``max_length``), so short
news items cost what they are.  Predictions of overlapping windows are merged by
ownership (each token is predicted by the one window that owns it).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from pipeline.encoding import BIO_LABELS, Window, encode_documents
from pipeline.linking import link
from pipeline.schema import Document, Span

log = logging.getLogger(__name__)


@dataclass
class TaggerSettings:
    max_length: int = 256
    stride: int = 64
    batch_size: int = 32
    linking: str = "sentence"
    decoding: str = "viterbi"
    reason: str = "rules"       # REASON clauses: "rules" (pipeline.reasons) or "model"
    precision: str = "fp32"     # fp32, or bf16 autocast (pipeline.precision decides when)

    def __post_init__(self):
        from pipeline.config import CHOICES

        # precision is resolved by now (pipeline.precision): "auto" is not a setting here.
        allowed = {**CHOICES, "precision": ("fp32", "bf16")}
        for key in ("linking", "decoding", "reason", "precision"):
            value = getattr(self, key)
            if value not in allowed[key]:
                raise ValueError(f"{key}={value!r} is not known; use "
                                 + " or ".join(f"{key}={a}" for a in allowed[key]))


def batches_by_length(windows: Sequence[Window], batch_size: int) -> list[list[int]]:
    """Indices of ``windows`` grouped into batches of similar length (longest first)."""
    order = sorted(range(len(windows)), key=lambda i: -len(windows[i].input_ids))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def run_model(model, windows: Sequence[Window], batch_size: int,
              precision: str = "fp32") -> list[np.ndarray]:
    """Label probabilities per window, shape ``(len(window.input_ids), n_labels)``.

    ``precision="bf16"`` runs the forward pass under bfloat16 autocast (see
    :mod:`pipeline.precision`); probabilities are computed in float32 either way.
    """
    import torch

    from pipeline.precision import autocast

    out: list[np.ndarray | None] = [None] * len(windows)
    pad_id = model.config.pad_token_id or 0
    device = next(model.parameters()).device
    with torch.inference_mode(), autocast(precision, device.type):
        for idx in batches_by_length(windows, batch_size):
            longest = max(len(windows[i].input_ids) for i in idx)
            ids = torch.full((len(idx), longest), pad_id, dtype=torch.long)
            mask = torch.zeros((len(idx), longest), dtype=torch.long)
            for row, i in enumerate(idx):
                n = len(windows[i].input_ids)
                ids[row, :n] = torch.tensor(windows[i].input_ids)
                mask[row, :n] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits  # (B, T, L)
            probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
            for row, i in enumerate(idx):
                out[i] = probs[row, :len(windows[i].input_ids)]
    return out  # type: ignore[return-value]


def _words(windows: list[Window], probs: list[np.ndarray]):
    """(start, end, prob vector) for every word of a document, in text order."""
    words = []
    for w, p in zip(windows, probs):
        n = len(w.input_ids)
        for t in range(n):
            if not (w.word_starts[t] and w.owned[t]):
                continue
            end = w.offsets[t][1]
            u = t + 1
            while u < n and not w.word_starts[u] and w.offsets[u] != (0, 0):
                end = w.offsets[u][1]
                u += 1
            words.append((w.offsets[t][0], end, p[t]))
    words.sort(key=lambda x: x[0])
    return words


def _allowed_transitions() -> tuple[np.ndarray, np.ndarray]:
    """BIO constraints as additive scores: ``I-X`` only after ``B-X`` or ``I-X``."""
    n = len(BIO_LABELS)
    trans = np.zeros((n, n))
    first = np.zeros(n)
    for j, tag in enumerate(BIO_LABELS):
        if tag.startswith("I-"):
            first[j] = -np.inf
            for i, prev in enumerate(BIO_LABELS):
                if prev not in (f"B-{tag[2:]}", tag):
                    trans[i, j] = -np.inf
    return trans, first


_TRANS, _FIRST = _allowed_transitions()


def viterbi_tags(probs: np.ndarray) -> list[int]:
    """Most probable tag sequence (sum of log-probabilities) that is valid BIO.

    Word tags are predicted independently; taken one by one (argmax) they break a span
    whenever a middle word's best tag is ``O`` ("ten [U.S.] diplomats").  Constrained
    decoding keeps such a span whole when continuing it is the likelier reading.
    """
    if len(probs) == 0:
        return []
    logp = np.log(np.clip(probs, 1e-12, None))
    score = logp[0] + _FIRST
    back = np.zeros(probs.shape, dtype=np.int64)
    for t in range(1, len(probs)):
        cand = score[:, None] + _TRANS          # (previous tag, tag)
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + logp[t]
    tags = [int(score.argmax())]
    for t in range(len(probs) - 1, 0, -1):
        tags.append(int(back[t, tags[-1]]))
    return tags[::-1]


def decode_spans(text: str, windows: list[Window], probs: list[np.ndarray],
                 method: str = "viterbi") -> list[Span]:
    """BIO decoding over words; a span's score is the mean probability of its tags.

    ``method="viterbi"`` (default) picks the most probable valid BIO sequence;
    ``"argmax"`` takes each word's best tag, and an ``I-X`` that does not continue an
    ``X`` span starts one (lenient BIO).  Either way a ``B-X`` adjacent to an ``X``
    span (whitespace between) extends it.
    """
    words = _words(windows, probs)
    if method == "viterbi":
        tags = viterbi_tags(np.stack([p for _, _, p in words])) if words else []
    elif method == "argmax":
        tags = [int(np.argmax(p)) for _, _, p in words]
    else:
        raise ValueError(f"decoding must be 'viterbi' or 'argmax', got {method!r}")
    spans: list[Span] = []
    cur: list | None = None  # [label, start, end, [probs]]

    def close():
        if cur is not None:
            spans.append(Span(cur[0], cur[1], cur[2], text[cur[1]:cur[2]], float(np.mean(cur[3]))))

    for (start, end, p), k in zip(words, tags):
        tag = BIO_LABELS[k]
        if tag == "O":
            close(); cur = None
            continue
        prefix, label = tag.split("-", 1)
        # Continue the open span on I-X, and also on B-X right after an X span with
        # only whitespace between: gold never has two same-label spans that close
        # ("persona non grata" predicted B B B is one trigger).
        joins = cur is not None and cur[0] == label and (
            prefix == "I" or not text[cur[2]:start].strip())
        if joins:
            cur[2] = end; cur[3].append(float(p[k]))
        else:
            close(); cur = [label, start, end, [float(p[k])]]
    close()
    return spans


# Words that are never a span on their own in the gold data (and cannot be one by the
# contract: leading prepositions and determiners alone carry no argument).
_FUNCTION_WORDS = frozenset("a an the of in for to by and on at from with that who which".split())
_CLAUSE_BREAK = re.compile(r"[.;!?()\n]")


def repair_spans(text: str, spans: list[Span], max_gap: int = 30) -> list[Span]:
    """Mend two fragmentation errors of the tagger, following ANNOTATION.md's span rules.

    - A REASON is "the whole cause clause": REASON pieces separated by a short gap
      without a clause break are one span (the tagger often drops a word or two
      inside a long clause).
    - A span that is a lone function word ("a", "the", "of") is dropped.
    """
    out: list[Span] = []
    for sp in sorted(spans, key=lambda x: x.start):
        prev = out[-1] if out else None
        if (prev is not None and prev.label == sp.label == "REASON"
                and sp.start - prev.end <= max_gap
                and not _CLAUSE_BREAK.search(text[prev.end:sp.start])):
            score = (prev.score + sp.score) / 2 if prev.score is not None and sp.score is not None else None
            out[-1] = Span("REASON", prev.start, sp.end, text[prev.start:sp.end], score)
            continue
        out.append(sp)
    return [sp for sp in out if sp.text.strip().lower() not in _FUNCTION_WORDS]


def _without_overlaps(doc_id: str, spans: list[Span]) -> list[Span]:
    """Spans never overlap (ANNOTATION.md); decoding cannot produce an overlap, but if a
    later step ever did, the later span is dropped with a warning rather than writing an
    output line that readers refuse (and stopping a long run on one document)."""
    kept: list[Span] = []
    for sp in sorted(spans, key=lambda s: (s.start, s.end)):
        if kept and sp.start < kept[-1].end:
            log.warning("document %s: dropped %s %r, which overlaps %s %r", doc_id, sp.label,
                        sp.text, kept[-1].label, kept[-1].text)
            continue
        kept.append(sp)
    return kept


class Tagger:
    """A trained model plus the settings to run it.

    Example:
        >>> tagger = Tagger.from_dir("models/expel-minilm")      # doctest: +SKIP
        >>> tagger.predict([Document("d1", "Peru expels a diplomat.")])[0].events  # doctest: +SKIP
    """

    def __init__(self, model, tokenizer, settings: TaggerSettings | None = None):
        self.model, self.tokenizer = model, tokenizer
        self.settings = settings or TaggerSettings()

    @classmethod
    def from_dir(cls, model_dir: str, settings: TaggerSettings | None = None) -> "Tagger":
        from pipeline.modeling import load_model

        model, tokenizer, _ = load_model(model_dir)
        return cls(model, tokenizer, settings)

    def predict_spans(self, docs: Sequence[Document]) -> list[list[Span]]:
        """Spans per document (triggers and arguments, not yet linked)."""
        s = self.settings
        windows, _ = encode_documents(docs, self.tokenizer, max_length=s.max_length, stride=s.stride)
        probs = run_model(self.model, windows, s.batch_size, s.precision)
        per_doc: list[tuple[list[Window], list[np.ndarray]]] = [([], []) for _ in docs]
        for w, p in zip(windows, probs):
            per_doc[w.doc_index][0].append(w)
            per_doc[w.doc_index][1].append(p)
        out = [repair_spans(d.text, decode_spans(d.text, ws, ps, s.decoding)) for d, (ws, ps) in zip(docs, per_doc)]
        if s.reason == "rules":
            from pipeline.reasons import rule_reasons

            out = [rule_reasons(d.text, spans) for d, spans in zip(docs, out)]
        return [_without_overlaps(d.id, spans) for d, spans in zip(docs, out)]

    def predict(self, docs: Iterable[Document]) -> list[Document]:
        """Copies of ``docs`` whose ``events`` are the predicted, linked events."""
        docs = list(docs)
        out = []
        for doc, spans in zip(docs, self.predict_spans(docs)):
            events = link(doc.text, spans, strategy=self.settings.linking)
            out.append(Document(id=doc.id, text=doc.text, events=events, meta=dict(doc.meta)))
        return out
