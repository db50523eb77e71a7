"""Review (översyn) pages for managers: snapshot, findings, actions, publishing to the panel.

Findings and actions are edited on pages of their own (plain forms, no script needed). Publishing
cannot be undone (the panel sees it, SMS go out), so it takes two posts: the publish form answers
with a confirm page that shows exactly what will be published and to how many the SMS goes, and
only the confirm page's button (``bekrafta=ja``) publishes. A review prints to PDF (WeasyPrint)
from the same printable page a browser can open.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Annotated, Any, ClassVar

import anyio
import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, Unit
from feedback.core.clock import Clock
from feedback.core.errors import InvalidInput
from feedback.core.settings import Settings
from feedback.panel.models import PublishedItem
from feedback.panel.service import local_today
from feedback.reports import exports, reviews
from feedback.reports.models import ACTION_STATUS_LABELS_SV, Review, published_label
from feedback.reports.suppression import display
from feedback.themes.decisions import current_codebook
from feedback.web import forms
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from surveys.texts.shipped import languages

PRIVATE_HEADERS = {"Cache-Control": "no-store"}
DONE_SV = {
    "fynd": "Fyndet är sparat.",
    "atgard": "Åtgärden är sparad.",
    "status": "Statusen är ändrad.",
    "publicerad": "Åtgärden är publicerad på panelens sida ”Ni sa – vi gjorde”.",
    "fynd-andrat": "Ändringen av fyndet är sparad.",
    "atgard-andrad": "Ändringen av åtgärden är sparad. Inga nya sms skickas.",
}
CONFIRM_PARAM = "bekrafta"


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


class ActionEditForm(forms.Form):
    title: str = ""
    owner: str = ""
    due_on: date | None = None
    finding_id: uuid.UUID | None = None
    status: str = ""
    you_said: str = ""
    we_did: str = ""
    messages: ClassVar[dict[str, str]] = {"due_on": DATE_SV, "finding_id": CHOICE_SV}


class PublishForm(forms.Form):
    you_said: str = ""
    we_did: str = ""
    send_sms: str = ""
    sms_text: str = ""
    bekrafta: str = ""


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
        listed = await reviews.reviews_for(db_session, user)
        context = {
            "reviews": listed,
            "overdue": await reviews.overdue_counts(db_session, [r.id for r in listed], today),
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

    async def _review_context(
        self, db_session: AsyncSession, user: CurrentUser, clock: Clock, review_id: uuid.UUID
    ) -> dict[str, Any]:
        """What the review page and its printable (PDF) version show."""
        review = await reviews.get_review(db_session, user=user, review_id=review_id)
        if await reviews.mark_withdrawn_quotes(db_session):  # consent withdrawn by any path: never shown
            await db_session.commit()  # now, not after the response: the session store writes too
        codebook = await current_codebook(db_session)
        actions = await reviews.actions_of(db_session, review)
        today = local_today(clock.now())
        return {
            "review": review,
            "unit": await db_session.get(Unit, review.unit_id),
            "snapshot_themes": review.snapshot.get("themes", []),
            "snapshot_total": review.snapshot.get("respondents"),
            "display": display,
            "findings": await reviews.findings_of(db_session, review),
            "actions": actions,
            "overdue": {a.id for a in actions if reviews.is_overdue(a, today)},
            "today": today,
            "published_label": published_label,
            "default_sms_text": reviews.default_sms_text,
            "status_labels": ACTION_STATUS_LABELS_SV,
            "codebook": codebook,
        }

    async def _review(
        self,
        db_session: AsyncSession,
        user: CurrentUser,
        clock: Clock,
        review_id: uuid.UUID,
        *,
        notice: str = "",
        errors: forms.FormErrors | None = None,
        error_for: str | None = None,
    ) -> Template:
        context = await self._review_context(db_session, user, clock, review_id)
        review, codebook = context["review"], context["codebook"]
        context |= {
            "themes": [t for t in codebook.active],
            "quotes": await reviews.quotable(db_session, review),
            "done": DONE_SV.get(notice),
            **(errors.context() if errors else forms.NO_ERRORS),
            "error_for": error_for,
        }
        return Template(
            "reviews/review.html",
            context=context,
            status_code=errors.status_code if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/{review_id:uuid}", name="reviews_review")
    async def review(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        review_id: FromPath[uuid.UUID],
        notice: Annotated[str, QueryParameter(name=forms.NOTICE_PARAM)] = "",
    ) -> Template:
        return await self._review(db_session, user, clock, review_id, notice=notice)

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
                db_session, user, clock, review_id, errors=errors, error_for=error_for
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
        clock: NamedDependency[AppClock],
        action_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Redirect:
        status = forms.values(data).get("status", "")
        action = await reviews.set_status(
            db_session, user=user, action_id=action_id, status=status, now=clock.now()
        )
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
        sms_text = form.sms_text if form.send_sms else None

        async def invalid(errors: forms.FormErrors) -> Template:
            action, review = await reviews.get_action(db_session, user, action_id)
            # already published (409): its publish form is gone, so say it above the action table
            where = "action" if action.published_item_id else f"publish-{action.id}"
            return await self._review(db_session, user, clock, review.id, errors=errors, error_for=where)

        if form.bekrafta != "ja":  # first post: check, then ask for confirmation; nothing is written

            async def confirm() -> Template:
                plan = await reviews.prepare_publication(
                    db_session,
                    user=user,
                    action_id=action_id,
                    you_said=form.you_said,
                    we_did=form.we_did,
                    sms_text=sms_text,
                    settings=settings,
                )
                return Template(
                    "reviews/confirm_publish.html",
                    context={"plan": plan, "send_sms": form.send_sms, "languages": languages()},
                    headers=PRIVATE_HEADERS,
                )

            return await forms.submit(db_session, confirm, invalid=invalid, done=lambda page: page)

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
                sms_text=sms_text,
                settings=settings,
                now=clock.now(),
            ),
            invalid=invalid,
            done=published,
        )

    # ------------------------------------------------------------ editing
    async def _finding_page(
        self,
        db_session: AsyncSession,
        user: CurrentUser,
        finding_id: uuid.UUID,
        *,
        errors: forms.FormErrors | None = None,
        posted: forms.RawForm | None = None,
    ) -> Template:
        finding, review = await reviews.get_finding(db_session, user, finding_id)
        codebook = await current_codebook(db_session)
        offered = await reviews.quotable(db_session, review, limit=200)
        linked = {q["open_text_id"] for q in finding.quotes}
        if posted is not None:  # re-rendered after a refusal: show what was posted
            form = forms.values(posted)
            chosen_themes = set(_as_list(posted.get("theme_keys")))
            chosen_quotes = set(_as_list(posted.get("quote_ids")))
        else:
            form = {"text": finding.text}
            chosen_themes, chosen_quotes = set(finding.theme_keys), linked
        offered_ids = {str(q.id) for q in offered}
        return Template(
            "reviews/edit_finding.html",
            context={
                "review": review,
                "finding": finding,
                "form": form,
                "themes": list(codebook.active),
                "chosen_themes": chosen_themes,
                "quotes": offered,
                "chosen_quotes": chosen_quotes,
                "lost_quotes": [q for q in finding.quotes if q["open_text_id"] not in offered_ids],
                **(errors.context() if errors else forms.NO_ERRORS),
            },
            status_code=errors.status_code if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/findings/{finding_id:uuid}/andra", name="reviews_edit_finding")
    async def edit_finding(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        finding_id: FromPath[uuid.UUID],
    ) -> Template:
        return await self._finding_page(db_session, user, finding_id)

    @post("/findings/{finding_id:uuid}", status_code=303, name="reviews_update_finding")
    async def update_finding(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        finding_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        async def update() -> Any:
            form = forms.parse(FindingForm, data)
            return await reviews.update_finding(
                db_session,
                user=user,
                finding_id=finding_id,
                text=form.text,
                theme_keys=form.theme_keys,
                quote_ids=form.quote_ids,
                now=clock.now(),
            )

        return await forms.submit(
            db_session,
            update,
            invalid=lambda errors: self._finding_page(
                db_session, user, finding_id, errors=errors, posted=data
            ),
            done=lambda f: forms.redirect(f"/reviews/{f.review_id}", "fynd-andrat", fragment=f"fynd-{f.id}"),
            catch=InvalidInput,
        )

    async def _action_page(
        self,
        db_session: AsyncSession,
        user: CurrentUser,
        action_id: uuid.UUID,
        *,
        errors: forms.FormErrors | None = None,
        posted: forms.RawForm | None = None,
    ) -> Template:
        action, review = await reviews.get_action(db_session, user, action_id)
        item = (
            await db_session.get(PublishedItem, action.published_item_id)
            if action.published_item_id
            else None
        )
        if posted is not None:
            form = forms.values(posted)
        else:
            form = {
                "title": action.title,
                "owner": action.owner,
                "due_on": action.due_on.isoformat() if action.due_on else "",
                "finding_id": str(action.finding_id) if action.finding_id else "",
                "status": action.status.value,
                "you_said": item.you_said if item else "",
                "we_did": item.we_did if item else "",
            }
        return Template(
            "reviews/edit_action.html",
            context={
                "review": review,
                "action": action,
                "item": item,
                "form": form,
                "findings": await reviews.findings_of(db_session, review),
                "status_labels": ACTION_STATUS_LABELS_SV,
                "published_label": published_label,
                **(errors.context() if errors else forms.NO_ERRORS),
            },
            status_code=errors.status_code if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/actions/{action_id:uuid}/andra", name="reviews_edit_action")
    async def edit_action(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        action_id: FromPath[uuid.UUID],
    ) -> Template:
        return await self._action_page(db_session, user, action_id)

    @post("/actions/{action_id:uuid}", status_code=303, name="reviews_update_action")
    async def update_action(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        action_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        async def update() -> Any:
            form = forms.parse(ActionEditForm, data)
            # the published texts are edited only when the page offered them (a published action)
            return await reviews.update_action(
                db_session,
                user=user,
                action_id=action_id,
                title=form.title,
                owner=form.owner,
                due_on=form.due_on,
                finding_id=form.finding_id,
                status=form.status,
                now=clock.now(),
                you_said=form.you_said if "you_said" in data else None,
                we_did=form.we_did if "we_did" in data else None,
            )

        return await forms.submit(
            db_session,
            update,
            invalid=lambda errors: self._action_page(db_session, user, action_id, errors=errors, posted=data),
            done=lambda a: forms.redirect(f"/reviews/{a.review_id}", "atgard-andrad", fragment="atgarder"),
            catch=InvalidInput,
        )

    # ------------------------------------------------------------ printing
    @get("/{review_id:uuid}/utskrift", name="reviews_print")
    async def printable(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        review_id: FromPath[uuid.UUID],
    ) -> Template:
        context = await self._review_context(db_session, user, clock, review_id)
        return Template("reviews/print.html", context={**context, "for_pdf": False}, headers=PRIVATE_HEADERS)

    @get("/{review_id:uuid}/oversyn.pdf", name="reviews_pdf", media_type="application/pdf")
    async def pdf(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        review_id: FromPath[uuid.UUID],
    ) -> Response[bytes]:
        context = await self._review_context(db_session, user, clock, review_id)
        engine = request.app.template_engine
        assert engine is not None  # configured in create_app
        html = engine.get_template("reviews/print.html").render(
            **context, for_pdf=True, request=request, csrf_input=""
        )
        data = await anyio.to_thread.run_sync(exports.pdf_bytes, html, str(request.base_url))
        return Response(
            data,
            media_type="application/pdf",
            headers={**PRIVATE_HEADERS, "Content-Disposition": 'attachment; filename="oversyn.pdf"'},
        )


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


ROUTES = [ReviewController]
