"""A cheap cascade filter in front of the tagger: is this document worth tagging at all?

Expulsions are rare in news (a few hundred items in 162k), so most documents need not
reach the transformer.  The filter has two steps:

1. **a keyword gate** (:data:`GATES`, a few microseconds a document): words of expulsion
   and diplomacy ("expel", "expulsion", "persona non grata", "diplomat", "embassy",
   "ambassador", "consul", "attaché", "to leave", "kick out", "oust", "deport" ...).
   Every gold document with an event matches it (a test checks this on the whole gold
   corpus), and about 2% of ordinary news does;
2. **a linear model** on the documents the gate lets through: TF-IDF over word 1-2
   grams and character 3-5 grams (within words) with a logistic regression, trained on
   the gold training documents that pass the gate (label = the document has at least
   one event).

The model's threshold is chosen on the *training* documents only, from out-of-fold
scores of repeated stratified cross-validation, so that at least ``target_recall`` of
the event documents pass; the lowest threshold over the repeats is kept (the cautious
one).  Documents dated ``RESERVED_FROM`` or later never take part.

The filter is saved as plain JSON (gate, vocabularies, idf, coefficients, threshold) in
the model directory (``docfilter.json``): model directories are untrusted, and JSON
cannot run code the way a pickle can.  Scoring needs neither scikit-learn nor SciPy: the
saved vocabularies and weights are applied directly (scikit-learn fits them at training
time; a test checks that both give the same scores).

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
import re
from collections import Counter
from itertools import chain
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pipeline.errors import FilterError
from pipeline.files import atomic_text
from pipeline.text import EXPULSION_WORDS, WordGate
from pipeline.schema import RESERVED_FROM, Document

log = logging.getLogger(__name__)

FILTER_FILE = "docfilter.json"
FORMAT_VERSION = 2            # 2: keyword gate, scores without scikit-learn; 1 is still read

# The keyword gates, matched against the lower-cased text.  A filter file names its gate;
# the pattern itself is code, never read from the (untrusted) model directory.
GATES = {
    "keywords-1": EXPULSION_WORDS,
}
GATE = "keywords-1"

# Vectoriser settings; saved with the filter so that a reload rebuilds the same features.
WORD = {"analyzer": "word", "ngram_range": [1, 2], "lowercase": True, "sublinear_tf": True,
        "min_df": 2, "token_pattern": r"(?u)\b\w+\b"}
CHAR = {"analyzer": "char_wb", "ngram_range": [3, 5], "lowercase": True, "sublinear_tf": True,
        "min_df": 2}
_WHITE = re.compile(r"\s\s+")
MEMO_WORDS = 200_000          # words whose character n-gram columns are remembered
MEMO_WORD_CHARS = 40


class NgramFeatures:
    """One block of L2-normalised, sublinear TF-IDF features, as scikit-learn's
    ``TfidfVectorizer`` computes them for a fitted vocabulary, in plain Python.

    Args:
        spec: :data:`WORD` or :data:`CHAR`.
        vocabulary: n-gram -> column.
        idf: one inverse document frequency per column.
    """

    def __init__(self, spec: dict[str, Any], vocabulary: dict[str, int], idf: Sequence[float]):
        self.spec, self.vocabulary, self.idf = spec, vocabulary, [float(x) for x in idf]
        self.lo, self.hi = spec["ngram_range"]
        self.token = re.compile(spec.get("token_pattern", r"(?u)\b\w\w+\b"))
        self._word_columns: dict[str, tuple[int, ...]] = {}
        self._idf = np.asarray(self.idf, dtype=np.float64)

    def ngrams(self, text: str) -> list[str]:
        text = text.lower()
        out: list[str] = []
        if self.spec["analyzer"] == "word":
            tokens = self.token.findall(text)
            for n in range(self.lo, self.hi + 1):
                out.extend(tokens if n == 1 else (" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)))
            return out
        for w in _WHITE.sub(" ", text).split():       # char_wb: n-grams inside padded words
            out.extend(self._char_ngrams(w))
        return out

    def _char_ngrams(self, word: str) -> list[str]:
        w, out = f" {word} ", []
        for n in range(self.lo, self.hi + 1):
            if len(w) <= n:                          # the whole (short) word, once
                out.append(w)
                break
            out.extend(w[i:i + n] for i in range(len(w) - n + 1))
        return out

    def counts(self, text: str) -> Counter:
        """Column -> how often its n-gram occurs in ``text`` (vocabulary n-grams only).

        Character n-grams lie inside words, so each distinct word's columns are worked out
        once and remembered (news repeats its words: the filter's main cost on articles);
        the memory holds at most :data:`MEMO_WORDS` words of up to :data:`MEMO_WORD_CHARS`
        characters and starts afresh when full."""
        vocab = self.vocabulary
        if self.spec["analyzer"] == "word":
            return Counter(k for k in map(vocab.get, self.ngrams(text)) if k is not None)
        memo, found = self._word_columns, []
        for w in _WHITE.sub(" ", text.lower()).split():
            cols = memo.get(w)
            if cols is None:
                cols = tuple(k for k in map(vocab.get, self._char_ngrams(w)) if k is not None)
                if len(w) <= MEMO_WORD_CHARS:          # not a blob without spaces
                    if len(memo) >= MEMO_WORDS:
                        memo.clear()
                    memo[w] = cols
            found.append(cols)
        return Counter(chain.from_iterable(found))

    def dot(self, text: str, coef: np.ndarray, offset: int = 0) -> float:
        """The L2-normalised TF-IDF vector of ``text`` (sublinear counts, as scikit-learn's
        ``TfidfVectorizer``) times ``coef[offset:]``."""
        found = self.counts(text)
        if not found:
            return 0.0
        cols = np.fromiter(found.keys(), dtype=np.intp, count=len(found))
        v = np.fromiter(found.values(), dtype=np.float64, count=len(found))
        v = (1.0 + np.log(v)) * self._idf[cols]
        norm = float(v @ v)
        return float(v @ coef[offset + cols]) / math.sqrt(norm) if norm > 0 else 0.0


@dataclass
class DocFilter:
    """A fitted filter: the keyword gate, feature blocks and a linear model over them.

    Attributes:
        features: the feature blocks, their columns concatenated.
        coef: one weight per feature, shape ``(n_features,)``.
        intercept: the model's bias.
        threshold: documents (that pass the gate) scoring at least this pass.
        piece_chars: texts longer than this are scored piece by piece.
        info: how the threshold was chosen (training counts, CV recall), for reports.
        gate: the name of the keyword gate (:data:`GATES`); None = every document is scored.
    """

    features: list[NgramFeatures]
    coef: np.ndarray
    intercept: float
    threshold: float
    piece_chars: int = 600
    info: dict[str, Any] | None = None
    gate: str | None = GATE

    def __post_init__(self):
        self._gate = WordGate(GATES[self.gate]) if self.gate else None
        self._offsets = np.cumsum([0] + [len(f.idf) for f in self.features])[:-1].tolist()
        self._coef = np.asarray(self.coef, dtype=np.float64)

    def gated(self, texts: Sequence[str]) -> np.ndarray:
        """Boolean mask of the texts the keyword gate lets through."""
        if self._gate is None:
            return np.ones(len(texts), dtype=bool)
        search = self._gate.search
        return np.fromiter((search(t.lower()) for t in texts), dtype=bool, count=len(texts))

    def _raw_score(self, text: str) -> float:
        z = self.intercept
        for f, off in zip(self.features, self._offsets):
            z += f.dot(text, self._coef, off)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def model_scores(self, texts: Sequence[str]) -> np.ndarray:
        """The linear model's probability for each text (the gate not applied)."""
        return np.array([max(self._raw_score(p) for p in _pieces(t, self.piece_chars)) for t in texts])

    def gated_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(gate mask, scores)``: the gate run once, the model only on what it passes
        (score 0 for a text the gate turns away)."""
        mask = self.gated(texts)
        out = np.zeros(len(texts))
        idx = np.flatnonzero(mask)
        if len(idx):
            out[idx] = self.model_scores([texts[i] for i in idx])
        return mask, out

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Probability that each text holds an expulsion, shape ``(len(texts),)``; 0 for a
        text the gate turns away."""
        return self.gated_scores(texts)[1]

    def keep(self, texts: Sequence[str], threshold: float | None = None) -> np.ndarray:
        """Boolean mask of the texts that should go on to the tagger."""
        t = self.threshold if threshold is None else threshold
        mask, scores = self.gated_scores(texts)
        return mask & (scores >= t)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "expel-docfilter", "version": FORMAT_VERSION, "gate": self.gate,
            "features": [{"spec": f.spec, "vocabulary": f.vocabulary, "idf": f.idf} for f in self.features],
            "coef": self._coef.tolist(), "intercept": float(self.intercept),
            "threshold": float(self.threshold), "piece_chars": int(self.piece_chars),
            "info": self.info or {},
        }

    def save(self, path: str | Path) -> Path:
        """Write the filter as JSON (atomically: a temp file renamed into place)."""
        path = Path(path)
        atomic_text(path, json.dumps(self.to_json(), ensure_ascii=False))
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
    if obj.get("version") not in (1, FORMAT_VERSION):
        fail(f"filter format version {obj.get('version')!r}, this code reads 1 and {FORMAT_VERSION}")
    gate = obj.get("gate") if obj["version"] >= 2 else None
    if gate is not None and gate not in GATES:
        fail(f"unknown keyword gate {gate!r} (this code knows {', '.join(GATES)})")
    features, n_features = [], 0
    for part in obj.get("features") or fail("no 'features'"):
        spec, vocab, idf = part.get("spec"), part.get("vocabulary"), part.get("idf")
        if spec not in (WORD, CHAR):
            fail(f"unknown vectoriser settings {spec!r}")
        if not isinstance(vocab, dict) or not isinstance(idf, list) or len(vocab) != len(idf):
            fail("each feature block needs a 'vocabulary' object and an 'idf' list of equal length")
        if sorted(vocab.values()) != list(range(len(vocab))):
            fail("a vocabulary's indices must be 0..n-1, each once")
        if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in idf):
            fail("'idf' must hold finite numbers")
        features.append(NgramFeatures(spec, {str(k): int(i) for k, i in vocab.items()}, idf))
        n_features += len(vocab)
    coef = np.asarray(obj.get("coef", []), dtype=np.float64)
    if coef.shape != (n_features,) or not np.isfinite(coef).all():
        fail(f"'coef' has {coef.size} weights for {n_features} features (finite numbers)")
    try:
        intercept, threshold = float(obj["intercept"]), float(obj["threshold"])
        piece_chars = int(obj.get("piece_chars", 600))
    except (KeyError, TypeError, ValueError):
        fail("'intercept' and 'threshold' must be numbers")
    if not (0.0 <= threshold <= 1.0) or not all(map(math.isfinite, (intercept, threshold))):
        fail(f"threshold {threshold} must be a probability in [0, 1]")
    return DocFilter(features, coef, intercept, threshold, max(piece_chars, 100), obj.get("info") or {}, gate)


def _pieces(text: str, size: int) -> list[str]:
    """The text itself when short; else every pair of consecutive sentences (news items,
    which the filter is trained on, are one to three sentences), each at most ``size``
    characters (a longer sentence is cut in ``size`` pieces)."""
    if len(text) <= size:
        return [text]
    from pipeline.text import rough_sentence_bounds

    sents = []
    for s, e in rough_sentence_bounds(text):
        sents.extend(text[i:min(i + size, e)] for i in range(s, e, size))
    if len(sents) == 1:
        return sents
    return [(a + b)[:size] if len(a) < size else a for a, b in zip(sents, sents[1:])]


def _vectorizer(spec: dict[str, Any]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(dtype=np.float64, **{**spec, "ngram_range": tuple(spec["ngram_range"])})


def fit_filter(texts: Sequence[str], labels: Sequence[int], *, c: float = 1.0,
               specs: Sequence[dict[str, Any]] = (WORD, CHAR), gate: str | None = GATE) -> DocFilter:
    """Fit the feature blocks and the linear model with scikit-learn (threshold 0.5 until
    one is chosen); the result scores without it."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    vectorizers = [_vectorizer(s) for s in specs]
    x = sp.hstack([v.fit_transform(texts) for v in vectorizers], format="csr")
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    lr.fit(x, np.asarray(labels))
    features = [NgramFeatures(dict(s), {str(k): int(i) for k, i in v.vocabulary_.items()}, v.idf_)
                for s, v in zip(specs, vectorizers)]
    return DocFilter(features, lr.coef_[0].astype(np.float64), float(lr.intercept_[0]), 0.5, gate=gate)


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

    Raises:
        FilterError: too few documents with and without events to cross-validate.
    """
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    n_pos = int(y.sum())
    if n_pos < folds or len(y) - n_pos < folds:
        raise FilterError(f"need at least {folds} documents with events and {folds} without (that pass "
                          f"the keyword gate) to choose a filter threshold; got {n_pos} and {len(y) - n_pos}")
    allowed_misses = int(math.floor((1 - target_recall) * n_pos + 1e-9))
    per_repeat, oof_all = [], []
    for r in range(repeats):
        oof = np.zeros(len(y))
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + r)
        for tr, te in skf.split(np.zeros(len(y)), y):
            f = fit_filter([texts[i] for i in tr], y[tr], **fit_kw)
            oof[te] = f.model_scores([texts[i] for i in te])
        pos = np.sort(oof[y == 1])
        per_repeat.append(float(pos[allowed_misses]))
        oof_all.append(oof)
    threshold = min(per_repeat)
    recall = [float((o[y == 1] >= threshold).mean()) for o in oof_all]
    pass_rate = [float((o[y == 0] >= threshold).mean()) for o in oof_all]
    return threshold, {"target_recall": target_recall, "folds": folds, "repeats": repeats,
                       "per_repeat_threshold": per_repeat, "cv_recall": min(recall),
                       "cv_negative_pass_rate": max(pass_rate)}


def train_filter(train_docs: Sequence[Document], model_dir: str | Path, *,
                 target_recall: float = 0.99, seed: int = 13, gate: str | None = GATE) -> dict[str, Any]:
    """Train the document filter on gold training documents and save it in ``model_dir``.

    Args:
        train_docs: gold documents (label: has at least one event). Documents dated
            ``RESERVED_FROM`` or later are left out (they are for independent evaluation).
        model_dir: where ``docfilter.json`` is written (created if needed).
        target_recall: share of event documents the threshold must let through in
            cross-validation.
        seed: seeds the cross-validation splits.
        gate: the name of the keyword gate (:data:`GATES`); the model is trained on the
            documents it lets through.  An event document it turns away is logged by id.

    Returns:
        ``{"path", "threshold", "train_docs", "gated_docs", "positives", "gate_missed",
        "cv_recall", ...}``.

    Raises:
        FilterError: too few documents with and without events to cross-validate.
    """
    docs = [d for d in train_docs if not (d.date and str(d.date) >= RESERVED_FROM)]
    if len(docs) < len(train_docs):
        log.warning("document filter: left out %d training document(s) dated %s or later",
                    len(train_docs) - len(docs), RESERVED_FROM)
    probe = DocFilter([], np.zeros(0), 0.0, 0.0, gate=gate)
    passed = probe.gated([d.text for d in docs])
    missed = [d.id for d, k in zip(docs, passed) if d.events and not k]
    if missed:
        log.warning("document filter: the keyword gate turns away %d event document(s), e.g. %s; "
                    "add their wording to the gate", len(missed), missed[:3])
    gated = [d for d, k in zip(docs, passed) if k]
    texts, labels = [d.text for d in gated], [int(bool(d.events)) for d in gated]
    folds = min(5, sum(labels), len(labels) - sum(labels))
    if folds < 2 or len(set(labels)) < 2:
        # A corpus this small cannot choose a threshold: the gate alone decides.
        log.warning("document filter: only %d event and %d other documents pass the gate; too few to "
                    "train its model, so the keyword gate alone decides", sum(labels), len(labels) - sum(labels))
        f = DocFilter([], np.zeros(0), 0.0, 0.0, gate=gate)
        info = {"target_recall": target_recall, "folds": 0, "cv_recall": 1.0, "cv_negative_pass_rate": 1.0}
    else:
        threshold, info = cv_threshold(texts, labels, target_recall=target_recall, seed=seed, gate=gate,
                                       folds=folds)
        f = fit_filter(texts, labels, gate=gate)
        f.threshold = threshold
    f.info = {"train_docs": len(docs), "gated_docs": len(gated), "positives": sum(labels),
              "gate_missed": missed, **info}
    Path(model_dir).mkdir(parents=True, exist_ok=True)
    path = f.save(Path(model_dir) / FILTER_FILE)
    log.info("document filter: gate passes %d of %d training documents; threshold %.4f (CV recall %.3f) "
             "saved to %s", len(gated), len(docs), f.threshold, info["cv_recall"], path)
    return {"path": str(path), "threshold": f.threshold, **f.info}


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
