"""Refuse anything that looks like a Swedish personal identity number in a client reference.

Why: the platform never stores personnummer or samordningsnummer (GDPR, OSL 26 kap.). Case
systems export a pseudonymous reference; a caseworker who pastes a personnummer by mistake must be
stopped with a clear message, before anything is written. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from datetime import date

CLIENT_REF_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# 6 or 8 date digits, an optional separator, 4 digits; not part of a longer number. Every
# separator a client reference may contain counts (``-``, ``+``, ``_``, ``.``, space, en dash):
# ``811218_9871`` and ``811218.9871`` are personnummer too.
_ID_CANDIDATE = re.compile(r"(?<!\d)(\d{6}|\d{8})\s?[-+_.–]?\s?(\d{4})(?!\d)")

PERSONNUMMER_MESSAGE_SV = (
    "Klientreferensen ser ut som ett personnummer eller samordningsnummer. "
    "Sådana får inte sparas här – använd den anonyma referensen från verksamhetssystemet."
)
FORMAT_MESSAGE_SV = (
    "Klientreferensen får bara innehålla bokstäver (a–z), siffror, punkt, bindestreck och understreck, "
    "högst 64 tecken."
)


def luhn_ok(digits: str) -> bool:
    """Luhn check over the ten digits YYMMDDNNNC (the Swedish control digit rule)."""
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _plausible_date(yymmdd_or_ccyymmdd: str) -> bool:
    """A real calendar date, also when the day has 60 added (samordningsnummer)."""
    if len(yymmdd_or_ccyymmdd) == 8:
        century, rest = yymmdd_or_ccyymmdd[:2], yymmdd_or_ccyymmdd[2:]
        if century not in {"18", "19", "20"}:
            return False
        years = [int(century + rest[:2])]
    else:
        rest = yymmdd_or_ccyymmdd
        years = [1900 + int(rest[:2]), 2000 + int(rest[:2])]
    month, day = int(rest[2:4]), int(rest[4:6])
    if day > 60:
        day -= 60
    for year in years:
        try:
            date(year, month, day)
        except ValueError:
            continue
        return True
    return False


def looks_like_personal_number(text: str) -> bool:
    """True when ``text`` contains a date-shaped 10/12-digit number that passes Luhn, or *is* one.

    A value that consists only of such a number is refused even with a wrong control digit (a
    mistyped personnummer is still a personnummer); inside longer text the Luhn check avoids
    refusing ordinary reference numbers that merely contain a date.
    """
    compact = text.strip()
    for match in _ID_CANDIDATE.finditer(compact):
        date_part, serial = match.group(1), match.group(2)
        if not _plausible_date(date_part):
            continue
        whole_value = match.start() == 0 and match.end() == len(compact)
        if whole_value or luhn_ok(date_part[-6:] + serial):
            return True
    return False


def client_ref_problem(raw: str) -> str | None:
    """Return a Swedish message when ``raw`` is not an acceptable client reference, else None."""
    value = raw.strip()
    if not value:
        return "Ange klientreferens."
    if looks_like_personal_number(value):
        return PERSONNUMMER_MESSAGE_SV
    if not CLIENT_REF_PATTERN.match(value):
        return FORMAT_MESSAGE_SV
    return None
