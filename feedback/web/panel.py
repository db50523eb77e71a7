"""Panel pages: managers create rounds and invite members; members write reflections."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import invitations
from feedback.auth.models import Role, Unit
from feedback.core.errors import DomainError, InvalidInput
from feedback.panel import service
from feedback.reports.suppression import MIN_PEOPLE
from feedback.web.guards import current_user, requires_role

PRIVATE_HEADERS = {"Cache-Control": "no-store"}


class RoundForm(msgspec.Struct):
    unit_id: str = ""
    title: str = ""
    prompts: str = ""
    opens_on: str = ""
    closes_on: str = ""


class InviteForm(msgspec.Struct):
    unit_id: str = ""
    email: str = ""


class ReflectionForm(msgspec.Struct):
    prompt_index: str = "0"
    text: str = ""
    importance: str = ""
    quote_consent: str = ""


class ConsentForm(msgspec.Struct):
    consent: str = ""


def _uuid(raw: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise InvalidInput("Välj ett giltigt alternativ.", field=field) from exc


def _date(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput("Skriv datumet som ÅÅÅÅ-MM-DD.", field=field) from exc


async def _units(session: AsyncSession, request: Request[Any, Any, Any]) -> list[Unit]:
    import sqlalchemy as sa

    user = current_user(request)
    query = sa.select(Unit).order_by(Unit.name)
    if not user.is_admin:
        query = query.where(Unit.id.in_(user.unit_ids))
    return list(await session.scalars(query))


class PanelManagerController(Controller):
    """Managers: list and create rounds, invite members, read a round's redacted reflections."""

    path = "/panel/manage"
    guards = [requires_role(Role.MANAGER)]  # noqa: RUF012 - Litestar reads this class attribute

    async def _page(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, **extra: Any
    ) -> Template:
        user = current_user(request)
        today = service.local_today(request.app.state.clock.now())
        context = {
            "rounds": await service.rounds_for_units(db_session, service.scope_of(user)),
            "units": await _units(db_session, request),
            "today": today,
            "default_close": today + timedelta(days=21),
            "error": None,
            "field": None,
            "form": RoundForm(),
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
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        return await self._page(request, db_session)

    @post("/rounds", status_code=303)
    async def create_round(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[RoundForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        try:
            panel_round = await service.create_round(
                db_session,
                user=current_user(request),
                unit_id=_uuid(data.unit_id, "unit_id"),
                title=data.title,
                prompts=data.prompts.splitlines(),
                opens_on=_date(data.opens_on, "opens_on"),
                closes_on=_date(data.closes_on, "closes_on"),
            )
        except DomainError as exc:
            await db_session.rollback()
            return await self._page(request, db_session, error=exc.message, field=exc.field, form=data)
        # Commit before answering: the session store writes through its own connection.
        await db_session.commit()
        return Redirect(path=f"/panel/manage/rounds/{panel_round.id}", status_code=303)

    @post("/invite", status_code=200)
    async def invite(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[InviteForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        settings = request.app.state.settings
        try:
            _, url = await invitations.create_invitation(
                db_session,
                email=data.email,
                role=Role.PANEL_MEMBER,
                unit_id=_uuid(data.unit_id, "unit_id"),
                invited_by=current_user(request),
                ttl=timedelta(hours=settings.invitation_ttl_hours),
                base_url=settings.public_url,
                now=request.app.state.clock.now(),
            )
        except DomainError as exc:
            await db_session.rollback()
            return await self._page(request, db_session, invite_error=exc.message)
        await db_session.commit()
        return await self._page(request, db_session, invite_url=url)

    @get("/rounds/{round_id:uuid}", name="panel_manage_round")
    async def round_page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        round_id: FromPath[uuid.UUID],
    ) -> Template:
        panel_round = await service.get_round(db_session, user=current_user(request), round_id=round_id)
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


class PanelMemberController(Controller):
    """Panel members: open rounds, own reflections, consent, published "ni sa – vi gjorde"."""

    path = "/panel"
    guards = [requires_role(Role.PANEL_MEMBER)]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", name="panel_home")
    async def home(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        user = current_user(request)
        today = service.local_today(request.app.state.clock.now())
        return Template(
            "panel/home.html",
            context={
                "rounds": await service.open_rounds(db_session, user=user, today=today),
                "mine": await service.my_reflections(db_session, user=user),
                "items": await service.published_items(db_session, user.unit_ids),
                "today": today,
            },
            headers=PRIVATE_HEADERS,
        )

    async def _round_page(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        round_id: FromPath[uuid.UUID],
        *,
        error: str | None = None,
        field: str | None = None,
        failed_index: int | None = None,
        draft: ReflectionForm | None = None,
        saved: bool = False,
    ) -> Template:
        panel_round, own = await service.member_round(
            db_session, user=current_user(request), round_id=round_id
        )
        today = service.local_today(request.app.state.clock.now())
        return Template(
            "panel/round.html",
            context={
                "round": panel_round,
                "own": own,
                "is_open": panel_round.is_open(today),
                "error": error,
                "field": field,
                "failed_index": failed_index,
                "draft": draft,
                "saved": saved,
            },
            status_code=400 if error else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/rounds/{round_id:uuid}", name="panel_round")
    async def round_page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        round_id: FromPath[uuid.UUID],
    ) -> Template:
        saved = request.query_params.get("sparad") == "1"
        return await self._round_page(request, db_session, round_id, saved=saved)

    @post("/rounds/{round_id:uuid}", status_code=303)
    async def save(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        round_id: FromPath[uuid.UUID],
        data: Annotated[ReflectionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        index: int | None = None
        try:
            try:
                index = int(data.prompt_index)
                importance = int(data.importance) if data.importance.strip() else None
            except ValueError as exc:
                raise InvalidInput("Välj hur viktigt det är på en skala 1–5.", field="importance") from exc
            await service.save_reflection(
                db_session,
                user=current_user(request),
                round_id=round_id,
                prompt_index=index,
                text=data.text,
                importance=importance,
                quote_consent=bool(data.quote_consent),
                now=request.app.state.clock.now(),
                pseudonym_key=request.app.state.settings.index_key,
                redact=request.app.state.overrides.get("redact"),
            )
        except InvalidInput as exc:
            await db_session.rollback()
            return await self._round_page(
                request,
                db_session,
                round_id,
                error=exc.message,
                field=exc.field,
                failed_index=index,
                draft=data,
            )
        await db_session.commit()
        return Redirect(path=f"/panel/rounds/{round_id}?sparad=1", status_code=303)

    @post("/reflections/{reflection_id:uuid}/consent", status_code=303)
    async def consent(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        reflection_id: FromPath[uuid.UUID],
        data: Annotated[ConsentForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        await service.set_consent(
            db_session,
            user=current_user(request),
            reflection_id=reflection_id,
            consent=data.consent == "ja",
            now=request.app.state.clock.now(),
        )
        await db_session.commit()
        return Redirect(path="/panel/", status_code=303)


ROUTES = [PanelManagerController, PanelMemberController]
