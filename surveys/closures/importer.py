"""CSV import of closures: pure parsing (``parse_csv``) and the use-case (``import_closures``).

Why split: the file format (UTF-8 with or without BOM, Excel's semicolon exports, Swedish or
English headers, line numbers for every rejected row) is tested without a database; the
use-case then registers each good row through the same ``register_closure`` as the form and the
API, so the personnummer refusal, phone protection and plan expansion are identical everywhere.

Idempotent: the natural key is unit + client_ref + closed_on; re-importing a file changes nothing.
Nothing in a rejection echoes a personnummer or a phone number: the reference shown in the
report is masked whenever it is not an acceptable client reference.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.errors import DomainError, InvalidInput
from surveys.closures.contact import PhoneProtector
from surveys.closures.identifiers import client_ref_problem
from surveys.closures.service import (
    ClosureInput,
    parse_date,
    parse_language,
    parse_reason,
    register_closure,
)

MAX_ROWS = 20_000
# Column names accepted in the header (lower-cased, spaces/underscores/hyphens unified).
HEADER_ALIASES: dict[str, str] = {
    "client_ref": "client_ref",
    "klientreferens": "client_ref",
    "klient_ref": "client_ref",
    "referens": "client_ref",
    "phone": "phone",
    "telefon": "phone",
    "mobil": "phone",
    "mobilnummer": "phone",
    "telefonnummer": "phone",
    "language": "language",
    "sprak": "language",
    "språk": "language",
    "closed_on": "closed_on",
    "avslutsdatum": "closed_on",
    "avslutad": "closed_on",
    "reason": "reason",
    "avslutsorsak": "reason",
    "orsak": "reason",
    "unit": "unit",
    "enhet": "unit",
    "consent_on": "consent_on",
    "samtycke_datum": "consent_on",
    "samtycke": "consent_on",
    "consent_channel": "consent_channel",
    "samtycke_kanal": "consent_channel",
    "consent_given_by": "consent_given_by",
    "samtycke_av": "consent_given_by",
    "do_not_contact": "do_not_contact",
    "kontakta_ej": "do_not_contact",
    "protected_identity": "protected_identity",
    "skyddad_identitet": "protected_identity",
}
REQUIRED_COLUMNS = ("client_ref", "closed_on", "reason")
TRUE_WORDS = frozenset({"1", "ja", "j", "yes", "y", "true", "x", "sant"})
FALSE_WORDS = frozenset({"0", "nej", "n", "no", "false", "falskt"})


class ImportFileError(InvalidInput):
    """The file as a whole cannot be read (encoding, header); nothing was imported."""


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str
    ref: str = ""  # the client reference as shown in the report (masked when not acceptable)


@dataclass(frozen=True)
class ParsedRow:
    line: int
    unit_code: str | None
    data: ClosureInput


@dataclass
class ParsedFile:
    rows: list[ParsedRow] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    delimiter: str = ","


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.created + self.updated

    @property
    def ok(self) -> bool:
        return not self.rejected


def masked_ref(raw: str) -> str:
    """How a client reference appears in a report: as is when acceptable, else digits hidden.

    A personnummer pasted into the column must not reappear in a report, a log or a terminal.
    """
    value = (raw or "").strip()
    if not value:
        return ""
    if client_ref_problem(value) is None:
        return value
    return re.sub(r"\d", "X", value)[:24]


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM); Excel's Windows-1252 export as a fallback."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return content.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ImportFileError("Filen måste vara en textfil i UTF-8 (CSV).", field="file") from exc


def _delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") > first_line.count(",") else ","


def _column(name: str) -> str | None:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    return HEADER_ALIASES.get(key)


def _flag(raw: str, label: str, field_name: str) -> bool | None:
    value = raw.strip().lower()
    if not value:
        return None
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise InvalidInput(f"{label} ska vara ja eller nej.", field=field_name)


def _phone_problem(raw: str) -> str | None:
    from notifications.phone import InvalidPhoneNumber, normalise_mobile

    try:
        normalise_mobile(raw)
    except InvalidPhoneNumber as exc:
        return f"Telefonnumret går inte att använda: {exc.message_sv}"
    return None


def _row_input(values: Mapping[str, str]) -> ClosureInput:
    """Validate one row (pure); raises ``InvalidInput`` with a Swedish message."""
    if problem := client_ref_problem(values.get("client_ref", "")):
        raise InvalidInput(problem, field="client_ref")
    closed_on = parse_date(values.get("closed_on", ""), field_name="closed_on", label="avslutsdatum")
    reason = parse_reason(values.get("reason", ""))
    phone = values.get("phone", "").strip() or None
    if phone and (problem := _phone_problem(phone)):
        raise InvalidInput(problem, field="phone")
    language_raw = values.get("language", "").strip()
    language = parse_language(language_raw) if language_raw else None
    consent_on = parse_date(
        values.get("consent_on", ""), field_name="consent_on", label="datum för samtycke", required=False
    )
    return ClosureInput(
        client_ref=values["client_ref"].strip(),
        closed_on=closed_on or "",
        reason=reason,
        phone=phone,
        language=language,
        consent_on=consent_on,
        consent_channel=values.get("consent_channel", "").strip() or None,
        consent_given_by=values.get("consent_given_by", "").strip() or None,
        do_not_contact=_flag(values.get("do_not_contact", ""), "Kontakta ej", "do_not_contact"),
        protected_identity=_flag(
            values.get("protected_identity", ""), "Skyddad identitet", "protected_identity"
        ),
    )


def parse_csv(content: bytes | str, *, max_rows: int = MAX_ROWS) -> ParsedFile:
    """Read a closures CSV. Every row ends up either in ``rows`` or in ``rejected`` (with its
    line number in the file; the header is line 1). Duplicates inside the file are rejected."""
    text = decode(content) if isinstance(content, bytes) else content.removeprefix("\ufeff")
    if "\x00" in text:
        raise ImportFileError("Filen ser inte ut som en CSV-fil.", field="file")
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise ImportFileError("Filen är tom. Första raden ska vara rubrikerna.", field="file")
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader)
    columns = [_column(h) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ImportFileError(
            "Rubrikraden saknar kolumnen "
            + ", ".join(missing)
            + ". Första raden ska vara: client_ref,phone,language,closed_on,reason,unit",
            field="file",
        )
    result = ParsedFile(delimiter=delimiter)
    seen: dict[tuple[str, str, str], int] = {}
    phones: dict[tuple[str, str], tuple[str, int]] = {}
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            result.rejected.append(
                Rejection(line, "Raden går inte att läsa (citattecken som inte avslutas).")
            )
            break
        if not any(c.strip() for c in cells):
            continue  # blank line (Excel adds them at the end)
        if len(result.rows) + len(result.rejected) >= max_rows:
            raise ImportFileError(f"Filen har fler än {max_rows} rader. Dela upp den.", field="file")
        values = {col: cell for col, cell in zip(columns, cells, strict=False) if col}
        ref = masked_ref(values.get("client_ref", ""))
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            result.rejected.append(
                Rejection(line, f"Raden har fler fält än rubrikraden (avgränsare: {delimiter!r}).", ref)
            )
            continue
        try:
            data = _row_input(values)
        except DomainError as exc:
            result.rejected.append(Rejection(line, exc.message, ref))
            continue
        unit_code = values.get("unit", "").strip() or None
        key = ((unit_code or "").lower(), data.client_ref, str(data.closed_on))
        if key in seen:
            result.rejected.append(
                Rejection(
                    line, f"Dubblett: samma klient och avslutsdatum finns redan på rad {seen[key]}.", ref
                )
            )
            continue
        if data.phone:
            from notifications.phone import normalise_mobile

            number = normalise_mobile(data.phone)
            earlier = phones.setdefault((key[0], data.client_ref), (number, line))
            if earlier[0] != number:
                result.rejected.append(
                    Rejection(line, f"Klienten har ett annat telefonnummer på rad {earlier[1]}.", ref)
                )
                continue
        seen[key] = line
        result.rows.append(ParsedRow(line, unit_code, data))
    return result


async def import_closures(
    session: AsyncSession,
    parsed: ParsedFile,
    *,
    default_unit_id: uuid.UUID | None,
    units_by_code: Mapping[str, uuid.UUID],
    phones: PhoneProtector | None,
    actor_id: uuid.UUID | None,
    now: datetime,
    min_gap_days: int,
) -> ImportReport:
    """Register every parsed row, each in its own savepoint so one bad row never spoils the rest.

    ``units_by_code`` holds the units the importer may write to (lower-cased codes); a row naming
    another unit is rejected. The caller commits.
    """
    report = ImportReport(rows=len(parsed.rows) + len(parsed.rejected), rejected=list(parsed.rejected))
    for row in parsed.rows:
        ref = masked_ref(row.data.client_ref)
        if row.unit_code is not None:
            unit_id = units_by_code.get(row.unit_code.lower())
            if unit_id is None:
                report.rejected.append(
                    Rejection(row.line, "Okänd enhet, eller en enhet du inte har behörighet till.", ref)
                )
                continue
        elif default_unit_id is not None:
            unit_id = default_unit_id
        else:
            report.rejected.append(
                Rejection(row.line, "Ange enhet (kolumnen unit) eller välj en enhet.", ref)
            )
            continue
        try:
            async with session.begin_nested():
                registration = await register_closure(
                    session,
                    unit_id=unit_id,
                    data=row.data,
                    phones=phones,
                    actor_id=actor_id,
                    now=now,
                    min_gap_days=min_gap_days,
                )
        except DomainError as exc:
            report.rejected.append(Rejection(row.line, exc.message, ref))
            continue
        if registration.created:
            report.created += 1
        elif registration.changed:
            report.updated += 1
        else:
            report.unchanged += 1
    report.rejected.sort(key=lambda r: r.line)
    return report
