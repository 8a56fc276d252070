"""The tagger: documents in, documents with scored events out.

Windows from :mod:`pipeline.tagger.encoding` are sorted by length and batched with dynamic
padding (a batch is padded to its own longest window, not to ``max_length``), so short
news items cost what they are.  Predictions of overlapping windows are merged by
ownership (each token is predicted by the one window that owns it).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Iterable, Iterator, Sequence

import numpy as np

from pipeline.tagger.encoding import Window, encode_documents, length_batches, reading
from pipeline.errors import PrecisionError
from pipeline.events.linking import link
from pipeline.schema import Document, Span
from pipeline.tagger.decoding import decode_spans, repair_spans, tidy_spans, without_overlaps
from pipeline.tagger.precision import autocast
from pipeline.tagger.settings import TaggerSettings

log = logging.getLogger(__name__)


def run_model(model, windows: Sequence[Window], batch_size: int,
              precision: str = "fp32") -> list[np.ndarray]:
    """Label probabilities per window, shape ``(len(window.input_ids), n_labels)``.

    ``model`` is a PyTorch token classifier, or an :class:`pipeline.tagger.ort.OrtTagger`
    (``runtime="onnx"``: the same batches through ONNX Runtime, torch not imported).
    ``precision="bf16"`` runs the PyTorch forward pass under bfloat16 autocast (see
    :mod:`pipeline.tagger.precision`; an int8 model is quantised already); probabilities
    are computed in float32 either way.
    """
    out: list[np.ndarray | None] = [None] * len(windows)
    pad_id = model.config.pad_token_id or 0
    forward = _ort_forward(model) if getattr(model, "runtime", "torch") == "onnx" else None
    if forward is None:
        forward = _torch_forward(model, precision)
    for idx in length_batches(windows, batch_size):
        longest = max(len(windows[i].input_ids) for i in idx)
        ids = np.full((len(idx), longest), pad_id, dtype=np.int64)
        mask = np.zeros((len(idx), longest), dtype=np.int64)
        for row, i in enumerate(idx):
            n = len(windows[i].input_ids)
            ids[row, :n] = windows[i].input_ids
            mask[row, :n] = 1
        probs = forward(ids, mask)                                      # (B, T, L) float32
        for row, i in enumerate(idx):
            out[i] = probs[row, :len(windows[i].input_ids)]
    return out  # type: ignore[return-value]


def _ort_forward(model):
    return model.probs


def _torch_forward(model, precision: str):
    import torch

    device = next(model.parameters()).device

    def forward(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode(), autocast(precision, device.type):
            logits = model(input_ids=torch.from_numpy(ids).to(device),
                           attention_mask=torch.from_numpy(mask).to(device)).logits
            return torch.softmax(logits.float(), dim=-1).cpu().numpy()

    return forward


class Tagger:
    """A trained model plus the settings to run it.

    Example:
        >>> tagger = Tagger.from_pretrained("models/expel-minilm")            # doctest: +SKIP
        >>> doc = tagger("Poland expels 45 Russian diplomats.")                # doctest: +SKIP
        >>> [(e.trigger.text, [(a.label, a.text) for a in e.arguments]) for e in doc.events]  # doctest: +SKIP
        [('expels', [('EXPELLER', 'Poland'), ('EXPELLED', '45 Russian diplomats')])]
        >>> docs = tagger.pipe(["Peru expels a diplomat.", "Markets fall."], batch_size=64)  # doctest: +SKIP
    """

    def __init__(self, model, tokenizer, settings: TaggerSettings | None = None,
                 model_dir: str | None = None):
        self.settings = settings or TaggerSettings()
        self.tokenizer = tokenizer
        self.model_dir = model_dir                   # where the weights came from, if a directory
        self.verifier = None                         # the trigger verifier (pipeline.events.verifier), if any
        if model_dir is not None and self.settings.verifier > 0:
            from pipeline.events.verifier import load_verifier

            self.verifier = load_verifier(model_dir)
        self.base_model = model                      # the float weights, as trained or loaded
        self.model = _prepared(model, self.settings)  # on its device, quantised for int8, or on ONNX Runtime

    @classmethod
    def from_dir(cls, model_dir: str, settings: TaggerSettings | None = None) -> "Tagger":
        """Load a model directory safely (:func:`pipeline.tagger.loading.load_for_inference`);
        with ``settings.runtime == "onnx"`` straight onto ONNX Runtime, without torch.

        Raises:
            ModelDirError: the directory is missing, incomplete or unsafe.
        """
        from pipeline.tagger.loading import load_for_inference

        settings = settings or TaggerSettings()
        model, tokenizer, _ = load_for_inference(model_dir, runtime=settings.runtime, threads=settings.threads,
                                                 int8=_ort_int8(settings))
        return cls(model, tokenizer, settings, model_dir=str(model_dir))

    @classmethod
    def from_pretrained(cls, model_dir: str, **settings) -> "Tagger":
        """Load a model directory with tagger settings as keyword arguments (those of
        ``configs/tagger/``; ``precision`` and ``device`` default to ``auto`` and are
        resolved here).

        Raises:
            ModelDirError: the directory is missing, incomplete or unsafe.
            PrecisionError / ConfigError: a bad setting.
        """
        from dataclasses import fields
        from dataclasses import replace as replace_cfg

        from pipeline.config import TaggerConfig
        from pipeline.errors import ConfigError, closest
        from pipeline.tagger.settings import resolve_settings

        names = [f.name for f in fields(TaggerConfig)]
        for key in settings:
            if key not in names:
                raise ConfigError(f"unknown tagger setting {key!r}; the settings are {', '.join(names)}."
                                  + closest(key, names))
        return cls.from_dir(model_dir, resolve_settings(replace_cfg(TaggerConfig(), **settings), model_dir))

    def __call__(self, text: str, date: str | None = None, doc_id: str = "text") -> Document:
        """Tag one text.

        Args:
            text: the text (a sentence, a news item, an article).
            date: the day it was written (``YYYY-MM-DD``, an ISO datetime or RFC 2822);
                it anchors "on Monday" and "must leave by Saturday".

        Returns:
            A :class:`Document` whose ``events`` are what was found, each with its record
            fields in ``event.extra`` (``count``, ``expeller_country``, ``expelled_country``,
            ``time_date``, ``deadline_date``, codes: see docs/records.md).

        Raises:
            ValueError: a date that cannot be read.
        """
        return self._normalised(self.predict([_dated(Document(doc_id, text), date)]))[0]

    def records(self, texts: Iterable[str], dates: Iterable[str | None] | None = None,
                **records_cfg) -> list[dict]:
        """Event records of many texts: mentions of one expulsion merged, answers linked
        (:func:`pipeline.records.build_records`; ``records_cfg`` are its settings).

        Example:
            >>> tagger.records(["Poland expels 45 Russian diplomats."], dates=["2023-03-01"])  # doctest: +SKIP
            [{'id': ..., 'date': '2023-03-01', 'expeller_country': 'POL', 'count': 45, ...}]
        """
        from pipeline.records import build_records

        texts = list(texts)
        dates = list(dates) if dates is not None else [None] * len(texts)
        if len(dates) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(dates)} dates; give one date per text (or None)")
        docs = [_dated(Document(f"t{i}", t), d) for i, (t, d) in enumerate(zip(texts, dates))]
        return build_records(self.predict(docs), **records_cfg)

    @staticmethod
    def _normalised(docs: list[Document]) -> list[Document]:
        from pipeline.records.normalise import normalise_document

        return [normalise_document(d) for d in docs]

    def pipe(self, texts: Iterable[str], batch_size: int | None = None, chunk: int = 512) -> Iterator[Document]:
        """Tag many texts lazily, ``chunk`` at a time (documents ``t0``, ``t1``, ... in order);
        ``batch_size`` sets the windows per forward pass."""
        tagger = self.with_settings(batch_size=batch_size) if batch_size else self
        buf: list[Document] = []
        for i, text in enumerate(texts):
            buf.append(Document(f"t{i}", text))
            if len(buf) >= chunk:
                yield from tagger.predict(buf)
                buf = []
        if buf:
            yield from tagger.predict(buf)

    def with_settings(self, **changes) -> "Tagger":
        """The same model with some settings changed (``tagger.with_settings(reason="model")``).
        bf16 runs on PyTorch; int8 runs on ONNX Runtime (``pipeline.tagger.ort.ORT_INT8``,
        the one int8 path), so either moves the engine unless one is named."""
        if changes.get("precision") == "bf16" and "runtime" not in changes:
            changes["runtime"] = "torch"
        if changes.get("precision") == "int8" and "runtime" not in changes:
            changes["runtime"] = "onnx"
        settings = replace(self.settings, **changes)
        same_numerics = (settings.precision, settings.device) == (self.settings.precision, self.settings.device)
        same_numerics = same_numerics and (settings.runtime, settings.threads) == \
            (self.settings.runtime, self.settings.threads)
        other = Tagger.__new__(Tagger)
        other.settings, other.tokenizer, other.model_dir = settings, self.tokenizer, self.model_dir
        other.verifier = self.verifier
        other.base_model = self.base_model
        if not same_numerics and getattr(self.base_model, "runtime", "torch") == "onnx" \
                and settings.runtime != "onnx":
            if self.model_dir is None:
                raise PrecisionError("this tagger runs on ONNX Runtime and has no model directory to "
                                     "load the PyTorch weights from; load it with runtime=torch")
            from pipeline.tagger.loading import load_for_inference

            other.base_model = load_for_inference(self.model_dir)[0]
        other.model = self.model if same_numerics else _prepared(other.base_model, settings)
        return other

    def predict_spans(self, docs: Sequence[Document]) -> list[list[Span]]:
        """Spans per document (triggers and arguments, not yet linked)."""
        s = self.settings
        windows, _ = encode_documents(docs, self.tokenizer, max_length=s.max_length, stride=s.stride,
                                      **reading(s.windows, s.paragraphs))
        probs = run_model(self.model, windows, s.batch_size, s.precision)
        per_doc: list[tuple[list[Window], list[np.ndarray]]] = [([], []) for _ in docs]
        for w, p in zip(windows, probs):
            per_doc[w.doc_index][0].append(w)
            per_doc[w.doc_index][1].append(p)
        out = [tidy_spans(d.text, repair_spans(d.text, decode_spans(d.text, ws, ps, s.decoding)))
               for d, (ws, ps) in zip(docs, per_doc)]
        if s.reason == "rules":
            from pipeline.events.reasons import rule_reasons

            out = [tidy_spans(d.text, rule_reasons(d.text, spans)) for d, spans in zip(docs, out)]
        return [without_overlaps(d.id, spans) for d, spans in zip(docs, out)]

    def predict(self, docs: Iterable[Document]) -> list[Document]:
        """Copies of ``docs`` whose ``events`` are the predicted, linked events."""
        docs = list(docs)
        out = []
        for doc, spans in zip(docs, self.predict_spans(docs)):
            events = link(doc.text, spans, strategy=self.settings.linking)
            if self.settings.consistency:
                from pipeline.events.consistency import consistent_events

                events = consistent_events(doc.text, events)
            if self.settings.min_trigger_score > 0:
                events = [e for e in events if e.trigger.score is None or e.trigger.score >= self.settings.min_trigger_score]
            out.append(Document(id=doc.id, text=doc.text, events=events, meta=dict(doc.meta)))
        if self.verifier is not None and self.settings.verifier > 0:
            from pipeline.events.verifier import verify

            out = verify(out, self.verifier, self.settings.verifier)
        return out


def _dated(doc: Document, date) -> Document:
    """``doc`` with its ``date`` read from any accepted form (ValueError if unreadable)."""
    if date is not None:
        from pipeline.records.dates import document_date

        day = document_date(date)
        if day:
            doc.meta["date"] = day
    return doc


def _prepared(model, settings: TaggerSettings):
    """The model as ``settings`` run it: on ONNX Runtime (float32 or its int8), or moved to
    the device."""
    if settings.runtime == "onnx":
        if getattr(model, "runtime", "torch") == "onnx":
            return model.with_int8(_ort_int8(settings), settings.threads)
        from pipeline.tagger.ort import OrtTagger

        ort_model = OrtTagger.from_torch(model, threads=settings.threads, int8=set(_ort_int8(settings)))
        if ort_model is None:
            raise PrecisionError("tagger.runtime=onnx runs BERT-family models only, and this model is "
                                 "another architecture; use tagger.runtime=torch")
        return ort_model
    device = next(model.parameters()).device
    return model if device.type == settings.device.split(":")[0] else model.to(settings.device)


def _ort_int8(settings: TaggerSettings) -> tuple[str, ...]:
    """The layers ONNX Runtime quantises for these settings (``precision=int8``), else none."""
    if settings.runtime == "onnx" and settings.precision == "int8":
        from pipeline.tagger.ort import ORT_INT8

        return ORT_INT8
    return ()
