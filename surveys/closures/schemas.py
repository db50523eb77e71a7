"""Form and JSON shapes for closures (msgspec), and form validation that reports every field.

Why validate field by field here when ``register_closure`` validates too: a person filling in a
form should see all problems at once, next to each field; the service stays the single
authority (it re-checks everything, and its message is shown if it still refuses).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Annotated

import msgspec

from feedback.core.errors import DomainError
from surveys.closures.identifiers import client_ref_problem
from surveys.closures.service import ClosureInput, parse_date, parse_language, parse_reason


class ClosureFormData(msgspec.Struct, kw_only=True):
    """The register form as posted (every field a string; checkboxes present only when ticked)."""

    unit: str = ""
    client_ref: str = ""
    phone: str = ""
    language: str = "sv"
    closed_on: str = ""
    reason: str = ""
    consent_on: str = ""
    consent_channel: str = ""
    consent_given_by: str = ""
    do_not_contact: str = ""
    protected_identity: str = ""


def _phone_problem(raw: str) -> str | None:
    from notifications.phone import InvalidPhoneNumber, normalise_mobile

    try:
        normalise_mobile(raw)
    except InvalidPhoneNumber as exc:
        return exc.message_sv
    return None


def validate_closure_form(
    form: ClosureFormData, unit_ids: Iterable[uuid.UUID], *, today: date
) -> tuple[dict[str, str], uuid.UUID | None, ClosureInput | None]:
    """Return (errors by field, unit id, input for the service)."""
    errors: dict[str, str] = {}
    units = set(unit_ids)
    unit_id: uuid.UUID | None = None
    try:
        unit_id = uuid.UUID(form.unit) if form.unit else None
    except ValueError:
        unit_id = None
    if unit_id is None or unit_id not in units:
        errors["unit"] = "Välj en av dina enheter."
    if problem := client_ref_problem(form.client_ref):
        errors["client_ref"] = problem
    if form.phone.strip() and (problem := _phone_problem(form.phone)):
        errors["phone"] = problem

    def check(field: str, parse: object) -> object:
        try:
            return parse()  # type: ignore[operator]
        except DomainError as exc:
            errors[field] = exc.message
            return None

    closed_on = check(
        "closed_on", lambda: parse_date(form.closed_on, field_name="closed_on", label="avslutsdatum")
    )
    if isinstance(closed_on, date) and closed_on > today:
        errors["closed_on"] = "Avslutsdatumet kan inte ligga i framtiden."
    check("reason", lambda: parse_reason(form.reason))
    check("language", lambda: parse_language(form.language))
    consent_on = check(
        "consent_on",
        lambda: parse_date(
            form.consent_on, field_name="consent_on", label="datum för samtycke", required=False
        ),
    )
    if isinstance(consent_on, date):
        if consent_on > today:
            errors["consent_on"] = "Datumet för samtycke kan inte ligga i framtiden."
        if not form.consent_channel:
            errors["consent_channel"] = "Välj hur samtycket gavs."
        if not form.consent_given_by:
            errors["consent_given_by"] = "Välj vem som gav samtycket."
    elif form.consent_channel or form.consent_given_by:
        errors.setdefault("consent_on", "Ange datum för samtycket.")
    if errors:
        return errors, unit_id, None
    return (
        errors,
        unit_id,
        ClosureInput(
            client_ref=form.client_ref,
            closed_on=form.closed_on,
            reason=form.reason,
            phone=form.phone.strip() or None,
            language=form.language,
            consent_on=form.consent_on or None,
            consent_channel=form.consent_channel or None,
            consent_given_by=form.consent_given_by or None,
            do_not_contact=bool(form.do_not_contact),
            protected_identity=bool(form.protected_identity),
        ),
    )


# ---------------------------------------------------------------- JSON API
Str64 = Annotated[str, msgspec.Meta(max_length=64)]
Str40 = Annotated[str, msgspec.Meta(max_length=40)]


class ClosureCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/closures``: one closure. ``unit`` is the unit's code (or id)."""

    unit: Str64
    client_ref: Str64
    closed_on: date
    reason: Str40
    phone: Str40 | None = None
    language: Str40 | None = None
    consent_on: date | None = None
    consent_channel: Str40 | None = None
    consent_given_by: Str40 | None = None
    do_not_contact: bool | None = None
    protected_identity: bool | None = None


class FollowUpOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    wave_days: int
    channel: str
    due_on: date
    window_end: date
    status: str
    skip_reason: str | None


class ClosureOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    unit_id: uuid.UUID
    client_ref: str | None
    closed_on: date
    reason: str
    returned_on: date | None
    language: str
    phone_masked: str | None
    do_not_contact: bool
    protected_identity: bool
    consent_on: date | None
    consent_withdrawn: bool
    status: str
    next_follow_up: FollowUpOut | None


class ClosureDetailOut(ClosureOut, kw_only=True):
    follow_ups: list[FollowUpOut]


class ClosureCreated(msgspec.Struct, kw_only=True):
    created: bool
    changed: bool
    closure: ClosureDetailOut


class ClosurePage(msgspec.Struct, kw_only=True):
    total: int
    limit: int
    offset: int
    items: list[ClosureOut]


class ClosureBatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/closures/batch``: up to 1000 closures, each as for ``POST /api/closures``."""

    closures: Annotated[list[ClosureCreate], msgspec.Meta(min_length=1, max_length=1000)]


class BatchRejection(msgspec.Struct, kw_only=True):
    row: int
    message: str
    client_ref: str


class ClosureBatchResult(msgspec.Struct, kw_only=True):
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: list[BatchRejection]
