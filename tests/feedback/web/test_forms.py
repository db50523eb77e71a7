"""The one form path: typed parsing with Swedish messages, and submit's transaction rule."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, ClassVar, cast

import msgspec
import pytest
from litestar import Response
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.errors import Conflict, InvalidInput, NotFound
from feedback.web import forms


class RoundLike(forms.Form, kw_only=True):
    unit_id: uuid.UUID
    opens_on: date
    importance: int | None = None
    units: list[uuid.UUID] = msgspec.field(default_factory=list)
    text: str = ""
    messages: ClassVar[dict[str, str]] = {
        "unit_id": "Välj ett giltigt alternativ.",
        "opens_on": "Skriv datumet som ÅÅÅÅ-MM-DD.",
        "importance": "Välj hur viktigt det är på en skala 1–5.",
        "units": "Okänd enhet.",
    }


UNIT = str(uuid.uuid4())


def test_parse_converts_real_types_and_keeps_text_as_typed() -> None:
    form = forms.parse(
        RoundLike,
        {"unit_id": UNIT, "opens_on": " 2026-11-01 ", "importance": "3", "text": " hej ", "units": UNIT},
    )
    assert form.unit_id == uuid.UUID(UNIT) and form.opens_on == date(2026, 11, 1)
    assert form.importance == 3 and form.text == " hej " and form.units == [uuid.UUID(UNIT)]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"unit_id": "nej", "opens_on": "2026-11-01"}, "unit_id"),
        ({"unit_id": UNIT, "opens_on": "1 november"}, "opens_on"),
        ({"unit_id": UNIT, "opens_on": ""}, "opens_on"),  # blank is missing, and it is required
        ({"unit_id": UNIT, "opens_on": "2026-11-01", "importance": "mycket"}, "importance"),
        ({"unit_id": UNIT, "opens_on": "2026-11-01", "units": [UNIT, "x"]}, "units"),
    ],
)
def test_a_wrong_value_is_invalid_input_with_the_fields_swedish_message(
    raw: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        forms.parse(RoundLike, raw)
    assert refused.value.field == field and refused.value.message == RoundLike.messages[field]


def test_form_errors_keep_the_services_per_field_messages() -> None:
    errors = forms.FormErrors.of(InvalidInput("Fel.", field="outcome", detail={"q1": "Välj ett svar."}))
    assert errors.fields == {"q1": "Välj ett svar.", "outcome": "Fel."} and errors.status_code == 400
    assert forms.FormErrors.of(Conflict("Redan ändrad.")).context() == {
        "error": "Redan ändrad.",
        "field": None,
        "errors": {"form": "Redan ändrad."},
    }


def test_notice_url_is_the_one_convention() -> None:
    assert forms.notice_url("/themes/", "skapat", fragment="forslag") == "/themes/?klart=skapat#forslag"
    assert forms.notice_url("/dev/phone/", "skickat", number="+46701234567") == (
        "/dev/phone/?klart=skickat&number=%2B46701234567"
    )
    assert forms.notice_url("/reviews/1") == "/reviews/1"


class FakeSession:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def commit(self) -> None:
        self.calls.append("commit")

    async def rollback(self) -> None:
        self.calls.append("rollback")


async def _rerender(errors: forms.FormErrors) -> Response[Any]:
    return Response(errors.message, status_code=errors.status_code)


async def test_submit_commits_and_redirects_on_success() -> None:
    session = FakeSession()

    async def action() -> str:
        return "abc"

    answer = await forms.submit(
        cast(AsyncSession, session),
        action,
        invalid=_rerender,
        done=lambda key: forms.redirect(f"/x/{key}", "klar"),
    )
    assert session.calls == ["commit"] and isinstance(answer, Redirect) and answer.status_code == 303
    assert answer.url == "/x/abc?klart=klar"


async def test_submit_rolls_back_and_rerenders_with_the_errors_status() -> None:
    session = FakeSession()

    async def action() -> None:
        raise Conflict("Uppgiften har redan ändrats.")

    answer = await forms.submit(
        cast(AsyncSession, session), action, invalid=_rerender, done=lambda _: Response("")
    )
    assert session.calls == ["rollback"] and answer.status_code == 409


async def test_submit_lets_chosen_statuses_and_other_errors_through() -> None:
    session = FakeSession()

    async def missing() -> None:
        raise NotFound("Finns inte.")

    with pytest.raises(NotFound):
        await forms.submit(
            cast(AsyncSession, session),
            missing,
            invalid=_rerender,
            done=lambda _: Response(""),
            reraise=(404,),
        )
    with pytest.raises(NotFound):  # only InvalidInput is a form mistake here
        await forms.submit(
            cast(AsyncSession, session),
            missing,
            invalid=_rerender,
            done=lambda _: Response(""),
            catch=InvalidInput,
        )
    assert session.calls == ["rollback"]
