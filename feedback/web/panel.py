"""Panel pages: managers create rounds and invite members; members write reflections."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any, ClassVar

import sqlalchemy as sa
from litestar import Controller, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import CookieParameter, FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import invitations
from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, Unit
from feedback.core.clock import Clock
from feedback.core.errors import InvalidInput
from feedback.core.settings import Settings
from feedback.panel import service
from feedback.panel.models import PanelRound
from feedback.reports.reviews import mark_withdrawn_quotes
from feedback.reports.suppression import MIN_PEOPLE
from feedback.web import forms
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from surveys.texts import service as texts_service
from surveys.texts.shipped import languages as text_languages
from surveys.texts.shipped import source_keys

PRIVATE_HEADERS = {"Cache-Control": "no-store"}


DATE_SV = "Skriv datumet som ÅÅÅÅ-MM-DD."
CHOICE_SV = "Välj ett giltigt alternativ."
SAVED = "sparad"


class RoundForm(forms.Form, kw_only=True):
    unit_id: uuid.UUID
    title: str = ""
    prompts: str = ""
    opens_on: date
    closes_on: date
    messages: ClassVar[dict[str, str]] = {"unit_id": CHOICE_SV, "opens_on": DATE_SV, "closes_on": DATE_SV}


class InviteForm(forms.Form):
    unit_id: uuid.UUID
    email: str = ""
    messages: ClassVar[dict[str, str]] = {"unit_id": CHOICE_SV}


class ReflectionForm(forms.Form):
    prompt_index: int = 0
    text: str = ""
    importance: int | None = None
    quote_consent: str = ""
    messages: ClassVar[dict[str, str]] = {
        "prompt_index": "Välj hur viktigt det är på en skala 1–5.",
        "importance": "Välj hur viktigt det är på en skala 1–5.",
    }


async def _units(session: AsyncSession, user: CurrentUser) -> list[Unit]:
    query = sa.select(Unit).order_by(Unit.name)
    if not user.is_admin:
        query = query.where(Unit.id.in_(user.unit_ids))
    return list(await session.scalars(query))


class PanelManagerController(Controller):
    """Managers: list and create rounds, invite members, read a round's redacted reflections."""

    path = "/panel/manage"
    guards = [requires_role(Role.MANAGER)]  # noqa: RUF012 - Litestar reads this class attribute

    async def _page(
        self, db_session: AsyncSession, user: CurrentUser, clock: Clock, **extra: Any
    ) -> Template:
        today = service.local_today(clock.now())
        context = {
            "rounds": await service.rounds_for_units(db_session, service.scope_of(user)),
            "units": await _units(db_session, user),
            "today": today,
            "default_close": today + timedelta(days=21),
            **forms.NO_ERRORS,
            "form": {},
            "invite_url": None,
            "invite_error": None,
        }
        context.update(extra)
        return Template(
            "panel/manage.html",
            context=context,
            status_code=400 if extra.get("error") or extra.get("invite_error") else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/", name="panel_manage")
    async def index(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
    ) -> Template:
        return await self._page(db_session, user, clock)

    @post("/rounds", status_code=303, name="panel_manage_create")
    async def create_round(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        async def create() -> PanelRound:
            form = forms.parse(RoundForm, data)
            return await service.create_round(
                db_session,
                user=user,
                unit_id=form.unit_id,
                title=form.title,
                prompts=form.prompts.splitlines(),
                opens_on=form.opens_on,
                closes_on=form.closes_on,
            )

        return await forms.submit(
            db_session,
            create,
            invalid=lambda errors: self._page(
                db_session, user, clock, form=forms.values(data), **errors.context()
            ),
            done=lambda panel_round: forms.redirect(f"/panel/manage/rounds/{panel_round.id}"),
        )

    @post("/invite", status_code=200, name="panel_manage_invite")
    async def invite(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        async def invite() -> str:
            form = forms.parse(InviteForm, data)
            _, url = await invitations.create_invitation(
                db_session,
                email=form.email,
                role=Role.PANEL_MEMBER,
                unit_id=form.unit_id,
                invited_by=user,
                ttl=timedelta(hours=settings.invitation_ttl_hours),
                base_url=settings.public_url,
                now=clock.now(),
            )
            return url

        return await forms.submit(
            db_session,
            invite,
            invalid=lambda errors: self._page(db_session, user, clock, invite_error=errors.message),
            done=lambda url: self._page(db_session, user, clock, invite_url=url),
        )

    @get("/rounds/{round_id:uuid}", name="panel_manage_round")
    async def round_page(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        round_id: FromPath[uuid.UUID],
    ) -> Template:
        panel_round = await service.get_round(db_session, user=user, round_id=round_id)
        summary = await service.round_summary(db_session, panel_round)
        members = await service.round_member_count(db_session, panel_round)
        # Texts are shown only when enough people took part that none can be singled out.
        texts = await service.redacted_reflections(db_session, panel_round) if members >= MIN_PEOPLE else []
        return Template(
            "panel/manage_round.html",
            context={
                "round": panel_round,
                "summary": summary,
                "members": members,
                "texts": texts,
                "min_people": MIN_PEOPLE,
            },
            headers=PRIVATE_HEADERS,
        )


LANGUAGE_COOKIE = "panel_sprak"
PANEL_KEYS = [key for key in source_keys() if key.startswith("panel.")]


class PanelMemberController(Controller):
    """Panel members: open rounds, own reflections, consent, published "ni sa – vi gjorde"."""

    path = "/panel"
    guards = [requires_role(Role.PANEL_MEMBER)]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", name="panel_home")
    async def home(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        chosen: Annotated[str | None, QueryParameter(name="sprak", max_length=16)] = None,
        remembered: Annotated[str | None, CookieParameter(name=LANGUAGE_COOKIE, max_length=16)] = None,
    ) -> Template:
        """The panel page in the member's chosen language (kept in a cookie; Swedish by default)."""
        today = service.local_today(clock.now())
        offered = text_languages()
        language: str = next((c for c in (chosen, remembered) if c is not None and c in offered), "sv")
        catalogue = await texts_service.load(db_session)
        words = {key.removeprefix("panel."): catalogue.resolve(key, language).body for key in PANEL_KEYS}
        cookies = [
            Cookie(key=LANGUAGE_COOKIE, value=language, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
        ] if chosen in offered else []  # fmt: skip
        return Template(
            "panel/home.html",
            context={
                "rounds": await service.open_rounds(db_session, user=user, today=today),
                "mine": await service.my_reflections(db_session, user=user),
                "items": await service.published_items(db_session, user.unit_ids),
                "today": today,
                "t": words,
                "page_language": language,
                "page_lang": language.split("-")[0],
                "page_dir": offered[language].direction,
                "offered_languages": offered,
            },
            headers=PRIVATE_HEADERS,
            cookies=cookies,
        )

    async def _round_page(
        self,
        db_session: AsyncSession,
        user: CurrentUser,
        clock: Clock,
        round_id: uuid.UUID,
        *,
        errors: forms.FormErrors | None = None,
        failed_index: int | None = None,
        draft: dict[str, str] | None = None,
        saved: bool = False,
    ) -> Template:
        panel_round, own = await service.member_round(db_session, user=user, round_id=round_id)
        today = service.local_today(clock.now())
        return Template(
            "panel/round.html",
            context={
                "round": panel_round,
                "own": own,
                "is_open": panel_round.is_open(today),
                **(errors.context() if errors else forms.NO_ERRORS),
                "failed_index": failed_index,
                "draft": draft,
                "saved": saved,
            },
            status_code=400 if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/rounds/{round_id:uuid}", name="panel_round")
    async def round_page(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        round_id: FromPath[uuid.UUID],
        notice: Annotated[str, QueryParameter(name=forms.NOTICE_PARAM)] = "",
    ) -> Template:
        return await self._round_page(db_session, user, clock, round_id, saved=notice == SAVED)

    @post("/rounds/{round_id:uuid}", status_code=303, name="panel_round_save")
    async def save(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        redact: NamedDependency[Callable[[str], str] | None],
        round_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        posted = forms.values(data)
        index = int(posted["prompt_index"]) if posted.get("prompt_index", "").isdigit() else None

        async def save() -> None:
            form = forms.parse(ReflectionForm, data)
            await service.save_reflection(
                db_session,
                user=user,
                round_id=round_id,
                prompt_index=form.prompt_index,
                text=form.text,
                importance=form.importance,
                quote_consent=bool(form.quote_consent),
                now=clock.now(),
                pseudonym_key=settings.index_key,
                redact=redact,
            )
            if not form.quote_consent:  # unticked: no review finding may keep it as a quote
                await mark_withdrawn_quotes(db_session)

        return await forms.submit(
            db_session,
            save,
            invalid=lambda errors: self._round_page(
                db_session, user, clock, round_id, errors=errors, failed_index=index, draft=posted
            ),
            done=lambda _: forms.redirect(f"/panel/rounds/{round_id}", SAVED),
            catch=InvalidInput,
        )

    @post("/reflections/{reflection_id:uuid}/consent", status_code=303, name="panel_consent")
    async def consent(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        reflection_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Redirect:
        await service.set_consent(
            db_session,
            user=user,
            reflection_id=reflection_id,
            consent=forms.values(data).get("consent") == "ja",
            now=clock.now(),
        )
        await mark_withdrawn_quotes(db_session)  # a withdrawn quote leaves review findings at once
        await db_session.commit()
        return Redirect(path="/panel/", status_code=303)


ROUTES = [PanelManagerController, PanelMemberController]
