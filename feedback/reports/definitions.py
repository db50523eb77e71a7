"""The report's bases, defined once: what each table counts and who is in it.

Why one place: the page showed three different "answered" figures without saying which people
each counted (issue 14, item 4). Every table of the computed report names one of these codes as
its base (``ThemeReport.bases``), and the page, CSV, PDF and JSON show the same definitions from
here. A person is counted at most once per base.

The Swedish texts are the catalogue for these terms; templates render them, code never rewrites
them.
"""

from __future__ import annotations

from typing import Final

# Contact must have had a chance: someone closed less than this many days ago has not been asked.
FIRST_WAVE_DAYS: Final = 30

AVSLUTADE: Final = "avslutade"
TILLFRAGADE: Final = "tillfragade"
SVARADE: Final = "svarade"
SKREV_SJALVA: Final = "skrev_sjalva"
UPPFOLJNINGAR: Final = "uppfoljningar"
FOLJBARA_AVSLUT: Final = "foljbara_avslut"

DEFINITIONS_SV: Final[dict[str, tuple[str, str]]] = {
    AVSLUTADE: (
        "Avslutade",
        "Personer vars ärende avslutades under perioden (kohorten). Varje person räknas en gång.",
    ),
    TILLFRAGADE: (
        "Tillfrågade",
        "Avslutade som vi försökt nå minst en gång för uppföljningen: ett sms har skickats eller "
        "ett samtal har ringts. Den som avslutades av annan orsak än arbete eller studier, eller "
        f"för mindre än {FIRST_WAVE_DAYS} dagar sedan, har inte tillfrågats och räknas inte som "
        "”svarade inte”.",
    ),
    SVARADE: (
        "Svarade",
        "Tillfrågade som svarat på minst en fråga. Varje person räknas en gång, även om hen "
        "svarat vid flera uppföljningar; på en fråga räknas personens senaste svar.",
    ),
    SKREV_SJALVA: (
        "Skrev egna svar",
        "Personer som skrivit minst ett eget svar (fritext, anteckning från samtal eller "
        "brukarpanel) under perioden. En person kan ta upp flera teman men räknas en gång per tema.",
    ),
    UPPFOLJNINGAR: (
        "Uppföljningar",
        "Uppföljningar som skulle göras under perioden, en per person och uppföljningstillfälle "
        "(1, 3, 6 eller 12 månader). ”Ej kontaktad” är inte bortfall.",
    ),
    FOLJBARA_AVSLUT: (
        "Avslut som kan följas upp",
        "Avslut till arbete eller studier där 1, 3, 6 eller 12 månader har gått under perioden.",
    ),
}

# The base of each table of the computed report.
TABLE_BASES: Final[dict[str, str]] = {
    "themes": SKREV_SJALVA,
    "units": SKREV_SJALVA,
    "trend": SKREV_SJALVA,
    "skr": SVARADE,
    "waves": UPPFOLJNINGAR,
    "cohort": AVSLUTADE,
    "sustained": FOLJBARA_AVSLUT,
}


def definitions() -> list[dict[str, str]]:
    """The definitions as plain data for the page, the exports and the JSON API."""
    return [{"code": code, "term": term, "text": text} for code, (term, text) in DEFINITIONS_SV.items()]
