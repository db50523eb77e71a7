"""Review (översyn) pages for managers: snapshot, findings, actions, publishing to the panel."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Annotated, Any, ClassVar

import msgspec
import sqlalchemy as sa
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, Unit
from feedback.core.clock import Clock
from feedback.core.errors import InvalidInput
from feedback.core.settings import Settings
from feedback.panel.service import local_today
from feedback.reports import reviews
from feedback.reports.models import ACTION_STATUS_LABELS_SV, Review
from feedback.reports.suppression import display
from feedback.themes.decisions import current_codebook
from feedback.web import forms
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role

PRIVATE_HEADERS = {"Cache-Control": "no-store"}
DONE_SV = {
    "fynd": "Fyndet är sparat.",
    "atgard": "Åtgärden är sparad.",
    "status": "Statusen är ändrad.",
    "publicerad": "Åtgärden är publicerad på panelens sida ”Ni sa – vi gjorde”.",
}


DATE_SV = "Skriv datumet som ÅÅÅÅ-MM-DD."
CHOICE_SV = "Välj ett giltigt alternativ."


class ReviewForm(forms.Form, kw_only=True):
    unit_id: uuid.UUID
    title: str = ""
    period_from: date
    period_to: date
    messages: ClassVar[dict[str, str]] = {"unit_id": CHOICE_SV, "period_from": DATE_SV, "period_to": DATE_SV}


class FindingForm(forms.Form):
    text: str = ""
    theme_keys: list[str] = msgspec.field(default_factory=list)
    quote_ids: list[uuid.UUID] = msgspec.field(default_factory=list)
    messages: ClassVar[dict[str, str]] = {"quote_ids": CHOICE_SV}


class ActionForm(forms.Form):
    title: str = ""
    owner: str = ""
    due_on: date | None = None
    finding_id: uuid.UUID | None = None
    messages: ClassVar[dict[str, str]] = {"due_on": DATE_SV, "finding_id": CHOICE_SV}


class PublishForm(forms.Form):
    you_said: str = ""
    we_did: str = ""
    send_sms: str = ""
    sms_text: str = ""


class ReviewController(Controller):
    path = "/reviews"
    guards = [requires_role(Role.MANAGER)]  # noqa: RUF012 - Litestar reads this class attribute

    async def _index(
        self,
        db_session: AsyncSession,
        user: CurrentUser,
        clock: Clock,
        errors: forms.FormErrors | None = None,
        **extra: Any,
    ) -> Template:
        query = sa.select(Unit).order_by(Unit.name)
        if not user.is_admin:
            query = query.where(Unit.id.in_(user.unit_ids))
        units = list(await db_session.scalars(query))
        today = local_today(clock.now())  # Swedish calendar day, not UTC
        context = {
            "reviews": await reviews.reviews_for(db_session, user),
            "units": units,
            "unit_names": {u.id: u.name for u in units},
            "form": {
                "period_from": (today - timedelta(days=365)).isoformat(),
                "period_to": today.isoformat(),
            },
            **(errors.context() if errors else forms.NO_ERRORS),
        }
        context.update(extra)
        return Template(
            "reviews/index.html",
            context=context,
            status_code=400 if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/", name="reviews_index")
    async def index(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
    ) -> Template:
        return await self._index(db_session, user, clock)

    @post("/", status_code=303, name="reviews_create")
    async def create(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        async def create() -> Review:
            form = forms.parse(ReviewForm, data)
            return await reviews.create_review(
                db_session,
                user=user,
                unit_id=form.unit_id,
                title=form.title,
                period_from=form.period_from,
                period_to=form.period_to,
                now=clock.now(),
            )

        return await forms.submit(
            db_session,
            create,
            invalid=lambda errors: self._index(db_session, user, clock, errors, form=forms.values(data)),
            done=lambda review: forms.redirect(f"/reviews/{review.id}"),
            catch=InvalidInput,
        )

    async def _review(
        self,
        db_session: AsyncSession,
        user: CurrentUser,
        review_id: uuid.UUID,
        *,
        notice: str = "",
        errors: forms.FormErrors | None = None,
        error_for: str | None = None,
    ) -> Template:
        review = await reviews.get_review(db_session, user=user, review_id=review_id)
        if await reviews.mark_withdrawn_quotes(db_session):  # consent withdrawn by any path: never shown
            await db_session.commit()  # now, not after the response: the session store writes too
        codebook = await current_codebook(db_session)
        context = {
            "review": review,
            "unit": await db_session.get(Unit, review.unit_id),
            "snapshot_themes": review.snapshot.get("themes", []),
            "snapshot_total": review.snapshot.get("respondents"),
            "display": display,
            "findings": await reviews.findings_of(db_session, review),
            "actions": await reviews.actions_of(db_session, review),
            "status_labels": ACTION_STATUS_LABELS_SV,
            "codebook": codebook,
            "themes": [t for t in codebook.active],
            "quotes": await reviews.quotable(db_session, review),
            "done": DONE_SV.get(notice),
            **(errors.context() if errors else forms.NO_ERRORS),
            "error_for": error_for,
        }
        return Template(
            "reviews/review.html",
            context=context,
            status_code=400 if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/{review_id:uuid}", name="reviews_review")
    async def review(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        review_id: FromPath[uuid.UUID],
        notice: Annotated[str, QueryParameter(name=forms.NOTICE_PARAM)] = "",
    ) -> Template:
        return await self._review(db_session, user, review_id, notice=notice)

    async def _add_to_review(
        self,
        db_session: AsyncSession,
        user: CurrentUser,
        clock: Clock,
        review_id: uuid.UUID,
        data: forms.RawForm,
        schema: type[forms.Form],
        add: Callable[..., Awaitable[Any]],
        *,
        error_for: str,
        notice: str,
        fragment: str,
    ) -> Response[Any]:
        """A finding or an action: the form's fields are the service's keyword arguments."""

        async def action() -> Any:
            fields = msgspec.structs.asdict(forms.parse(schema, data))
            return await add(db_session, user=user, review_id=review_id, now=clock.now(), **fields)

        return await forms.submit(
            db_session,
            action,
            invalid=lambda errors: self._review(
                db_session, user, review_id, errors=errors, error_for=error_for
            ),
            done=lambda _: forms.redirect(f"/reviews/{review_id}", notice, fragment=fragment),
            catch=InvalidInput,
        )

    @post("/{review_id:uuid}/findings", status_code=303, name="reviews_add_finding")
    async def add_finding(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        review_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        return await self._add_to_review(
            db_session, user, clock, review_id, data, FindingForm, reviews.add_finding,
            error_for="finding", notice="fynd", fragment="fynd",
        )  # fmt: skip

    @post("/{review_id:uuid}/actions", status_code=303, name="reviews_add_action")
    async def add_action(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        review_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        return await self._add_to_review(
            db_session, user, clock, review_id, data, ActionForm, reviews.add_action,
            error_for="action", notice="atgard", fragment="atgarder",
        )  # fmt: skip

    @post("/actions/{action_id:uuid}/status", status_code=303, name="reviews_action_status")
    async def status(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        action_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Redirect:
        status = forms.values(data).get("status", "")
        action = await reviews.set_status(db_session, user=user, action_id=action_id, status=status)
        await db_session.commit()
        return forms.redirect(f"/reviews/{action.review_id}", "status", fragment="atgarder")

    @post("/actions/{action_id:uuid}/publish", status_code=303, name="reviews_action_publish")
    async def publish(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        action_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.parse(PublishForm, data)

        async def invalid(errors: forms.FormErrors) -> Template:
            action, review = await reviews.get_action(db_session, user, action_id)
            return await self._review(
                db_session, user, review.id, errors=errors, error_for=f"publish-{action.id}"
            )

        async def published(_: object) -> Redirect:
            action, _review = await reviews.get_action(db_session, user, action_id)
            return forms.redirect(f"/reviews/{action.review_id}", "publicerad", fragment="atgarder")

        return await forms.submit(
            db_session,
            lambda: reviews.publish_action(
                db_session,
                user=user,
                action_id=action_id,
                you_said=form.you_said,
                we_did=form.we_did,
                sms_text=form.sms_text if form.send_sms else None,
                settings=settings,
                now=clock.now(),
            ),
            invalid=invalid,
            done=published,
        )


ROUTES = [ReviewController]
