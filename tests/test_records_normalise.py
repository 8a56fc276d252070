"""Normalisers of event records on hand-written cases, refusals included."""

from __future__ import annotations

import pytest

from pipeline.formats.inline import parse_markup
from pipeline.records.countries import ORGANISATIONS, is_organisation
from pipeline.records.counts import add_counts
from pipeline.records.dates import resolve_period
from pipeline.records.normalise import (cameo_code, country_code, expelled_countries,
                                        expelled_country, normalise_document, normalise_event,
                                        parse_count, plover_codes, resolve_date, resolve_deadline)


def count(text):
    c = parse_count(text)
    return c["count"], c["count_min"], c["count_max"]


# ---------------------------------------------------------------- counts

@pytest.mark.parametrize("text, expected", [
    ("eight Russian officials", 8),
    ("23 Russian diplomats", 23),
    ("two Russian diplomats", 2),
    ("45 staff of the Russian embassy in Warsaw", 45),
    ("a Russian diplomat", 1),
    ("the ambassador", 1),
    ("Syrian diplomat", 1),
    ("Senior Romanian diplomat Gabriel Grecu", 1),
    ("A dozen members of the Australian Federal Police", 12),
    ("twenty-three diplomats", 23),
    ("one of its diplomats", 1),
    ("All 23 Russian diplomats", 23),
    ("Russia's 23 diplomats", 23),
    ("1,200 diplomats", 1200),
    ("59 diplomats from 23 nations", 59),   # 23 counts nations, not people
    ("two more Libyan diplomats", 2),
    ("the ambassadors of ten Western nations", 10),  # one ambassador per state
])
def test_stated_counts(text, expected):
    assert count(text) == (expected, expected, expected)


@pytest.mark.parametrize("text, bounds", [
    ("several Russian diplomats", (None, 3, 9)),
    ("dozens of Russian diplomats", (None, 24, 99)),
    ("More than 100 Russian diplomats", (None, 101, None)),
    ("over 100 Russian diplomatic staff", (None, 101, None)),
    ("hundreds of diplomats", (None, 200, 999)),
    ("at least 5 diplomats", (None, 5, None)),
    ("up to 20 diplomats", (None, 1, 20)),
])
def test_bounded_counts(text, bounds):
    assert count(text) == bounds


@pytest.mark.parametrize("text", [
    "Russian diplomats", "Russian diplomats and their families", "its citizens",
    "the diplomats of ten Western nations", "the same number of Russian diplomats",
    "each other's diplomats", "the consulate general", "UN weapons inspectors",
])
def test_unknown_counts(text):
    assert count(text) == (None, None, None)


@pytest.mark.parametrize("text", ["the 2016 election", "Resolution 1701", "72 hours",
                                  "Resolution 1701 inspectors", "the 2016 expelled diplomats"])
def test_numbers_that_are_not_counts_are_refused(text):
    assert count(text) == (None, None, None)


def test_an_ordinal_is_not_a_count():
    # "the 2nd secretary" is one person, not two.
    assert count("the 2nd secretary") == (1, 1, 1)


def test_counts_add_up_over_several_phrases():
    total = add_counts([parse_count("two Spanish diplomats"), parse_count("the Mexican ambassador")])
    assert total == {"count": 3, "count_min": 3, "count_max": 3}
    partial = add_counts([parse_count("two diplomats"), parse_count("several diplomats")])
    assert partial == {"count": None, "count_min": 5, "count_max": 11}


# ---------------------------------------------------------------- countries

@pytest.mark.parametrize("text, code", [
    ("Poland", "POL"), ("Russia", "RUS"), ("the Russian Federation", "RUS"),
    ("The Russian Foreign Ministry", "RUS"), ("U.S.", "USA"), ("the US", "USA"),
    ("American officials", "USA"), ("Moscow", "RUS"), ("Washington", "USA"),
    ("the Kremlin", "RUS"), ("Beijing", "CHN"), ("Tehran", "IRN"),
    ("the Biden administration", "USA"), ("Downing Street", "GBR"), ("the UK", "GBR"),
    ("President Nicolás Maduro", "VEN"), ("Frank Bainimarama's military government", "FJI"),
    ("NATO", "NATO"), ("the European Union", "EU"), ("the OSCE", "OSCE"), ("IAEA", "IAEA"),
    ("the African Union", "AU"), ("The Czech Republic", "CZE"), ("Ivory Coast", "CIV"),
    ("Turkey", "TUR"), ("North Korea", "PRK"), ("The Gambia", "GMB"),
])
def test_country_code(text, code):
    assert country_code(text) == code


@pytest.mark.parametrize("text", ["the alliance", "Several Arab and Western countries",
                                  "European Union nations", "NATO allies",
                                  "the government", "us", "turkey", ""])
def test_country_code_none(text):
    assert country_code(text) is None


@pytest.mark.parametrize("text, code", [
    ("eight Russian officials", "RUS"),
    ("the ambassador of Colombia", "COL"),
    ("Kenya's ambassador", "KEN"),
    ("two Cuban diplomats at the United Nations", "CUB"),
    ("a senior diplomat at the Norwegian embassy in Moscow", "NOR"),
    ("two officials at the Pakistan High Commission in New Delhi", "PAK"),
    ("European Union Ambassador to Venezuela Isabel Brilhante Pedrosa", "EU"),
    ("the Berlin station chief of the United States Central Intelligence Agency", "USA"),
    ("eight members of Russia’s delegation to the military alliance", "RUS"),
    ("seven senior United Nations humanitarian officials working in Ethiopia", "UN"),
])
def test_expelled_country_is_the_nationality(text, code):
    assert expelled_country(text) == code


@pytest.mark.parametrize("text, owner, location", [
    ("45 staff of the Russian embassy in Warsaw", "RUS", "POL"),
    ("German Ambassador to Venezuela", "DEU", "VEN"),
    ("the Libyan ambassador to the UK", "LBY", "GBR"),
    ("an Israeli Dublin embassy official", "ISR", "IRL"),
    ("two Russian diplomats based in The Hague", "RUS", "NLD"),
])
def test_a_location_is_not_the_expelled_country(text, owner, location):
    assert expelled_countries(text) == [owner]
    assert expelled_country(text) != location


def test_several_expelled_countries_have_no_single_code():
    assert expelled_countries("85 diplomats from France, Spain, and Italy") == ["FRA", "ESP", "ITA"]
    assert expelled_country("envoys from Australia and New Zealand") is None
    assert expelled_country("its High Commissioner to Fiji, Mike Green") is None


def test_organisation_codes_are_not_iso_codes():
    import pycountry

    iso = {c.alpha_3 for c in pycountry.countries}
    assert not set(ORGANISATIONS) & iso
    assert is_organisation("NATO") and not is_organisation("RUS")


# ---------------------------------------------------------------- dates

DOC = "2021-10-06"  # a Wednesday


@pytest.mark.parametrize("text, day", [
    ("July", "2021-07-01"), ("October", "2021-10-01"), ("November", "2020-11-01"),
    ("last week", "2021-09-27"), ("Monday", "2021-10-04"), ("Wednesday", "2021-10-06"),
    ("yesterday", "2021-10-05"), ("earlier this month", "2021-10-01"),
    ("Last year", "2020-01-01"), ("2006", "2006-01-01"), ("March 2018", "2018-03-01"),
    ("April 17", "2021-04-17"), ("December 1", "2020-12-01"), ("July 5, 2021", "2021-07-05"),
    ("two weeks ago", "2021-09-20"),
])
def test_resolve_date_looks_back(text, day):
    assert resolve_date(text, DOC) == day


def test_resolve_date_precision():
    assert resolve_period("July", DOC).precision == "month"
    assert resolve_period("Monday", DOC).precision == "day"
    assert resolve_period("2006", DOC).precision == "year"


@pytest.mark.parametrize("text", ["recently", "just months ago", "A day before", "earlier", ""])
def test_resolve_date_refuses_vague_phrases(text):
    assert resolve_date(text, DOC) is None


def test_relative_date_needs_the_document_date():
    assert resolve_date("July", None) is None
    assert resolve_date("March 2018", None) == "2018-03-01"


@pytest.mark.parametrize("text, day", [
    ("October 31", "2021-10-31"), ("October 1", "2022-10-01"), ("72 hours", "2021-10-09"),
    ("48 hours", "2021-10-08"), ("a week", "2021-10-13"), ("within a week", "2021-10-13"),
    ("seven days", "2021-10-13"), ("30 days", "2021-11-05"), ("one month", "2021-11-06"),
    ("the end of the month", "2021-10-31"), ("Friday", "2021-10-08"),
])
def test_resolve_deadline_looks_forward(text, day):
    assert resolve_deadline(text, DOC) == day


def test_resolve_deadline_refuses_what_it_cannot_place():
    assert resolve_deadline("soon", DOC) is None
    assert resolve_deadline("72 hours", None) is None


# ---------------------------------------------------------------- codes

def test_cameo_166_family_and_plover():
    assert cameo_code("eight Russian diplomats") == "166"
    assert cameo_code("UN weapons inspectors") == "1662"
    assert cameo_code("OSCE observers") == "1662"
    assert cameo_code("UN peacekeepers") == "1661"
    assert cameo_code("the United Nations refugee agency, UNHCR") == "1663"
    assert plover_codes("166") == {"plover": "SANCTION", "plover_mode": "expel",
                                   "plover_context": "diplomatic"}
    with pytest.raises(ValueError, match="166"):
        plover_codes("174")


# ---------------------------------------------------------------- events

def test_normalise_event_fills_extra():
    doc = parse_markup("d", "[Poland]{EXPELLER} [expels]{TRIGGER} [45 staff of the Russian "
                            "embassy in Warsaw]{EXPELLED} and gives them [72 hours]{DEADLINE} "
                            "to leave; the decision came [yesterday]{TIME}.",
                       meta={"date": "2021-10-06"})
    fields = normalise_event(doc.events[0], doc)
    extra = doc.events[0].extra
    assert extra is not fields and extra["count"] == fields["count"] == 45
    assert (extra["expeller_country"], extra["expelled_country"]) == ("POL", "RUS")
    assert (extra["time_date"], extra["time_precision"]) == ("2021-10-05", "day")
    assert extra["deadline_date"] == "2021-10-09"
    assert (extra["cameo"], extra["plover"], extra["plover_mode"]) == ("166", "SANCTION", "expel")
    assert extra["retaliation"] is False


def test_several_expellers_make_several_pairs():
    doc = parse_markup("d", "[Belgium]{EXPELLER}, [the Netherlands]{EXPELLER} and [Ireland]{EXPELLER} "
                            "[expel]{TRIGGER} [Russian diplomats]{EXPELLED}.", meta={"date": "2022-03-29"})
    f = normalise_event(doc.events[0], doc)
    assert f["expeller_country"] is None and f["expeller_countries"] == ["BEL", "NLD", "IRL"]
    assert [(p["expeller_country"], p["expelled_country"]) for p in f["pairs"]] == [
        ("BEL", "RUS"), ("NLD", "RUS"), ("IRL", "RUS")]


def test_each_of_several_expellers_expels_the_stated_number():
    doc = parse_markup("d", "[Germany]{EXPELLER}, [Poland]{EXPELLER} and [Sweden]{EXPELLER} each "
                            "[expel]{TRIGGER} [a Russian diplomat]{EXPELLED}.", meta={"date": "2021-02-08"})
    f = normalise_event(doc.events[0], doc)
    assert f["count"] == 3 and [p["count"] for p in f["pairs"]] == [1, 1, 1]
    doc = parse_markup("d", "[Germany]{EXPELLER} and [Poland]{EXPELLER} [expel]{TRIGGER} "
                            "[four Russian diplomats]{EXPELLED}.", meta={"date": "2021-02-08"})
    f = normalise_event(doc.events[0], doc)
    assert f["count"] == 4 and [p["count"] for p in f["pairs"]] == [None, None]


def test_several_expelled_phrases_keep_their_own_counts():
    doc = parse_markup("d", "[The Russian foreign ministry]{EXPELLER} [expels]{TRIGGER} "
                            "[21 Belgian diplomats]{EXPELLED} and [4 Austrian diplomats]{EXPELLED}.",
                       meta={"date": "2022-04-19"})
    f = normalise_event(doc.events[0], doc)
    assert f["count"] == 25 and f["expelled_countries"] == ["BEL", "AUT"]
    assert [(p["expelled_country"], p["count"]) for p in f["pairs"]] == [("BEL", 21), ("AUT", 4)]


def test_nationality_outside_the_phrase_comes_from_the_sentence():
    doc = parse_markup("d", "[Spain]{EXPELLER#1} and [Russia]{EXPELLER#2} each [expel]{TRIGGER#1,2} "
                            "[two diplomats]{EXPELLED#1,2} in a tit-for-tat row.",
                       meta={"date": "2010-12-28"})
    normalise_document(doc)
    got = [(ev.extra["expeller_country"], ev.extra["expelled_country"], ev.extra["retaliation"])
           for ev in doc.events]
    assert got == [("ESP", "RUS", True), ("RUS", "ESP", True)]


def test_nationality_in_a_later_phrase_of_the_sentence():
    doc = parse_markup("d", "[Ukraine]{EXPELLER} [declares]{TRIGGER} [the consulate general]{EXPELLED} "
                            "of Russia unwelcome.", meta={"date": "2015-07-17"})
    f = normalise_event(doc.events[0], doc)
    assert (f["expelled_country"], f["expelled_country_source"]) == ("RUS", "sentence")


def test_a_place_in_the_sentence_is_not_the_nationality():
    doc = parse_markup("d", "[Burundi]{EXPELLER} [expels]{TRIGGER} [three experts]{EXPELLED}, "
                            "who must leave Burundi.", meta={"date": "2020-05-14"})
    assert normalise_event(doc.events[0], doc)["expelled_country"] is None


def test_generic_expeller_resolves_to_the_named_alliance():
    doc = parse_markup("d", "NATO takes a step. [The military alliance]{EXPELLER} has "
                            "[expelled]{TRIGGER} [eight Russian officials]{EXPELLED}.",
                       meta={"date": "2021-10-06"})
    f = normalise_event(doc.events[0], doc)
    assert (f["expeller_country"], f["expeller_country_source"]) == ("NATO", "context")


def test_retaliation_cue_belongs_to_the_answering_trigger():
    doc = parse_markup(
        "d", "[Russia]{EXPELLER#1} [expelled]{TRIGGER#1} [U.S. diplomats]{EXPELLED#1} in response to "
             "[the Biden administration]{EXPELLER#2}'s decision to [remove]{TRIGGER#2} "
             "[Russian officials]{EXPELLED#2}.", meta={"date": "2021-10-06"})
    normalise_document(doc)
    assert [ev.extra["retaliation"] for ev in doc.events] == [True, False]


def test_vague_time_is_kept_as_vague():
    doc = parse_markup("d", "[Norway]{EXPELLER} [expelled]{TRIGGER} [a Russian diplomat]{EXPELLED} "
                            "[recently]{TIME}.", meta={"date": "2021-10-06"})
    f = normalise_event(doc.events[0], doc)
    assert f["time_date"] is None and f["time_precision"] == "vague"
