"""Unit settings page (``/admin/units/{unit_id}/installningar``): SMS sender name, send window,
holidays. Admins only; changes are audited by the service (``feedback.auth.unit_settings``)."""

from __future__ import annotations

import re
import uuid
from datetime import time
from typing import Annotated, Any, ClassVar

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import unit_settings
from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.errors import InvalidInput
from feedback.core.settings import Settings
from feedback.web import forms
from feedback.web.auth import client_ip
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role


class SettingsForm(forms.Form):
    sender_name: str = ""
    weekdays: list[int] = []  # noqa: RUF012 - msgspec copies defaults
    start: str = ""
    end: str = ""
    holidays: str = ""
    messages: ClassVar[dict[str, str]] = {
        "weekdays": "Välj dagar i listan.",
    }


class UnitSettingsController(Controller):
    path = "/admin/units/{unit_id:uuid}/installningar"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - read by Litestar

    async def _page(
        self, session: AsyncSession, settings: Settings, unit_id: uuid.UUID, *, status_code: int = 200,
        form: dict[str, Any] | None = None, **context: Any,
    ) -> Template:  # fmt: skip
        current = await unit_settings.load(session, unit_id)
        w = current.window
        shown = form or {
            "sender_name": current.unit.sms_sender_name or "",
            "weekdays": [str(d) for d in sorted(w.weekdays)],
            "start": f"{w.start:%H:%M}",
            "end": f"{w.end:%H:%M}",
            "holidays": "ja" if w.skip_holidays else "",
        }
        base = {"unit": current.unit, "form": shown, "days": unit_settings.DAY_LABELS_SV,
                "default_sender": settings.sms_sender_name, "saved": False, **forms.NO_ERRORS}  # fmt: skip
        return Template("admin/unit_settings.html", context={**base, **context}, status_code=status_code)

    @get("/", name="admin-unit-settings")
    async def show(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        unit_id: FromPath[uuid.UUID],
        notice: Annotated[str | None, QueryParameter(name=forms.NOTICE_PARAM, max_length=32)] = None,
    ) -> Template:
        return await self._page(db_session, settings, unit_id, saved=notice == "sparad")

    @post("/", status_code=303, name="admin-unit-settings-save")
    async def save(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        unit_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        shown: dict[str, Any] = {**forms.values(data), "weekdays": forms_list(data, "weekdays")}

        async def action() -> unit_settings.UnitSettings:
            form = forms.parse(SettingsForm, data)
            if any(not 0 <= d <= 6 for d in form.weekdays):
                raise InvalidInput("Välj dagar i listan.", field="weekdays")
            start, end = clock_time(form.start, "start"), clock_time(form.end, "end")
            return await unit_settings.save(
                db_session, unit_id, sender_name=form.sender_name, weekdays=frozenset(form.weekdays),
                start=start, end=end, skip_holidays=bool(form.holidays), actor_id=user.id,
                now=clock.now(), client_ip=client_ip(request),
            )  # fmt: skip

        async def invalid(errors: forms.FormErrors) -> Template:
            return await self._page(
                db_session, settings, unit_id, status_code=errors.status_code, form=shown, **errors.context()
            )

        return await forms.submit(
            db_session,
            action,
            invalid=invalid,
            done=lambda _: forms.redirect(f"/admin/units/{unit_id}/installningar/", "sparad"),
            reraise=(404,),
        )


def clock_time(raw: str, field: str) -> time:
    """``09:00`` (what a time input sends; seconds allowed) as a time, else a Swedish 400."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?", raw.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidInput("Skriv tiden som TT:MM, till exempel 09:00.", field=field)
    return time(int(match[1]), int(match[2]))


def forms_list(data: forms.RawForm, key: str) -> list[str]:
    raw = data.get(key, [])
    return [raw] if isinstance(raw, str) else list(raw)
