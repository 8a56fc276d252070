"""The feature-based baseline: a scikit-learn logistic regression over hand-made word
features (word, shape, affixes, neighbours, gazetteers, position relative to trigger words)
predicting a BIO tag per word, decoded with Viterbi over learnt tag transitions; trained on
the gold training files.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from pipeline.baselines.lexicon import _MONTH, _WEEKDAY, NON_OFFICIAL_RE, OFFICIAL_RE, word_spans
from pipeline.events.linking import link
from pipeline.text import sentence_bounds
from pipeline.schema import Document, Span

_DEMONYMS = set("""afghan albanian algerian american argentine armenian australian austrian azerbaijani
bahraini belarusian belgian bolivian bosnian brazilian british bulgarian burmese cambodian canadian
chadian chilean chinese colombian congolese croatian cuban cypriot czech danish dutch ecuadorian
egyptian emirati eritrean estonian ethiopian european fijian finnish french georgian german ghanaian
greek guatemalan guinean haitian honduran hungarian icelandic indian indonesian iranian iraqi irish
israeli italian ivorian jamaican japanese jordanian kazakh kenyan korean kosovar kuwaiti kyrgyz
latvian lebanese libyan lithuanian luxembourgish macedonian malaysian malian maltese mexican
moldovan mongolian montenegrin moroccan nepalese nicaraguan nigerian nigerien norwegian omani
pakistani palestinian panamanian paraguayan peruvian philippine polish portuguese qatari romanian
russian rwandan salvadoran saudi senegalese serbian singaporean slovak slovenian somali spanish
sudanese swedish swiss syrian taiwanese tajik tanzanian thai tunisian turkish turkmen ugandan
ukrainian uruguayan uzbek venezuelan vietnamese yemeni zambian zimbabwean soviet western arab
african asian nordic baltic""".split())
_GAZETTEERS: dict[str, re.Pattern] = {
    "trigger": re.compile(r"expel\w*|expuls\w*|persona|grata|ousts?|ousted|kick\w*", re.I),
    "official": re.compile(OFFICIAL_RE.pattern.replace(r"\b", ""), re.I),
    "nonofficial": re.compile(NON_OFFICIAL_RE.pattern.replace(r"\b", ""), re.I),
    "order": re.compile(r"order\w*|give[sn]?|gave|giving|told|tells?|leave|depart\w*", re.I),
    "month": re.compile(_MONTH.replace(r"\.", ""), re.I),
    "weekday": re.compile(_WEEKDAY),
    "duration": re.compile(r"hours?|days?|weeks?|months?", re.I),
    "cause": re.compile(r"for|over|after|amid|following|due|response|retaliation|accus\w+|suspicion|"
                        r"citing|because", re.I),
    "negation": re.compile(r"threat\w*|calls?|called|urges?|demands?|refus\w+|not|denies|may|"
                           r"could|propos\w+|votes?|plans?|considers?", re.I),
    "number": re.compile(r"\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                         r"dozen|dozens|several|hundreds?", re.I),
    "gov": re.compile(r"government|ministry|administration|authorities|regime|president|minister|"
                      r"state|cabinet|junta|nato|un|eu", re.I),
    "deadline_prep": re.compile(r"by|within|until", re.I),
}


def _countries() -> set[str]:
    """Lower-cased words of country names (pycountry), for the gazetteer feature."""
    import pycountry

    words: set[str] = set()
    for c in pycountry.countries:
        for name in (c.name, getattr(c, "common_name", "")):
            words.update(w.lower() for w in re.findall(r"[A-Za-z]+", name or "") if len(w) > 3)
    return words - {"republic", "state", "states", "islands", "united", "democratic", "people",
                    "federation", "kingdom", "plurinational", "province", "island"}


def _shape(w: str) -> str:
    """Word shape with runs collapsed: "Poland" -> "Xx", "U.S" -> "X.X", "15" -> "d"."""
    s = re.sub(r"[A-Z]", "X", re.sub(r"[a-z]", "x", re.sub(r"\d", "d", w)))
    return re.sub(r"(.)\1+", r"\1", s)


def _word_flags(w: str, countries: set[str]) -> dict[str, bool]:
    low = w.lower()
    flags = {name: bool(rx.fullmatch(w)) for name, rx in _GAZETTEERS.items()}
    flags["country"] = low in countries
    flags["demonym"] = low in _DEMONYMS
    return flags


def _bucket(d: int) -> str:
    return str(d) if d <= 3 else "4-6" if d <= 6 else "7-10" if d <= 10 else "11+"


def _context_features(i: int, sent: list[int], flags: list[dict[str, bool]]) -> dict[str, float]:
    """Where word ``i`` sits relative to trigger words and causal words of its sentence."""
    f: dict[str, float] = {}
    trig = [k for k in sent if flags[k]["trigger"]]
    left = [k for k in trig if k < i]
    right = [k for k in trig if k > i]
    if left:
        f["trig_left=" + _bucket(i - left[-1])] = 1
        between = range(left[-1] + 1, i)
        if any(flags[k]["cause"] for k in between):
            f["after_cause"] = 1
        if any(flags[k]["deadline_prep"] for k in between if i - k <= 3):
            f["after_deadline_prep"] = 1
    if right:
        f["trig_right=" + _bucket(right[0] - i)] = 1
    if not trig:
        f["no_trigger_in_sentence"] = 1
    if any(flags[k]["official"] for k in sent):
        f["sentence_has_official"] = 1
    return f


def _doc_features(text: str, words: list[tuple[int, int]], countries: set[str]) -> list[dict[str, float]]:
    """One feature dict per word: the word, its shape and affixes, gazetteer hits, the
    same for neighbours within two words (inside the sentence), and trigger context."""
    toks = [text[s:e] for s, e in words]
    low = [t.lower() for t in toks]
    flags = [_word_flags(t, countries) for t in toks]
    bounds = sentence_bounds(text)
    sent_of, sents, k = [], [[] for _ in bounds], 0
    for i, (s, _) in enumerate(words):
        while k < len(bounds) - 1 and s >= bounds[k][1]:
            k += 1
        sent_of.append(k)
        sents[k].append(i)
    depth, feats = 0, []
    for i, t in enumerate(toks):
        depth += t == "("
        f = {"bias": 1.0, "w=" + low[i]: 1, "shape=" + _shape(t): 1, "p3=" + low[i][:3]: 1,
             "s3=" + low[i][-3:]: 1, "s2=" + low[i][-2:]: 1, "title": float(t[:1].isupper()),
             "upper": float(t.isupper()), "digit": float(t.isdigit()), "in_paren": float(depth > 0)}
        f.update({"g=" + n: 1 for n, v in flags[i].items() if v})
        for d in (-2, -1, 1, 2):
            j = i + d
            if 0 <= j < len(toks) and sent_of[j] == sent_of[i]:
                f[f"{d}:w={low[j]}"] = 1
                f[f"{d}:shape={_shape(toks[j])}"] = 1
                f.update({f"{d}:g={n}": 1 for n, v in flags[j].items() if v})
            else:
                f[f"{d}:edge"] = 1
        if i > 0:
            f[f"bigram={low[i - 1]}|{low[i]}"] = 1
        f.update(_context_features(i, sents[sent_of[i]], flags))
        depth -= t == ")" and depth > 0
        feats.append(f)
    return feats


def _decode(text: str, words: list[tuple[int, int]], tags: list[str], scores: list[float]) -> list[Span]:
    """Lenient BIO decoding: an ``I-X`` that does not continue an ``X`` span starts one.

    A span's score is the mean probability of its words' tags (as the model's decoder).
    """
    spans: list[Span] = []
    cur: list | None = None                     # [label, start, end, [scores]]
    for (s, e), tag, p in zip(words, tags, scores):
        if tag != "O" and tag[0] == "I" and cur is not None and cur[0] == tag[2:]:
            cur[2] = e
            cur[3].append(p)
            continue
        if cur:
            spans.append(Span(cur[0], cur[1], cur[2], text[cur[1]:cur[2]], float(np.mean(cur[3]))))
        cur = None if tag == "O" else [tag[2:], s, e, [p]]
    if cur:
        spans.append(Span(cur[0], cur[1], cur[2], text[cur[1]:cur[2]], float(np.mean(cur[3]))))
    return spans


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _viterbi(base: np.ndarray, start: np.ndarray, trans: np.ndarray) -> tuple[list[int], list[float]]:
    """Best tag sequence of a maximum-entropy Markov model.

    Args:
        base: ``[words, tags]`` logits from the word's own features.
        start: ``[tags]`` logit shift of the first word (previous tag = start).
        trans: ``[tags, tags]`` logit shift given the previous tag (row) for each tag.

    Returns:
        Tag indices and, per word, the probability of its tag given the previous one.
    """
    n, k = base.shape
    logp0 = _log_softmax(base[0] + start)                        # [tags]
    delta, back, local = logp0, np.zeros((n, k), dtype=int), [logp0]
    for i in range(1, n):
        cond = _log_softmax(base[i][None, :] + trans)             # [prev, tags]
        total = delta[:, None] + cond
        back[i] = total.argmax(axis=0)
        delta = total.max(axis=0)
        local.append(cond)
    path = [int(delta.argmax())]
    for i in range(n - 1, 0, -1):
        path.append(int(back[i][path[-1]]))
    path.reverse()
    probs = [float(np.exp(logp0[path[0]]))]
    probs += [float(np.exp(local[i][path[i - 1], path[i]])) for i in range(1, n)]
    return path, probs


_START = "<s>"


def _with_prev_tags(feats: list[dict[str, float]], tags: list[str]) -> list[dict[str, float]]:
    """Training features plus the gold previous tag (the Markov feature)."""
    return [{**f, "prev=" + (tags[i - 1] if i else _START): 1.0} for i, f in enumerate(feats)]


def _frequent(rows: list[dict[str, float]], min_count: int) -> list[dict[str, float]]:
    """Drop features seen fewer than ``min_count`` times (smaller model, faster fit)."""
    from collections import Counter

    counts = Counter(k for r in rows for k in r)
    return [{k: v for k, v in r.items() if counts[k] >= min_count} for r in rows]


class FeatureTagger:
    """A maximum-entropy Markov model: logistic regression over word features and the
    previous tag, decoded with Viterbi, one BIO tag per word.

    Example:
        >>> tagger = FeatureTagger.train(read_corpus("data/gold/train.jsonl"))  # doctest: +SKIP
        >>> tagger.predict([Document("d", "Peru expels a diplomat.")])           # doctest: +SKIP
    """

    def __init__(self, vectorizer, model, countries: set[str]):
        self.vectorizer, self.model, self.countries = vectorizer, model, countries
        self.classes = [str(c) for c in model.classes_]
        vocab, coef = vectorizer.vocabulary_, model.coef_           # coef: [tags, features]
        shift = [coef[:, vocab["prev=" + t]] if "prev=" + t in vocab else np.zeros(len(self.classes))
                 for t in (*self.classes, _START)]
        self.trans = np.stack(shift[:-1])                            # [prev tag, tag]
        self.start = shift[-1]                                       # [tag]

    @classmethod
    def train(cls, docs: Sequence[Document], seed: int = 13, c: float = 5.0,
              min_count: int = 2, o_weight: float = 0.3) -> "FeatureTagger":
        """Fit on gold documents (their spans, tagged BIO over words).

        Args:
            docs: gold documents; documents without events teach the "O" tag.
            seed: seeds the solver.
            c: inverse L2 regularisation strength of the logistic regression.
            min_count: features seen fewer times are dropped (corpora over 50 documents).
            o_weight: class weight of "O"; below 1 trades precision for recall
                (0.3 chosen by 4-fold cross-validation on the training split).

        Raises:
            ValueError: when the documents hold no span at all (nothing to learn).
        """
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        from pipeline.tagger.encoding import word_tags

        countries = _countries()
        X, y = [], []
        for d in docs:
            words = word_spans(d.text)
            tags = word_tags(d, words)
            X.extend(_with_prev_tags(_doc_features(d.text, words, countries), tags))
            y.extend(tags)
        if len(set(y)) < 2:
            raise ValueError(f"the {len(docs)} training document(s) hold no labelled span; the "
                             "feature tagger needs gold events to learn from (check data.train)")
        vec = DictVectorizer()
        matrix = vec.fit_transform(_frequent(X, min_count) if len(docs) > 50 else X)
        weights = {t: (o_weight if t == "O" else 1.0) for t in set(y)}
        model = LogisticRegression(C=c, max_iter=200, random_state=seed, class_weight=weights)
        model.fit(matrix, y)
        return cls(vec, model, countries)

    def predict_spans(self, text: str) -> list[Span]:
        """Spans of one text, not yet linked."""
        words = word_spans(text)
        if not words:
            return []
        x = self.vectorizer.transform(_doc_features(text, words, self.countries))
        base = np.asarray(x @ self.model.coef_.T) + self.model.intercept_   # [words, tags]
        path, probs = _viterbi(base, self.start, self.trans)
        return _decode(text, words, [self.classes[k] for k in path], probs)

    def predict(self, docs: Sequence[Document], linking: str = "sentence") -> list[Document]:
        """Copies of ``docs`` with predicted, linked events."""
        return [Document(id=d.id, text=d.text, events=link(d.text, self.predict_spans(d.text), linking),
                         meta=dict(d.meta)) for d in docs]
