"""Two baselines the fine-tuned model is measured against (project issue 6).

- ``lexicon rules`` (:mod:`pipeline.baselines.lexicon`): trigger words, filters and
  patterns around the trigger for each role; no training, no NLP model.
- ``feature tagger`` (:mod:`pipeline.baselines.features`): a scikit-learn logistic
  regression over hand-made word features, trained on the gold training files.

Both produce flat spans that :func:`pipeline.events.linking.link` turns into events, as the
model's spans are.
"""

from __future__ import annotations

import logging
from typing import Sequence

from pipeline.baselines.features import FeatureTagger
from pipeline.baselines.lexicon import LexiconTagger, Sentence, reason_clause, word_spans
from pipeline.schema import Document

__all__ = ["FeatureTagger", "LexiconTagger", "Sentence", "reason_clause", "run_baselines", "word_spans"]

log = logging.getLogger(__name__)


def run_baselines(gold: Sequence[Document], train_files: list[str], seed: int) -> dict[str, list[Document]]:
    """Predict the gold texts with both baselines.

    Args:
        gold: the documents to predict (their events are not looked at).
        train_files: gold files the feature tagger is trained on (any supported format).
        seed: seeds the feature tagger's training.

    Returns:
        ``{"lexicon rules": docs, "feature tagger": docs}``, documents in gold order.

    Raises:
        FileNotFoundError / CorpusError: a training file is missing or broken.
    """
    from pipeline.formats import read_corpus

    blank = [Document(id=d.id, text=d.text, meta=dict(d.meta)) for d in gold]
    train = [doc for f in train_files for doc in read_corpus(f)]
    gold_ids = {d.id for d in gold}
    leaked = [d.id for d in train if d.id in gold_ids]
    if leaked:
        log.warning("%d training document(s) are also in the evaluated set and are left out of the "
                    "feature tagger's training, e.g. %s", len(leaked), leaked[:3])
        train = [d for d in train if d.id not in gold_ids]
    return {
        "lexicon rules": LexiconTagger().predict(blank),
        "feature tagger": FeatureTagger.train(train, seed=seed).predict(blank),
    }
