"""A cheap cascade filter in front of the tagger: is this document worth tagging at all?

Expulsions are rare in news (a few hundred items in 162k), so most documents need not
reach the transformer.  The filter is TF-IDF over word 1-2 grams and character 3-5
grams (within words; they catch "expel/expels/expelled/expulsion" and spelling
variants) with a logistic regression, trained on the gold training documents
(label = the document has at least one event).

Gold negatives are few (a few hundred), and most are hard ones that do mention
expelling; ordinary news then looks "unknown" to the model and too much of it passes.
So ``train_filter`` can add *background* negatives: a seeded sample of items from a news
dump (the one the gold was drawn from), dated within the training period, not among the
training documents, and holding none of the words of expulsion or diplomacy (so that no
unannotated expulsion is taught as a negative).

Its threshold is chosen on the *training* documents only, from out-of-fold scores of
repeated stratified cross-validation, so that at least ``target_recall`` of the event
documents pass; the lowest threshold over the repeats is kept (the cautious one).
Documents dated ``RESERVED_FROM`` or later never take part.

The filter is saved as plain JSON (vocabularies, idf, coefficients, threshold) in the
model directory (``docfilter.json``): model directories are untrusted, and JSON cannot
run code the way a pickle can.

Texts longer than ``piece_chars`` are scored by pairs of consecutive sentences and keep
their best pair, so one expulsion sentence in a long article still passes.

Example:
    >>> report = train_filter(train_docs, "models/expel-minilm")     # doctest: +SKIP
    >>> f = DocFilter.load("models/expel-minilm/docfilter.json")    # doctest: +SKIP
    >>> f.keep(["Peru expels two Venezuelan diplomats."])             # doctest: +SKIP
    array([ True])
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pipeline.errors import FilterError
from pipeline.schema import RESERVED_FROM, Document

log = logging.getLogger(__name__)

FILTER_FILE = "docfilter.json"
FORMAT_VERSION = 1

# Vectoriser settings; saved with the filter so that a reload rebuilds the same features.
WORD = {"analyzer": "word", "ngram_range": [1, 2], "lowercase": True, "sublinear_tf": True,
        "min_df": 2, "token_pattern": r"(?u)\b\w+\b"}
CHAR = {"analyzer": "char_wb", "ngram_range": [3, 5], "lowercase": True, "sublinear_tf": True,
        "min_df": 2}


def _vectorizer(spec: dict[str, Any], vocabulary: dict[str, int] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    kw = {k: v for k, v in spec.items() if k != "min_df" or vocabulary is None}
    kw["ngram_range"] = tuple(spec["ngram_range"])
    return TfidfVectorizer(vocabulary=vocabulary, dtype=np.float64, **kw)


@dataclass
class DocFilter:
    """A fitted filter: two TF-IDF vectorisers and a linear model over their features.

    Attributes:
        vectorizers: fitted ``TfidfVectorizer`` objects, their features concatenated.
        specs: the settings each was built with (saved with the filter).
        coef: one weight per feature, shape ``(n_features,)``.
        intercept: the model's bias.
        threshold: documents scoring at least this pass.
        piece_chars: texts longer than this are scored piece by piece.
        info: how the threshold was chosen (training counts, CV recall), for reports.
    """

    vectorizers: list
    specs: list[dict[str, Any]]
    coef: np.ndarray
    intercept: float
    threshold: float
    piece_chars: int = 600
    info: dict[str, Any] | None = None

    def _features(self, texts: Sequence[str]):
        import scipy.sparse as sp

        return sp.hstack([v.transform(texts) for v in self.vectorizers], format="csr")

    def _raw_scores(self, texts: Sequence[str]) -> np.ndarray:
        z = self._features(texts) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Probability that each text holds an expulsion, shape ``(len(texts),)``."""
        pieces, owner = [], []
        for i, t in enumerate(texts):
            for p in _pieces(t, self.piece_chars):
                pieces.append(p)
                owner.append(i)
        out = np.zeros(len(texts))
        if pieces:
            np.maximum.at(out, np.asarray(owner), self._raw_scores(pieces))
        return out

    def keep(self, texts: Sequence[str], threshold: float | None = None) -> np.ndarray:
        """Boolean mask of the texts that should go on to the tagger."""
        t = self.threshold if threshold is None else threshold
        return self.scores(texts) >= t

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "expel-docfilter", "version": FORMAT_VERSION,
            "features": [{"spec": s, "vocabulary": {k: int(i) for k, i in v.vocabulary_.items()},
                          "idf": [float(x) for x in v.idf_]}
                         for s, v in zip(self.specs, self.vectorizers)],
            "coef": [float(x) for x in self.coef], "intercept": float(self.intercept),
            "threshold": float(self.threshold), "piece_chars": int(self.piece_chars),
            "info": self.info or {},
        }

    def save(self, path: str | Path) -> Path:
        """Write the filter as JSON (atomically: a temp file renamed into place)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "DocFilter":
        """Read a filter saved by :meth:`save`, checking every part of it.

        Raises:
            FilterError: a missing, corrupt or inconsistent file.
        """
        path = Path(path)
        if not path.is_file():
            raise FilterError(f"filter file {str(path)!r} does not exist; train one with "
                              "`expel-train` or set filter=none")
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise FilterError(f"{path} is not valid JSON ({e}); retrain the filter") from None
        return _from_json(obj, str(path))


def _from_json(obj: Any, where: str) -> DocFilter:
    def fail(msg: str):
        raise FilterError(f"{where}: {msg}; retrain the filter with `expel-train` or set filter=none")

    if not isinstance(obj, dict) or obj.get("format") != "expel-docfilter":
        fail("not an expel document filter (no 'format': 'expel-docfilter')")
    if obj.get("version") != FORMAT_VERSION:
        fail(f"filter format version {obj.get('version')!r}, this code reads {FORMAT_VERSION}")
    vectorizers, specs, n_features = [], [], 0
    for part in obj.get("features") or fail("no 'features'"):
        spec, vocab, idf = part.get("spec"), part.get("vocabulary"), part.get("idf")
        if spec not in (WORD, CHAR):
            fail(f"unknown vectoriser settings {spec!r}")
        if not isinstance(vocab, dict) or not isinstance(idf, list) or len(vocab) != len(idf):
            fail("each feature block needs a 'vocabulary' object and an 'idf' list of equal length")
        if sorted(vocab.values()) != list(range(len(vocab))):
            fail("a vocabulary's indices must be 0..n-1, each once")
        v = _vectorizer(spec, vocabulary={str(k): int(i) for k, i in vocab.items()})
        v.idf_ = np.asarray(idf, dtype=np.float64)
        vectorizers.append(v)
        specs.append(spec)
        n_features += len(vocab)
    coef = np.asarray(obj.get("coef", []), dtype=np.float64)
    if coef.shape != (n_features,):
        fail(f"'coef' has {coef.size} weights for {n_features} features")
    try:
        intercept, threshold = float(obj["intercept"]), float(obj["threshold"])
        piece_chars = int(obj.get("piece_chars", 600))
    except (KeyError, TypeError, ValueError):
        fail("'intercept' and 'threshold' must be numbers")
    if not (0.0 <= threshold <= 1.0) or not all(map(math.isfinite, (intercept, threshold))):
        fail(f"threshold {threshold} must be a probability in [0, 1]")
    return DocFilter(vectorizers, specs, coef, intercept, threshold, max(piece_chars, 100),
                     obj.get("info") or {})


def _pieces(text: str, size: int) -> list[str]:
    """The text itself when short; else every pair of consecutive sentences (news items,
    which the filter is trained on, are one to three sentences), each at most ``size``
    characters (a longer sentence is cut in ``size`` pieces)."""
    if len(text) <= size:
        return [text]
    from pipeline.linking import sentence_bounds

    sents = []
    for s, e in sentence_bounds(text):
        sents.extend(text[i:min(i + size, e)] for i in range(s, e, size))
    if len(sents) == 1:
        return sents
    return [(a + b)[:size] if len(a) < size else a for a, b in zip(sents, sents[1:])]


def fit_filter(texts: Sequence[str], labels: Sequence[int], *, c: float = 1.0,
               specs: Sequence[dict[str, Any]] = (WORD, CHAR)) -> DocFilter:
    """Fit vectorisers and the linear model (threshold 0.5 until one is chosen)."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    vectorizers = [_vectorizer(s) for s in specs]
    x = sp.hstack([v.fit_transform(texts) for v in vectorizers], format="csr")
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    lr.fit(x, np.asarray(labels))
    return DocFilter(vectorizers, [dict(s) for s in specs], lr.coef_[0].astype(np.float64),
                     float(lr.intercept_[0]), 0.5)


def cv_threshold(texts: Sequence[str], labels: Sequence[int], *, target_recall: float = 0.99,
                 folds: int = 5, repeats: int = 3, seed: int = 13,
                 **fit_kw) -> tuple[float, dict[str, Any]]:
    """The threshold that keeps ``target_recall`` of positives, from out-of-fold scores.

    For each repeat of stratified ``folds``-fold cross-validation, the threshold is the
    highest score that still lets ``target_recall`` of the positives through; the lowest
    of the repeats is returned.

    Returns:
        ``(threshold, info)`` with the per-repeat thresholds and the out-of-fold recall
        and pass rate at the returned threshold.
    """
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    n_pos = int(y.sum())
    if n_pos < folds or len(y) - n_pos < folds:
        raise ValueError(f"need at least {folds} documents with events and {folds} without to "
                         f"choose a filter threshold; got {n_pos} and {len(y) - n_pos}")
    allowed_misses = int(math.floor((1 - target_recall) * n_pos + 1e-9))
    per_repeat, oof_all = [], []
    for r in range(repeats):
        oof = np.zeros(len(y))
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + r)
        for tr, te in skf.split(np.zeros(len(y)), y):
            f = fit_filter([texts[i] for i in tr], y[tr], **fit_kw)
            oof[te] = f.scores([texts[i] for i in te])
        pos = np.sort(oof[y == 1])
        per_repeat.append(float(pos[allowed_misses]))
        oof_all.append(oof)
    threshold = min(per_repeat)
    recall = [float((o[y == 1] >= threshold).mean()) for o in oof_all]
    pass_rate = [float((o[y == 0] >= threshold).mean()) for o in oof_all]
    return threshold, {"target_recall": target_recall, "folds": folds, "repeats": repeats,
                       "per_repeat_threshold": per_repeat, "cv_recall": min(recall),
                       "cv_negative_pass_rate": max(pass_rate)}


# Background items holding any of these might be unannotated expulsions: never negatives.
_TOPICAL = re.compile(r"expel|expul|persona non grata|diplomat|embass|envoy|ambassador|consul|"
                      r"attach[eé]|charg[eé] d|leave the country|deport|spy|spies|espionage",
                      re.IGNORECASE)


def sample_background(path: str | Path, *, size: int, until: str, exclude_ids: set[str],
                      seed: int = 13) -> list[str]:
    """A seeded sample of ``size`` background texts from a JSONL news dump (reservoir
    sampling: memory flat in the dump size).

    Items are kept when dated on or before ``until`` (and before ``RESERVED_FROM``), not
    in ``exclude_ids``, and free of expulsion or diplomacy words.
    """
    from pipeline.batch.dumps import Record, read_dump

    until = min(until, RESERVED_FROM)
    rng = random.Random(seed)
    sample: list[str] = []
    seen = 0
    for it in read_dump(path):
        if not isinstance(it, Record) or it.id in exclude_ids or _TOPICAL.search(it.text):
            continue
        date = str(it.fields.get("date") or "")
        if not date or date > until or date >= RESERVED_FROM:
            continue
        seen += 1
        if len(sample) < size:
            sample.append(it.text)
        else:
            k = rng.randrange(seen)
            if k < size:
                sample[k] = it.text
    return sample


def train_filter(train_docs: Sequence[Document], model_dir: str | Path, *,
                 background: str | Path | None = None, background_size: int = 10000,
                 target_recall: float = 0.99, seed: int = 13) -> dict[str, Any]:
    """Train the document filter on gold training documents and save it in ``model_dir``.

    Args:
        train_docs: gold documents (label: has at least one event). Documents dated
            ``RESERVED_FROM`` or later are left out (they are for independent evaluation).
        model_dir: where ``docfilter.json`` is written (created if needed).
        background: optional JSONL news dump (with ``id``, ``text``, ``date``) to draw
            extra negatives from, dated no later than the latest training document; see
            the module docstring. Without it, far more ordinary news passes the filter.
        background_size: how many background items to draw.
        target_recall: share of event documents the threshold must let through in
            cross-validation.
        seed: seeds the background sample and the cross-validation splits.

    Returns:
        ``{"path", "threshold", "train_docs", "positives", "background", "cv_recall", ...}``.

    Raises:
        ValueError: too few positive or negative documents to cross-validate.
    """
    docs = [d for d in train_docs if not (d.date and str(d.date) >= RESERVED_FROM)]
    if len(docs) < len(train_docs):
        log.warning("document filter: left out %d training document(s) dated %s or later",
                    len(train_docs) - len(docs), RESERVED_FROM)
    texts = [d.text for d in docs]
    labels = [int(bool(d.events)) for d in docs]
    extra: list[str] = []
    if background is not None and background_size > 0:
        until = max((str(d.date) for d in docs if d.date), default=RESERVED_FROM)
        extra = sample_background(background, size=background_size, until=until,
                                  exclude_ids={d.id for d in docs}, seed=seed)
    threshold, info = cv_threshold(texts + extra, labels + [0] * len(extra),
                                   target_recall=target_recall, seed=seed)
    f = fit_filter(texts + extra, labels + [0] * len(extra))
    f.threshold = threshold
    f.info = {"train_docs": len(docs), "positives": sum(labels), "background": len(extra), **info}
    Path(model_dir).mkdir(parents=True, exist_ok=True)
    path = f.save(Path(model_dir) / FILTER_FILE)
    log.info("document filter: threshold %.4f (CV recall %.3f) saved to %s",
             threshold, info["cv_recall"], path)
    return {"path": str(path), "threshold": threshold, **f.info}


def filter_recall(f: DocFilter, docs: Sequence[Document],
                  threshold: float | None = None) -> dict[str, Any]:
    """Recall on event documents and pass rate on the others (e.g. on the dev split)."""
    keep = f.keep([d.text for d in docs], threshold)
    pos = np.array([bool(d.events) for d in docs])
    missed = [d.id for d, k, p in zip(docs, keep, pos) if p and not k]
    return {"recall": float(keep[pos].mean()) if pos.any() else float("nan"),
            "positives": int(pos.sum()), "missed": missed,
            "negative_pass_rate": float(keep[~pos].mean()) if (~pos).any() else float("nan"),
            "pass_rate": float(keep.mean()) if len(docs) else float("nan")}
