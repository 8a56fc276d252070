"""Label-preserving augmentation: every rewrite keeps spans on their words, the contract
holds, a seed gives the same variant, and augmented documents stay out of gold."""

from __future__ import annotations

import random

import pytest

from pipeline.training.augment import Augmenter, Edit, apply_edits, count_edits, country_edits, date_edits, trigger_edits
from pipeline.config import AugmentConfig
from pipeline.training.corpus import load_gold
from pipeline.formats.inline import parse_markup, to_markup
from pipeline.schema import validate_document

GOLD = ["data/gold/train.jsonl", "data/gold/dev.jsonl", "seeds/nato-expels-eight-russian-officials.events.jsonl"]


def doc(markup: str, date: str = "2021-04-01"):
    d = parse_markup("t1", markup)
    d.meta["date"] = date
    return d


def only(**chances) -> AugmentConfig:
    base = {"countries": 0.0, "counts": 0.0, "dates": 0.0, "triggers": 0.0}
    return AugmentConfig(enabled=True, **{**base, **chances})


def test_apply_edits_moves_spans_around_inside_and_at_their_edges():
    d = doc("[Poland]{EXPELLER#1} [expels]{TRIGGER#1} [two Russian diplomats]{EXPELLED#1}.")
    out = apply_edits(d, [Edit(0, 6, "Lithuania"), Edit(18, 25, "Belarusian"), Edit(35, 35, " to go")])
    assert out.text == "Lithuania expels two Belarusian diplomats to go."
    assert to_markup(out) == ("[Lithuania]{EXPELLER#1} [expels]{TRIGGER#1} [two Belarusian diplomats]{EXPELLED#1}"
                              " to go.")


def test_apply_edits_refuses_an_edit_that_cuts_into_a_span():
    d = doc("[Poland]{EXPELLER#1} [expels]{TRIGGER#1} [two Russian diplomats]{EXPELLED#1}.")
    assert apply_edits(d, [Edit(3, 10, "x")]) is None           # "and ex" spans two spans
    assert apply_edits(d, [Edit(0, 6, "A"), Edit(4, 8, "B")]) is None   # edits overlap


@pytest.mark.parametrize("seed", range(8))
def test_trigger_rewrites_give_the_forms_the_guide_accepts(seed):
    d = doc("[Poland]{EXPELLER#1} [expels]{TRIGGER#1} [two Russian diplomats]{EXPELLED#1} for [spying]{REASON#1}.")
    out = apply_edits(d, trigger_edits(d, random.Random(seed)))
    validate_document(out)
    markup = to_markup(out)
    assert markup in {
        "[Poland]{EXPELLER#1} [orders]{TRIGGER#1} [two Russian diplomats]{EXPELLED#1} to leave for [spying]{REASON#1}.",
        "[Poland]{EXPELLER#1} declares [two Russian diplomats]{EXPELLED#1} [persona non grata]{TRIGGER#1} for "
        "[spying]{REASON#1}.",
        "[Poland]{EXPELLER#1} announces the [expulsion]{TRIGGER#1} of [two Russian diplomats]{EXPELLED#1} for "
        "[spying]{REASON#1}.",
        "[Poland]{EXPELLER#1} is [expelling]{TRIGGER#1} [two Russian diplomats]{EXPELLED#1} for [spying]{REASON#1}.",
    } or (markup.startswith("[Poland]{EXPELLER#1} [gives]{TRIGGER#1} [two Russian diplomats]{EXPELLED#1} [")
          and "]{DEADLINE#1} to leave for [spying]{REASON#1}." in markup), markup


def test_trigger_rewrite_keeps_the_tense():
    d = doc("[Peru]{EXPELLER#1} has [expelled]{TRIGGER#1} [the Chilean ambassador]{EXPELLED#1}.")
    outs = {to_markup(apply_edits(d, trigger_edits(d, random.Random(s)))) for s in range(20)}
    assert "[Peru]{EXPELLER#1} has [ordered]{TRIGGER#1} [the Chilean ambassador]{EXPELLED#1} to leave." in outs
    assert not any("gives" in o or "gave" in o for o in outs)     # "has gave": not offered


def test_country_swap_is_consistent_and_keeps_expeller_and_expelled_apart():
    d = doc("[Russia]{EXPELLER#1} [expels]{TRIGGER#1} [two Polish diplomats]{EXPELLED#1}; "
            "Poland says Moscow lies. (Madrid Times)")
    for seed in range(10):
        out = apply_edits(d, country_edits(d, random.Random(seed)))
        ev = out.events[0]
        expeller = next(a.text for a in ev.arguments if a.label == "EXPELLER")
        assert expeller != "Russia" and "Polish" not in out.text.split("(")[0]
        assert out.text.endswith("(Madrid Times)")               # sources in brackets stay
        assert expeller not in next(a.text for a in ev.arguments if a.label == "EXPELLED")


def test_country_swap_keeps_the_article_right_and_leaves_governments():
    d = doc("[The United States]{EXPELLER#1} [expels]{TRIGGER#1} [a Russian diplomat]{EXPELLED#1}.")
    for seed in range(10):
        out = apply_edits(d, country_edits(d, random.Random(seed)))
        assert out.text.split(" expels")[0] in {"The United States", "The Czech Republic", "The Netherlands",
                                                "The United Kingdom"}
    kremlin = doc("[The Kremlin]{EXPELLER#1} [expels]{TRIGGER#1} [a Russian diplomat]{EXPELLED#1}.")
    assert not [e for e in country_edits(kremlin, random.Random(0)) if kremlin.text[e.start:e.end] == "Russian"]


def test_counts_stay_plural_and_dates_stay_inside_their_spans():
    d = doc("[Peru]{EXPELLER#1} [expels]{TRIGGER#1} [seven Bolivian diplomats]{EXPELLED#1} and gives them until "
            "[March 29]{DEADLINE#1}; [a diplomat]{EXPELLED#1} too.")
    rng = random.Random(2)
    out = apply_edits(d, count_edits(d, rng) + date_edits(d, rng))
    validate_document(out)
    expelled = [a.text for a in out.events[0].arguments if a.label == "EXPELLED"]
    assert "a diplomat" in expelled and any(t.endswith("Bolivian diplomats") and not t.startswith("seven ")
                                            or t == "seven Bolivian diplomats" for t in expelled)
    deadline = next(a.text for a in out.events[0].arguments if a.label == "DEADLINE")
    month, day = deadline.split()
    assert month in ("January February March April May June July August September October November "
                     "December").split() and 1 <= int(day) <= 28


def test_every_gold_variant_is_valid_and_a_seed_gives_the_same_one():
    docs = [d for d in load_gold(GOLD) if d.events]
    aug = Augmenter(AugmentConfig(enabled=True))
    first = [aug(d, random.Random(f"7:{d.id}")) for d in docs]
    again = [Augmenter(AugmentConfig(enabled=True))(d, random.Random(f"7:{d.id}")) for d in docs]
    made = [a for a in first if a is not None]
    assert len(made) > len(docs) // 2
    for a in made:
        validate_document(a)
        assert a.id.endswith("#aug") and a.meta["augmented"] is True
        for ev in a.events:
            assert ev.trigger.text and all(a.text[s.start:s.end] == s.text for s in ev.arguments)
    assert [a and a.to_json() for a in first] == [a and a.to_json() for a in again]


def test_only_the_rewrites_asked_for_are_made():
    d = doc("[Russia]{EXPELLER#1} [expels]{TRIGGER#1} [two Polish diplomats]{EXPELLED#1}.")
    out = Augmenter(only(counts=1.0))(d, random.Random(0))
    assert out.text.startswith("Russia expels ") and "Polish diplomats" in out.text
    assert Augmenter(only())(d, random.Random(0)) is None
    assert Augmenter(only(countries=1.0))(doc("Markets fall."), random.Random(0)) is None   # no events


def test_training_with_augmentation_runs_and_never_writes_gold(tmp_path):
    from pipeline.config import compose_config
    from pipeline.stages import train

    before = {p: p.read_bytes() for p in __import__("pathlib").Path("data/gold").glob("*.jsonl")}
    cfg = compose_config("train", ["experiment=tiny", "augment=on", "data.positive_repeat=3",
                                   f"output_dir={tmp_path}/m", "trainer.max_steps=3", "doc_filter=false"])
    res = train(cfg, tmp_path / "run")
    assert res["model_dir"] and res["train_docs"] > 0
    assert {p: p.read_bytes() for p in before} == before
