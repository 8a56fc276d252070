"""Portal items laid out as articles (pipeline/training/articles.py): labels kept, offsets valid."""

from __future__ import annotations

import random

import pytest

from pipeline.training.articles import articles_of, compose_article, neighbours, title_case
from pipeline.training.corpus import load_gold
from pipeline.schema import validate_document


@pytest.fixture(scope="module")
def dev():
    return load_gold(["data/gold/dev.jsonl"])


def test_title_case_keeps_the_length():
    t = "Poland expels 45 Russian diplomats over spying in the U.S."
    assert title_case(t) == "Poland Expels 45 Russian Diplomats over Spying in the U.S."
    assert len(title_case("l’ambassadeur d’Italie")) == len("l’ambassadeur d’Italie")


def test_an_article_keeps_every_event_and_adds_its_headline(dev):
    rng = random.Random(0)
    made = 0
    for main in [d for d in dev if d.events][:30]:
        others = neighbours(main, dev, 2, rng)
        art = compose_article(main, others, rng)
        assert art is not None
        validate_document(art)
        made += 1
        inner = [(ev.trigger.text.replace("’", "'"), sorted(a.label for a in ev.arguments))
                 for d in [main, *others] for ev in d.events]
        got = [(ev.trigger.text.replace("’", "'").replace("\n", " "), sorted(a.label for a in ev.arguments))
               for ev in art.events]
        assert len(got) - len(inner) in (0, 1)                       # the headline's own mention
        assert got[len(got) - len(inner):] == inner
        assert art.text.count("\n\n") >= len(others) and "(Wire)" in art.text
        assert art.date == main.date and art.meta["article_of"][0] == main.id
    assert made == 30


def test_every_item_is_in_exactly_one_composite_article(dev):
    arts = articles_of(dev, random.Random(5))
    ids = [i for a in arts for i in a.meta.get("article_of", [a.id])]
    assert sorted(ids) == sorted(d.id for d in dev)
    assert sum(len(a.events) for a in arts) >= sum(len(d.events) for d in dev)


def test_the_augmenter_lays_out_articles_from_its_pool(dev):
    from pipeline.training.augment import Augmenter
    from pipeline.config import AugmentConfig

    aug = Augmenter(AugmentConfig(countries=0, counts=0, dates=0, triggers=0, deadlines=0, articles=1.0), pool=dev)
    out = aug([d for d in dev if d.events][0], random.Random(1))
    assert out is not None and out.id.endswith("#aug") and "\n\n" in out.text and aug.stats()["articles"] == 1
    validate_document(out)
