"""Country and organisation codes for expeller and expelled phrases.

Codes are ISO 3166-1 alpha-3 for states (``pycountry`` supplies every official,
short and common name) and short acronyms for international organisations
(:data:`ORGANISATIONS`).  The hand tables below hold only what ``pycountry`` lacks:
aliases in news use ("Russia", "Britain", "U.S."), demonyms, capitals used as
metonyms ("Moscow"), seats and heads of government ("the Kremlin", "the Biden
administration", "Maduro") and organisations.  Lookups are exact (no fuzzy
matching) and case-sensitive, because the names are proper nouns and "us",
"chad" or "turkey" in lower case are not countries.

Example:
    >>> country_code("the Biden administration")
    'USA'
    >>> expelled_country("45 staff of the Russian embassy in Warsaw")
    'RUS'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Organisation codes are not ISO codes; none of them is an ISO alpha-3 code, and
# ``is_organisation`` tells them apart.  UN programmes, funds and missions count as
# the UN (their officials are UN officials); the IAEA keeps its own code because
# expelling its inspectors is a distinct, frequent story (CAMEO 1662).
ORGANISATIONS: dict[str, tuple[str, ...]] = {
    "UN": ("United Nations", "UN", "U.N.", "UN Security Council", "UNHCR", "UNICEF", "UNDP",
           "WFP", "World Food Programme", "OCHA", "UNRWA", "UNESCO", "OHCHR", "WHO",
           "World Health Organization", "World Health Organisation", "MONUSCO", "MINUSMA",
           "UNMISS", "UNAMID", "CICIG", "International Commission against Impunity in Guatemala"),
    "IAEA": ("IAEA", "International Atomic Energy Agency"),
    "EU": ("European Union", "EU", "E.U.", "European Commission", "European Council",
           "European External Action Service"),
    "NATO": ("NATO", "North Atlantic Treaty Organization", "North Atlantic Treaty Organisation"),
    "OSCE": ("OSCE", "Organization for Security and Co-operation in Europe",
             "Organisation for Security and Co-operation in Europe",
             "Organization for Security and Cooperation in Europe"),
    "AU": ("African Union", "AU"),
    "ECOWAS": ("ECOWAS", "Economic Community of West African States"),
    "ASEAN": ("ASEAN", "Association of Southeast Asian Nations"),
    "OAS": ("OAS", "Organization of American States", "Organisation of American States"),
    "COE": ("Council of Europe",),
    "LAS": ("Arab League", "League of Arab States"),
    "GCC": ("Gulf Cooperation Council", "GCC"),
    "OPCW": ("OPCW", "Organisation for the Prohibition of Chemical Weapons",
             "Organization for the Prohibition of Chemical Weapons"),
    "SADC": ("SADC", "Southern African Development Community"),
    "CIS": ("Commonwealth of Independent States",),
}

# Names in news use that pycountry does not list (it has "Russian Federation",
# "Türkiye", "Côte d'Ivoire" ...).  XKX is the user-assigned code for Kosovo used by
# the EU and the IMF.
_ALIASES = """
USA: United States, United States of America, U.S., US, USA, U.S.A., America
GBR: UK, U.K., Britain, Great Britain, United Kingdom
RUS: Russia, Soviet Union, USSR
CIV: Ivory Coast, Cote d'Ivoire
COD: Democratic Republic of the Congo, Democratic Republic of Congo, DR Congo, DRC, D.R. Congo
COG: Republic of the Congo, Congo-Brazzaville
TUR: Turkey
XKX: Kosovo
PSE: Palestine, Palestinian Authority
MKD: Macedonia
VAT: Vatican, Holy See
BRN: Brunei
CPV: Cape Verde
SWZ: Swaziland
MMR: Burma
TLS: East Timor
FSM: Micronesia
CZE: Czech Republic
NLD: Holland
KOR: Republic of Korea
PRK: DPRK
ARE: UAE, U.A.E., Emirates
"""

# Demonyms name the country of the people they modify ("Russian diplomats").
# "Korean", "Congolese", "Dominican" and "Guinean" are ambiguous; the longer forms
# ("North Korean") win, and the bare forms map to the larger state (documented).
_DEMONYMS = """
AFG: Afghan
ALB: Albanian
DZA: Algerian
AGO: Angolan
ARG: Argentine, Argentinian, Argentinean
ARM: Armenian
AUS: Australian
AUT: Austrian
AZE: Azerbaijani, Azeri
BHR: Bahraini
BGD: Bangladeshi
BLR: Belarusian, Belarussian, Byelorussian
BEL: Belgian
BEN: Beninese
BOL: Bolivian
BIH: Bosnian, Bosnian-Herzegovinian
BWA: Botswanan, Motswana
BRA: Brazilian
BGR: Bulgarian
BFA: Burkinabe, Burkinabè
BDI: Burundian
KHM: Cambodian
CMR: Cameroonian
CAN: Canadian
CAF: Central African
TCD: Chadian
CHL: Chilean
CHN: Chinese
COL: Colombian
COD: Congolese
CRI: Costa Rican
HRV: Croatian, Croat
CUB: Cuban
CYP: Cypriot
CZE: Czech
DNK: Danish
DJI: Djiboutian
DOM: Dominican
ECU: Ecuadorian, Ecuadorean
EGY: Egyptian
SLV: Salvadoran, Salvadorean
GNQ: Equatoguinean, Equatorial Guinean
ERI: Eritrean
EST: Estonian
ETH: Ethiopian
FJI: Fijian
FIN: Finnish
FRA: French
GAB: Gabonese
GMB: Gambian
GEO: Georgian
DEU: German
GHA: Ghanaian
GRC: Greek
GTM: Guatemalan
GIN: Guinean
GNB: Bissau-Guinean
GUY: Guyanese
HTI: Haitian
HND: Honduran
HUN: Hungarian
ISL: Icelandic
IND: Indian
IDN: Indonesian
IRN: Iranian
IRQ: Iraqi
IRL: Irish
ISR: Israeli
ITA: Italian
JAM: Jamaican
JPN: Japanese
JOR: Jordanian
KAZ: Kazakh, Kazakhstani
KEN: Kenyan
KWT: Kuwaiti
KGZ: Kyrgyz
LAO: Laotian, Lao
LVA: Latvian
LBN: Lebanese
LBR: Liberian
LBY: Libyan
LTU: Lithuanian
LUX: Luxembourgish
MDG: Malagasy
MWI: Malawian
MYS: Malaysian
MDV: Maldivian
MLI: Malian
MLT: Maltese
MRT: Mauritanian
MEX: Mexican
MDA: Moldovan
MNG: Mongolian
MNE: Montenegrin
MAR: Moroccan
MOZ: Mozambican
MMR: Burmese
NAM: Namibian
NPL: Nepalese, Nepali
NLD: Dutch
NZL: New Zealander
NIC: Nicaraguan
NER: Nigerien
NGA: Nigerian
PRK: North Korean
MKD: North Macedonian, Macedonian
NOR: Norwegian
OMN: Omani
PAK: Pakistani
PSE: Palestinian
PAN: Panamanian
PNG: Papua New Guinean
PRY: Paraguayan
PER: Peruvian
PHL: Philippine, Filipino
POL: Polish
PRT: Portuguese
QAT: Qatari
ROU: Romanian
RUS: Russian
RWA: Rwandan
SAU: Saudi, Saudi Arabian
SEN: Senegalese
SRB: Serbian, Serb
SLE: Sierra Leonean
SGP: Singaporean
SVK: Slovak, Slovakian
SVN: Slovenian, Slovene
SOM: Somali, Somalian
ZAF: South African
KOR: South Korean
SSD: South Sudanese
ESP: Spanish
LKA: Sri Lankan
SDN: Sudanese
SUR: Surinamese
SWE: Swedish
CHE: Swiss
SYR: Syrian
TWN: Taiwanese
TJK: Tajik, Tajikistani
TZA: Tanzanian
THA: Thai
TGO: Togolese
TTO: Trinidadian
TUN: Tunisian
TUR: Turkish
TKM: Turkmen
UGA: Ugandan
UKR: Ukrainian
ARE: Emirati
GBR: British, English, Scottish, Welsh
USA: American
URY: Uruguayan
UZB: Uzbek, Uzbekistani
VEN: Venezuelan
VNM: Vietnamese
YEM: Yemeni
ZMB: Zambian
ZWE: Zimbabwean
XKX: Kosovar, Kosovan
"""

# Capitals used as metonyms for their governments ("Moscow expels ...").  Brussels
# (Belgium or the EU) and Jerusalem (contested) are left out on purpose.
_CAPITALS = """
USA: Washington, Washington, D.C.
RUS: Moscow
CHN: Beijing, Peking
IRN: Tehran, Teheran
GBR: London
FRA: Paris
DEU: Berlin, Bonn
UKR: Kyiv, Kiev
BLR: Minsk
POL: Warsaw
CZE: Prague
SVK: Bratislava
HUN: Budapest
AUT: Vienna
CHE: Bern, Berne
ITA: Rome
ESP: Madrid
PRT: Lisbon
NLD: The Hague, Amsterdam
DNK: Copenhagen
NOR: Oslo
SWE: Stockholm
FIN: Helsinki
EST: Tallinn
LVA: Riga
LTU: Vilnius
ROU: Bucharest
BGR: Sofia
GRC: Athens
TUR: Ankara
SRB: Belgrade
HRV: Zagreb
SVN: Ljubljana
BIH: Sarajevo
MNE: Podgorica
MKD: Skopje
ALB: Tirana
MDA: Chisinau, Chișinău
GEO: Tbilisi
ARM: Yerevan
AZE: Baku
KAZ: Astana, Nur-Sultan
UZB: Tashkent
KGZ: Bishkek
TJK: Dushanbe
TKM: Ashgabat
AFG: Kabul
PAK: Islamabad
IND: New Delhi
BGD: Dhaka
LKA: Colombo
NPL: Kathmandu
PRK: Pyongyang
KOR: Seoul
JPN: Tokyo
TWN: Taipei
VNM: Hanoi
THA: Bangkok
PHL: Manila
IDN: Jakarta
MYS: Kuala Lumpur
MMR: Naypyidaw, Naypyitaw
AUS: Canberra
NZL: Wellington
FJI: Suva
CAN: Ottawa
MEX: Mexico City
CUB: Havana
VEN: Caracas
COL: Bogotá, Bogota
ECU: Quito
PER: Lima
BOL: La Paz
CHL: Santiago
ARG: Buenos Aires
BRA: Brasília, Brasilia
URY: Montevideo
PRY: Asunción, Asuncion
NIC: Managua
HND: Tegucigalpa
SLV: San Salvador
GTM: Guatemala City
EGY: Cairo
LBY: Tripoli
TUN: Tunis
DZA: Algiers
MAR: Rabat
SDN: Khartoum
SSD: Juba
ETH: Addis Ababa
KEN: Nairobi
UGA: Kampala
RWA: Kigali
COD: Kinshasa
COG: Brazzaville
CAF: Bangui
TCD: N'Djamena
NER: Niamey
MLI: Bamako
BFA: Ouagadougou
SEN: Dakar
NGA: Abuja
GHA: Accra
CIV: Abidjan, Yamoussoukro
ZWE: Harare
ZMB: Lusaka
ZAF: Pretoria
MOZ: Maputo
AGO: Luanda
SOM: Mogadishu
ERI: Asmara
SAU: Riyadh
IRQ: Baghdad
SYR: Damascus
LBN: Beirut
JOR: Amman
YEM: Sanaa, Sana'a
OMN: Muscat
QAT: Doha
ARE: Abu Dhabi
BHR: Manama
KWT: Kuwait City
"""

# Seats of government and heads of state or government: a partial list of those
# that recur in expulsion news.  Surnames are used only where they are unambiguous
# in that news ("Morales" is not: Evo, Bolivia; Jimmy, Guatemala).
_GOVERNMENTS = """
USA: White House, State Department, Pentagon, Biden administration, Trump administration, Obama administration, Bush administration, Clinton administration, Biden, Trump, Obama, George W. Bush
RUS: Kremlin, Putin administration, Putin, Medvedev, Yeltsin, Lavrov
GBR: Downing Street, Whitehall, Foreign Office, Theresa May, Boris Johnson, Gordon Brown, Tony Blair
FRA: Élysée, Elysee, Quai d'Orsay, Macron, Sarkozy
DEU: Merkel, Scholz
CHN: Zhongnanhai, Xi Jinping
PRK: Kim Jong-un, Kim Jong Un, Kim Jong-il
VEN: Miraflores, Maduro, Chávez, Chavez
BOL: Evo Morales, Áñez, Añez
GTM: Jimmy Morales
NIC: Daniel Ortega
CIV: Gbagbo, Ouattara
FJI: Bainimarama
GEO: Saakashvili
ZMB: Lungu
TUR: Erdoğan, Erdogan
BRA: Bolsonaro, Lula, Itamaraty
ARG: Casa Rosada
LBY: Gaddafi, Qaddafi, Gadhafi
SYR: Assad
BLR: Lukashenko
UKR: Zelensky, Zelenskyy
ISR: Netanyahu, Knesset
IRN: Khamenei, Ahmadinejad, Rouhani, Raisi
RWA: Kagame
UGA: Museveni
ZWE: Mugabe
PHL: Duterte
HUN: Orbán, Orban
IND: Modi
"""


@dataclass(frozen=True)
class Mention:
    """A name found in a phrase: ``[start, end)`` in the phrase, its code and kind.

    ``kind`` is one of ``name``, ``demonym``, ``capital``, ``government``,
    ``organisation``.
    """

    start: int
    end: int
    code: str
    kind: str


def _parse_table(table: str) -> list[tuple[str, str]]:
    """``CODE: alias, alias`` lines -> ``[(alias, CODE), ...]``."""
    pairs = []
    for line in table.strip().splitlines():
        code, _, names = line.partition(":")
        code = code.strip()
        for name in names.split(","):
            name = name.strip()
            if name:
                pairs.append((name, code))
    return pairs


def _demonym_forms(name: str) -> list[str]:
    # "Russian" -> "Russians", "Israeli" -> "Israelis" ("accusing the Russians").
    forms = [name]
    if name.endswith(("an", "i")) and " " not in name:
        forms.append(name + "s")
    return forms


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, tuple[str, str]]:
    """Surface form -> ``(code, kind)``; later tables override earlier ones."""
    import pycountry

    lex: dict[str, tuple[str, str]] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                lex[value] = (c.alpha_3, "name")
    for name, code in _parse_table(_ALIASES):
        lex[name] = (code, "name")
    for name, code in _parse_table(_DEMONYMS):
        for form in _demonym_forms(name):
            lex.setdefault(form, (code, "demonym"))
    for name, code in _parse_table(_CAPITALS):
        lex[name] = (code, "capital")
    for name, code in _parse_table(_GOVERNMENTS):
        lex[name] = (code, "government")
    for code, names in ORGANISATIONS.items():
        for name in names:
            lex[name] = (code, "organisation")
    return lex


@lru_cache(maxsize=1)
def surface_forms() -> dict[str, dict[str, list[str]]]:
    """``{code: {kind: [forms]}}``: every name, demonym, capital, government and
    organisation form the tables know for a code, table order kept (first = usual form).

    Example:
        >>> surface_forms()["POL"]["demonym"][:1]
        ['Polish']
    """
    out: dict[str, dict[str, list[str]]] = {}
    for form, (code, kind) in _lexicon().items():
        out.setdefault(code, {}).setdefault(kind, []).append(form)
    return out


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern:
    # Longest forms first so that "North Korea" wins over "Korea" and
    # "Guinea-Bissau" over "Guinea" at the same position.
    forms = sorted(_lexicon(), key=len, reverse=True)
    alternation = "|".join(re.escape(f) for f in forms)
    return re.compile(rf"(?<![\w.])(?:{alternation})(?![\w])")


def _clean(text: str) -> str:
    # Same length as the input, so offsets stay valid.
    return text.replace("’", "'").replace("‘", "'")


# "European Union nations", "NATO allies", "EU member states": the members, several
# states, not the organisation itself.
_MEMBERS_AFTER = re.compile(r"^\s+(?:member\s+)?(?:nations|countries|states|members|allies|governments)\b")


def find_mentions(text: str) -> list[Mention]:
    """Every country, demonym, capital, government or organisation name in ``text``.

    An organisation named as a group of its members ("European Union nations") is
    left out: the phrase names states, not the organisation.

    Example:
        >>> [m.code for m in find_mentions("the Russian embassy in Warsaw")]
        ['RUS', 'POL']
    """
    lex = _lexicon()
    clean = _clean(text)
    out = []
    for m in _pattern().finditer(clean):
        code, kind = lex[m.group(0)]
        if kind == "organisation" and _MEMBERS_AFTER.match(clean[m.end():]):
            continue
        out.append(Mention(m.start(), m.end(), code, kind))
    return out


def is_organisation(code: str | None) -> bool:
    """True for the organisation codes of :data:`ORGANISATIONS`."""
    return code in ORGANISATIONS


def country_code(text: str | None) -> str | None:
    """The code of the first state or organisation named in ``text``.

    Used for EXPELLER phrases: names, demonyms ("The Russian Foreign Ministry"),
    capitals ("Moscow"), seats and heads of government ("the Kremlin", "President
    Nicolás Maduro") and organisations ("NATO").

    Args:
        text: a phrase, usually an EXPELLER span.

    Returns:
        An ISO 3166-1 alpha-3 code, an organisation code, or None when nothing is named.

    Example:
        >>> country_code("Tehran"), country_code("the Kremlin"), country_code("the alliance")
        ('IRN', 'RUS', None)
    """
    if not text:
        return None
    mentions = find_mentions(text)
    return mentions[0].code if mentions else None


# A name right after one of these words is where the people are or are sent, not
# whose they are: "ambassador to Venezuela", "officials working in Ethiopia".
_LOCATION_WORDS = re.compile(
    r"(?:\b(?:in|to|at|near|inside|outside|within|into|across|throughout|posted|based|stationed)"
    r"(?:\s+the)?\s*)$", re.IGNORECASE)
# ... unless the name modifies the institution that employs them: "at the Pakistan
# High Commission", "to the Russian embassy".
_INSTITUTION_AFTER = re.compile(
    r"^['s]*\s*(?:embassy|embassies|consulate|consulates|mission|missions|high commission|"
    r"delegation|government|foreign ministry|ministry|legation|representation|office|"
    r"intelligence|military|armed forces|navy|air force|army)\b", re.IGNORECASE)


def _is_location(text: str, m: Mention) -> bool:
    if m.kind == "capital":
        # In an EXPELLED phrase a city is where the embassy is ("the Russian embassy
        # in Warsaw", "an Israeli Dublin embassy official"), never whose staff it is.
        return True
    if not _LOCATION_WORDS.search(text[:m.start]):
        return False
    return not _INSTITUTION_AFTER.match(text[m.end:])


def expelled_countries(text: str | None) -> list[str]:
    """The states or organisations whose officials an EXPELLED phrase names, in order.

    The nationality of the people, not their posting: demonyms, owners ("of
    Colombia", "Kenya's", "from France, Spain, and Italy"), and the state that owns
    the embassy or mission.  Names after a location word ("in", "to", "at", "based
    in") are refused unless they modify an institution ("at the Pakistan High
    Commission"); capitals are always refused (they locate an embassy).

    Example:
        >>> expelled_countries("85 diplomats from France, Spain, and Italy")
        ['FRA', 'ESP', 'ITA']
        >>> expelled_countries("German Ambassador to Venezuela")
        ['DEU']
    """
    if not text:
        return []
    clean = _clean(text)
    codes: list[str] = []
    for m in find_mentions(clean):
        if not _is_location(clean, m) and m.code not in codes:
            codes.append(m.code)
    return codes


def expelled_country(text: str | None) -> str | None:
    """The one state or organisation whose officials are expelled, or None.

    None when the phrase names none ("the alleged spies", "its envoy") or several
    ("envoys from Australia and New Zealand"; :func:`expelled_countries` lists them).

    Example:
        >>> expelled_country("45 staff of the Russian embassy in Warsaw")
        'RUS'
        >>> expelled_country("the ambassador of Colombia")
        'COL'
    """
    codes = expelled_countries(text)
    return codes[0] if len(codes) == 1 else None
