"""Dev phone page: see the SMS the fake Twilio "delivered" and answer as the phone would.

Only mounted with ``FEEDBACK_DEV_TOOLS=1`` and the fake gateway (``make run``), for admins. A
reply typed here goes to the fake Twilio, which posts it to the app's real, signed inbound
webhook, so a newcomer sees the whole loop (question → reply → stored → next message) without
Twilio. Numbers are shown unmasked here on purpose: they are demo numbers on a dev server.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import httpx
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from feedback.auth.models import Role
from feedback.core.settings import Settings
from feedback.web import forms
from feedback.web.guards import requires_role
from notifications.gateways.factory import fake_base_url

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_REPLY_CHARS = 1600
SENT = "skickat"


class ReplyForm(forms.Form):
    number: str = ""
    body: str = ""


_RTL_LETTERS = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")  # Hebrew, Arabic, Syriac, Thaana …


def script_of(text: str) -> dict[str, str]:
    """``lang``/``dir`` for one SMS bubble: Arabic script is shown right to left, the rest as written.

    The fake Twilio does not know the language, so the letters decide (``dir="auto"`` otherwise).
    """
    if _RTL_LETTERS.search(text):
        return {"text_lang": "ar", "text_dir": "rtl"}
    return {"text_lang": "", "text_dir": "auto"}


async def _fake_get(settings: Settings, params: dict[str, str]) -> dict[str, Any]:
    base = fake_base_url(settings)
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        response = await client.get(f"{base}/_fake/messages", params=params)
        response.raise_for_status()
        return response.json()


class DevPhoneController(Controller):
    path = "/dev/phone"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - Litestar's declarative attribute

    @get("/", name="dev-phone")
    async def page(
        self,
        settings: NamedDependency[Settings],
        number: Annotated[str, QueryParameter(name="number")] = "",
        notice: Annotated[str, QueryParameter(name=forms.NOTICE_PARAM)] = "",
    ) -> Template:
        message = "Svaret skickades." if notice == SENT else None
        return await self._render(settings, number.strip(), message=message)

    async def _render(
        self,
        settings: Settings,
        number: str,
        *,
        error: str | None = None,
        message: str | None = None,
        body: str = "",
        status_code: int = 200,
    ) -> Template:
        try:
            numbers = (await _fake_get(settings, {})).get("numbers", [])
            conversation = (
                (await _fake_get(settings, {"number": number})).get("messages", []) if number else []
            )
        except httpx.HTTPError:
            numbers, conversation = [], []
            error = error or "Testtelefonen (den lokala Twilio-attrappen) svarar inte."
        return Template(
            "dev/phone.html",
            context={
                "numbers": numbers,
                "number": number,
                "conversation": [{**m, **script_of(str(m.get("body", "")))} for m in conversation],
                **(
                    forms.FormErrors.single(error, "number", status_code).context()
                    if error
                    else forms.NO_ERRORS
                ),
                "message": message,
                "body": body,
            },
            status_code=status_code,
        )

    @post("/reply", status_code=303, name="dev-phone-reply")
    async def reply(
        self,
        settings: NamedDependency[Settings],
        data: URLEncodedBody[forms.RawForm],
    ) -> Redirect | Template:
        """Not ``submit``: nothing is written here (the fake Twilio posts to the real webhook)."""
        form = forms.parse(ReplyForm, data)
        number, body = form.number.strip(), form.body.strip()
        if not E164.match(number):
            return await self._render(
                settings, number, error="Ange numret i formatet +46701234567.", body=body, status_code=400
            )
        if not body or len(body) > MAX_REPLY_CHARS:
            return await self._render(
                settings, number, error="Skriv ett svar (högst 1600 tecken).", body=body, status_code=400
            )
        try:
            async with httpx.AsyncClient(trust_env=False, timeout=20) as client:
                response = await client.post(
                    f"{fake_base_url(settings)}/_fake/inbound", data={"From": number, "Body": body}
                )
            app_status = response.json().get("app_status") if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            app_status = None
        if app_status != 200:
            return await self._render(
                settings,
                number,
                error=f"Svaret kom inte fram till webhooken (svar: {app_status}).",
                body=body,
                status_code=502,
            )
        return forms.redirect("/dev/phone/", SENT, number=number)
