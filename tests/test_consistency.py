"""Event-level consistency: one expeller group per event, never the expelled's own state."""

from __future__ import annotations

from pipeline.events.consistency import consistent_events
from pipeline.schema import Event, make_span


def event(text: str, trigger: str, **roles: list[str]) -> Event:
    def span(label: str, words: str, after: int = 0):
        i = text.index(words, after)
        return make_span(text, label, i, i + len(words))

    return Event(span("TRIGGER", trigger), [span(r, w) for r, ws in roles.items() for w in ws])


def expellers(text: str, ev: Event) -> list[str]:
    (out,) = consistent_events(text, [ev])
    return [a.text for a in out.arguments if a.label == "EXPELLER"]


def test_the_subject_of_the_triggers_clause_wins():
    text = "Russia adds Norway to its list after Norway expelled two Russian diplomats."
    ev = event(text, "expelled", EXPELLER=["Russia"], EXPELLED=["two Russian diplomats"])
    ev.arguments.append(make_span(text, "EXPELLER", 37, 43))          # the second "Norway"
    assert expellers(text, ev) == ["Norway"]


def test_a_coordinated_list_is_kept_whole_even_when_partly_tagged():
    text = "Denmark, Estonia, Italy and Sweden expel over 100 Russian diplomats."
    ev = event(text, "expel", EXPELLER=["Denmark", "Sweden"], EXPELLED=["over 100 Russian diplomats"])
    assert expellers(text, ev) == ["Denmark", "Sweden"]


def test_a_noun_trigger_keeps_its_agent_after_from_or_by():
    text = ("Russia expels diplomats from Estonia, Latvia, and Lithuania, in retaliation for the "
            "earlier expulsions of Russian diplomats from these countries.")
    ev = event(text, "expulsions", EXPELLER=["Lithuania", "these countries"])
    assert expellers(text, ev) == ["these countries"]


def test_an_expeller_of_the_expelled_state_is_dropped_but_an_organisation_is_not():
    text = "Poland expels two Polish diplomats."
    assert expellers(text, event(text, "expels", EXPELLER=["Poland"], EXPELLED=["two Polish diplomats"])) == []
    text = "Russia expels two Polish diplomats."
    assert expellers(text, event(text, "expels", EXPELLER=["Russia"], EXPELLED=["two Polish diplomats"])) == ["Russia"]
    text = "NATO expels eight Russian officials of its Russian mission."
    assert expellers(text, event(text, "expels", EXPELLER=["NATO"], EXPELLED=["eight Russian officials"])) == ["NATO"]


def test_consistency_is_on_by_default_and_a_tagger_setting():
    from pipeline.config import TaggerConfig, compose_config
    from pipeline.tagger import TaggerSettings

    assert TaggerSettings().consistency is True and TaggerConfig().consistency is True
    assert compose_config("predict", []).tagger.consistency is True
    assert compose_config("predict", ["tagger.consistency=false"]).tagger.consistency is False
    assert TaggerSettings(consistency=False).consistency is False
