"""Admin pages for the text catalogue: texts per language with status, edit with cost, review.

Why server-side preview: the character count, SMS segments and encoding come from the same
function the outbox uses (``segment_info``), so what the page says is what the operator pays.
"Förhandsgranska" re-renders the form with the counts without saving (works without
JavaScript). A text over two segments needs the "jag vet att den kostar mer" box ticked.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter, URLEncodedBody
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.errors import InvalidInput, NotFound
from feedback.web import forms
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from surveys.questionnaires.texts import segment_info
from surveys.texts import service
from surveys.texts.catalogue import Catalogue, is_sms_key
from surveys.texts.shipped import SOURCE, languages, source_keys

NOTICES = {"sparad": "Texten är sparad som utkast.", "granskad": "Texten är markerad som granskad."}


def _language(code: str | None) -> str:
    if code is None:
        return SOURCE
    if code not in languages():
        raise NotFound("Språket finns inte i katalogen.")
    return code


def _cost(body: str) -> dict[str, Any]:
    info = segment_info(body)
    per = (
        (160 if info.segments <= 1 else 153)
        if info.encoding == "GSM-7"
        else (70 if info.segments <= 1 else 67)
    )
    return {"chars": len(body), "units": info.length, "segments": info.segments, "encoding": info.encoding,
            "per_segment": per, "ucs2_chars": "".join(info.ucs2_chars[:10])}  # fmt: skip


def language_summary(catalogue: Catalogue) -> list[dict[str, Any]]:
    """Per language: reviewed, draft and missing counts (also shown on the closure form)."""
    out = []
    for code, info in languages().items():
        reviewed, draft, missing = catalogue.language_status(code)
        out.append({"code": code, "info": info, "reviewed": reviewed, "draft": draft, "missing": missing})
    return out


class TextCatalogueController(Controller):
    path = "/admin/texts"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - Litestar reads the class attribute

    @get("/", name="admin-texts")
    async def index(
        self,
        db_session: NamedDependency[AsyncSession],
        language: Annotated[str | None, QueryParameter(name="sprak", max_length=16)] = None,
    ) -> Template:
        code = _language(language)
        catalogue = await service.load(db_session)
        rows = service.listing(catalogue, code)
        return Template(
            "admin/texts.html",
            context={
                "language": code,
                "info": languages()[code],
                "summary": language_summary(catalogue),
                "rows": rows,
                "is_sms": is_sms_key,
            },
        )

    async def _edit_page(
        self,
        db_session: AsyncSession,
        code: str,
        key: str,
        *,
        status: int = 200,
        body: str | None = None,
        notice: str | None = None,
        acknowledged: bool = False,
        **context: Any,
    ) -> Template:
        if key not in set(source_keys()):
            raise NotFound("Texten finns inte i katalogen.")
        catalogue = await service.load(db_session)
        entry = catalogue.entry(key, code)
        swedish = catalogue.entry(key, SOURCE)
        shown = body if body is not None else (entry.draft_body or entry.body if entry else "")
        base = {
            "language": code,
            "info": languages()[code],
            "key": key,
            "entry": entry,
            "swedish": swedish,
            "body": shown,
            "cost": _cost(shown) if shown else None,
            "sms": is_sms_key(key),
            "notice": NOTICES.get(notice or ""),
            "acknowledged": acknowledged,
            **forms.NO_ERRORS,
        }
        return Template("admin/text_edit.html", context={**base, **context}, status_code=status)

    @get("/text", name="admin-text")
    async def edit(
        self,
        db_session: NamedDependency[AsyncSession],
        key: Annotated[str, QueryParameter(name="nyckel", max_length=120)],
        language: Annotated[str | None, QueryParameter(name="sprak", max_length=16)] = None,
        notice: Annotated[str | None, QueryParameter(name=forms.NOTICE_PARAM, max_length=32)] = None,
    ) -> Template:
        return await self._edit_page(db_session, _language(language), key, notice=notice)

    @post("/text", status_code=303, name="admin-text-save")
    async def save(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.values(data)
        code, key, body = _language(form.get("language")), form.get("key", ""), form.get("body", "")
        acknowledged = form.get("acknowledge") == "ja"

        async def invalid(errors: forms.FormErrors) -> Template:
            return await self._edit_page(db_session, code, key, status=errors.status_code, body=body,
                                         acknowledged=acknowledged, **errors.context())  # fmt: skip

        if form.get("action") == "preview":
            return await self._edit_page(
                db_session, code, key, body=body, acknowledged=acknowledged, preview=True
            )
        return await forms.submit(
            db_session,
            lambda: service.save(
                db_session,
                key=key,
                language=code,
                body=body,
                actor_id=user.id,
                actor_name=user.display_name,
                now=clock.now(),
                acknowledge_long=acknowledged,
            ),
            invalid=invalid,
            done=lambda _: forms.redirect("/admin/texts/text", "sparad", sprak=code, nyckel=key),
            catch=InvalidInput,
        )

    @post("/review", status_code=303, name="admin-text-review")
    async def review(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.values(data)
        code, key = _language(form.get("language")), form.get("key", "")

        async def invalid(errors: forms.FormErrors) -> Template:
            return await self._edit_page(db_session, code, key, status=errors.status_code, **errors.context())

        return await forms.submit(
            db_session,
            lambda: service.mark_reviewed(
                db_session,
                key=key,
                language=code,
                actor_id=user.id,
                actor_name=user.display_name,
                now=clock.now(),
            ),
            invalid=invalid,
            done=lambda _: forms.redirect("/admin/texts/text", "granskad", sprak=code, nyckel=key),
            catch=InvalidInput,
        )
