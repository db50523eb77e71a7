"""One form path for every page: parse the posted form, call the service, answer.

Transaction rule for controllers
--------------------------------
The request's ``db_session`` (``feedback.web.db_session``) never commits on its own: the plugin
only provides and closes it, and closing rolls back whatever was not committed. A controller commits
explicitly, once, right before it answers:

* form posts go through :func:`submit`: commit on success, roll back on a ``DomainError`` and
  re-render the form with the error's 4xx status, the posted values and per-field messages;
* the few other writes (the audit event of a read, claiming a call, an export) call
  ``await db_session.commit()`` themselves before they answer.

Why not the plugin's autocommit hook: it committed behind the controller's back (two owners of
one transaction), rolled back every 4xx answer (a failed login's throttle row needed a manual
commit anyway) and swallowed commit errors while still answering 2xx/303.

Success notices
---------------
A successful post answers ``303`` to the page that shows the result, with the notice key in one
query parameter, :data:`NOTICE_PARAM` (``?klart=<key>``); each page maps its keys to Swedish text.
(``?klart=`` rather than ``?notice=``: more redirects used it, and it is Swedish like the other
parameters users see: ``sida``, ``enhet``, ``tema``.)

Parsing
-------
:func:`parse` turns the raw urlencoded form into a msgspec struct with real types (``uuid.UUID``,
``date``, ``int`` …). A value that does not convert raises ``InvalidInput`` with the Swedish
message the struct declares for that field, so the form is re-rendered with a 400 and a message
next to the field, never answered with a generic validation error or a 500. That is why handlers
take the body as ``URLEncodedBody[RawForm]`` and parse it themselves: Litestar decoding straight
into a typed struct would refuse a wrong date with its generic 400 page instead of the form.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlencode

import msgspec
import msgspec.inspect
from litestar import Response
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.errors import DomainError, InvalidInput

NOTICE_PARAM = "klart"

T = TypeVar("T")
S = TypeVar("S", bound="Form")

# What Litestar hands a handler for ``URLEncodedBody[RawForm]``: a repeated key becomes a list.
RawForm = dict[str, str | list[str]]


class Form(msgspec.Struct):
    """Base of the typed forms: ``messages`` says what to tell the user when a field is wrong."""

    messages: ClassVar[dict[str, str]] = {}


def values(raw: Mapping[str, Any]) -> dict[str, str]:
    """The posted values as strings (the first of repeated keys): what a re-rendered form shows."""
    return {
        key: (value[0] if value else "") if isinstance(value, list) else str(value)
        for key, value in raw.items()
    }


NUL_MESSAGE_SV = "Uppgiften innehåller ett tecken som inte kan tas emot. Skriv in den igen."


def parse(schema: type[S], raw: Mapping[str, Any]) -> S:
    """The raw form as ``schema``; a value that does not convert raises ``InvalidInput``.

    Blank values count as absent, so an optional field falls back to its default and a required
    one reports its own message. Text fields are passed on as typed (a password may end in a
    space). Fields are checked in the order given: the first wrong field is reported, as the
    hand-written parsers did.
    """
    cleaned: dict[str, Any] = {}
    kinds = _field_kinds(schema)
    for name in schema.__struct_fields__:
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, str) and kinds[name] == "list":
            value = [value]  # one ticked checkbox arrives as a string, several as a list
        if any("\x00" in v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)):
            # No one types a NUL; PostgreSQL cannot store one in text (it would be a 500 there)
            raise InvalidInput(NUL_MESSAGE_SV, field=name)
        if isinstance(value, list):
            value = [v.strip() for v in value if isinstance(v, str) and v.strip()]
        elif not value.strip():
            continue
        elif kinds[name] != "str":
            value = value.strip()  # " 2026-01-01" is a date; text fields keep what was typed
        cleaned[name] = value
    try:
        return msgspec.convert(cleaned, type=schema, strict=False)
    except msgspec.ValidationError as exc:
        name = _failed_field(str(exc), schema)
        raise InvalidInput(schema.messages.get(name, "Kontrollera uppgiften."), field=name) from exc


@functools.cache
def _field_kinds(schema: type[Form]) -> dict[str, str]:
    """``str``, ``list`` or ``other`` per field: how a raw value is cleaned before conversion."""
    info = msgspec.inspect.type_info(schema)
    assert isinstance(info, msgspec.inspect.StructType)
    kinds = {}
    for f in info.fields:
        kind = "other"
        if isinstance(f.type, msgspec.inspect.StrType):
            kind = "str"
        elif isinstance(f.type, msgspec.inspect.ListType):
            kind = "list"
        kinds[f.name] = kind
    return kinds


def _failed_field(message: str, schema: type[Form]) -> str:
    """The field msgspec names in its error (``… at `$.field``` or ``missing required field `x```)."""
    for name in schema.__struct_fields__:
        if f"`$.{name}`" in message or f"`$.{name}[" in message or f"field `{name}`" in message:
            return name
    return "form"


@dataclasses.dataclass(frozen=True)
class FormErrors:
    """Why a form was refused: what the page re-renders with.

    ``fields`` maps a field name to its message (``form`` when no field is to blame); a service
    may refuse several fields at once by passing that dict as the error's ``detail``.
    """

    message: str
    status_code: int = 400
    field: str | None = None
    fields: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, exc: DomainError) -> FormErrors:
        fields = {str(k): str(v) for k, v in exc.detail.items()} if isinstance(exc.detail, dict) else {}
        fields.setdefault(exc.field or "form", exc.message)
        return cls(message=exc.message, status_code=exc.status_code, field=exc.field, fields=fields)

    @classmethod
    def single(cls, message: str, field: str | None = None, status_code: int = 400) -> FormErrors:
        """A refusal the controller itself decides (no service call needed)."""
        return cls(message=message, status_code=status_code, field=field, fields={field or "form": message})

    def context(self) -> dict[str, Any]:
        """The template variables every form template reads: ``error``, ``field``, ``errors``."""
        return {"error": self.message, "field": self.field, "errors": self.fields}


NO_ERRORS: dict[str, Any] = {"error": None, "field": None, "errors": {}}


def notice_url(path: str, notice: str | None = None, *, fragment: str = "", **query: Any) -> str:
    """``path?klart=<notice>&…#fragment`` (the one success-notice convention)."""
    params = {**({NOTICE_PARAM: notice} if notice else {}), **query}
    url = f"{path}?{urlencode(params)}" if params else path
    return f"{url}#{fragment}" if fragment else url


def redirect(path: str, notice: str | None = None, *, fragment: str = "", **query: Any) -> Redirect:
    return Redirect(path=notice_url(path, notice, fragment=fragment, **query), status_code=303)


Rerender = Callable[[FormErrors], Awaitable[Response[Any]]]


async def submit(
    db_session: AsyncSession,
    action: Callable[[], Awaitable[T]],
    *,
    invalid: Rerender,
    done: Callable[[T], Response[Any] | Awaitable[Response[Any]]],
    catch: type[DomainError] = DomainError,
    reraise: Collection[int] = (),
) -> Response[Any]:
    """Call the service; on ``catch`` roll back and re-render, else commit and answer ``done``.

    ``done`` gets the action's result and usually returns :func:`redirect` (303 with the notice);
    pages that show the result at once (a one-time invitation link) render it instead.
    ``reraise``: statuses that go to the error page rather than back to the form (a record
    outside the user's units is "not found", not a form mistake).
    """
    try:
        result = await action()
    except catch as exc:
        await db_session.rollback()
        if exc.status_code in reraise:
            raise
        return await invalid(FormErrors.of(exc))
    await db_session.commit()
    answer = done(result)
    return await answer if isinstance(answer, Awaitable) else answer
