"""Theme management pages (managers): rename, merge, split, create, retire, move, proposals.

Every form posts one decision; the service stores it as a durable rule and applies it at once.
Pages show only the manager's units' answers (redacted), and reading them is audited.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core import audit
from feedback.core.clock import Clock
from feedback.core.errors import InvalidInput, NotFound
from feedback.core.settings import Settings
from feedback.reports.suppression import MIN_PEOPLE
from feedback.themes import decisions, proposals, queries, retraining, theming
from feedback.web import forms
from feedback.web.auth import client_ip
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from nlp.codebook import FALLBACK_KEY

PRIVATE_HEADERS = {"Cache-Control": "no-store"}
DONE_SV = {
    "skapat": "Temat är skapat.",
    "bytt-namn": "Temat har fått nytt namn.",
    "sammanslaget": "Temana är sammanslagna. Svaren räknas nu under det tema du valde.",
    "delat": "Temat är delat. Träna om modellen så att svaren fördelas på de nya temana.",
    "avvecklat": "Temat är avvecklat.",
    "flyttat": "Svaret är flyttat. Beslutet gäller även efter omträning.",
    "omtraning": "Omträningen är beställd. Den görs i bakgrunden, så du kan fortsätta arbeta.",
    "omtraning-pagar": "En omträning pågår redan. Du behöver inte beställa en till.",
    "upptackt": "Sökningen efter nya teman är klar.",
    "beslut": "Ditt beslut om förslaget är sparat.",
}


class LabelForm(forms.Form):
    label_sv: str = ""
    description: str = ""


class SplitForm(forms.Form):
    label_a: str = ""
    label_b: str = ""


class MoveForm(forms.Form):
    from_key: str = ""
    to_key: str = ""


class ProposalForm(forms.Form):
    action: str = ""
    label_sv: str = ""
    target_key: str = ""


def _scope(user: CurrentUser) -> frozenset[uuid.UUID] | None:
    return None if user.is_admin else user.unit_ids


class ThemeController(Controller):
    path = "/themes"
    guards = [requires_role(Role.MANAGER)]  # noqa: RUF012 - Litestar reads this class attribute

    # ------------------------------------------------------------ pages
    async def _index(
        self,
        db_session: AsyncSession,
        user: CurrentUser,
        *,
        notice: str = "",
        errors: forms.FormErrors | None = None,
    ) -> Template:
        codebook = await decisions.current_codebook(db_session)
        counts = await queries.theme_counts(db_session, _scope(user))
        context = {
            "themes": [t for t in codebook.active],
            "retired": [t for t in codebook.themes.values() if not t.active],
            "codebook": codebook,
            "counts": counts,
            "min_people": MIN_PEOPLE,
            "proposals": await proposals.visible_proposals(db_session, user=user),
            "retrain": await retraining.latest_request(db_session),
            # a new query on every render, so following the link always reloads the page (a link
            # that differs from the current address only in its #fragment would just scroll)
            "retrain_refresh": f"/themes/?lage={secrets.token_hex(4)}#tran-om",
            "fallback": FALLBACK_KEY,
            "done": DONE_SV.get(notice),
            **(errors.context() if errors else forms.NO_ERRORS),
        }
        return Template(
            "themes/index.html",
            context=context,
            status_code=400 if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/", name="themes_index")
    async def index(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        notice: Annotated[str, QueryParameter(name=forms.NOTICE_PARAM)] = "",
    ) -> Template:
        return await self._index(db_session, user, notice=notice)

    async def _theme(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        user: CurrentUser,
        key: str,
        *,
        notice: str = "",
        errors: forms.FormErrors | None = None,
    ) -> Template:
        codebook = await decisions.current_codebook(db_session)
        theme = codebook.themes.get(key)
        if theme is None:
            raise NotFound("Temat finns inte.")
        answers = await queries.answers_with_theme(db_session, key, _scope(user))
        await audit.record(
            db_session,
            actor_id=user.id,
            action="open_text.read",
            subject_type="theme",
            subject_id=key,
            reason="temahantering",
            client_ip=client_ip(request),
            detail={"answers": len(answers)},
        )
        await db_session.commit()
        context = {
            "theme": theme,
            "codebook": codebook,
            "answers": answers,
            "targets": [t for t in codebook.active if t.key != key],
            "done": DONE_SV.get(notice),
            **(errors.context() if errors else forms.NO_ERRORS),
        }
        return Template(
            "themes/theme.html",
            context=context,
            status_code=400 if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/t/{key:str}", name="themes_theme")
    async def theme(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        key: FromPath[str],
        notice: Annotated[str, QueryParameter(name=forms.NOTICE_PARAM)] = "",
    ) -> Template:
        return await self._theme(request, db_session, user, key, notice=notice)

    # ------------------------------------------------------------ codebook decisions
    async def _decide(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        user: CurrentUser,
        clock: Clock,
        kind: str,
        payload: Callable[[], Awaitable[dict[str, Any]]],
        *,
        done: str,
        page_key: str | None,
    ) -> Response[Any]:
        """Record one codebook decision; ``payload`` may refuse the form with ``InvalidInput``."""

        async def record() -> None:
            event = await payload()
            await decisions.record_theme_event(
                db_session, user=user, kind=kind, payload=event, now=clock.now()
            )

        async def invalid(errors: forms.FormErrors) -> Template:
            if page_key is not None:
                return await self._theme(request, db_session, user, page_key, errors=errors)
            return await self._index(db_session, user, errors=errors)

        target = f"/themes/t/{page_key}" if page_key and kind == "rename" else "/themes/"
        return await forms.submit(
            db_session, record, invalid=invalid, done=lambda _: forms.redirect(target, done)
        )

    @post("/create", status_code=303, name="themes_create")
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.parse(LabelForm, data)

        async def payload() -> dict[str, Any]:
            label = form.label_sv.strip()
            if not label or len(label) > 200:
                raise InvalidInput("Skriv ett namn för temat (högst 200 tecken).", field="label_sv")
            codebook = await decisions.current_codebook(db_session)
            if any(t.label_sv.casefold() == label.casefold() for t in codebook.active):
                raise InvalidInput("Det finns redan ett tema med det namnet.", field="label_sv")
            event = {"key": decisions.slug_key(label, codebook.themes), "label_sv": label}
            if form.description.strip():
                event["description"] = form.description.strip()[:1000]
            return event

        return await self._decide(
            request, db_session, user, clock, "add", payload, done="skapat", page_key=None
        )

    @post("/t/{key:str}/rename", status_code=303, name="themes_rename")
    async def rename(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        key: FromPath[str],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        label = forms.parse(LabelForm, data).label_sv.strip()

        async def payload() -> dict[str, Any]:
            if not label or len(label) > 200:
                raise InvalidInput("Skriv ett nytt namn (högst 200 tecken).", field="label_sv")
            return {"key": key, "label_sv": label}

        return await self._decide(
            request, db_session, user, clock, "rename", payload, done="bytt-namn", page_key=key
        )

    @post("/t/{key:str}/merge", status_code=303, name="themes_merge")
    async def merge(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        key: FromPath[str],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        into = forms.values(data).get("into", "")

        async def payload() -> dict[str, Any]:
            return {"key": key, "into": into}

        return await self._decide(
            request, db_session, user, clock, "merge", payload, done="sammanslaget", page_key=key
        )

    @post("/t/{key:str}/split", status_code=303, name="themes_split")
    async def split(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        key: FromPath[str],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.parse(SplitForm, data)

        async def payload() -> dict[str, Any]:
            labels = [form.label_a.strip(), form.label_b.strip()]
            if not all(labels) or labels[0].casefold() == labels[1].casefold() or max(map(len, labels)) > 200:
                raise InvalidInput("Skriv två olika namn för de nya temana.", field="label_a")
            codebook = await decisions.current_codebook(db_session)
            taken = set(codebook.themes)
            parts = []
            for label in labels:
                new_key = decisions.slug_key(label, taken)
                taken.add(new_key)
                parts.append({"key": new_key, "label_sv": label})
            return {"key": key, "into": parts}

        return await self._decide(
            request, db_session, user, clock, "split", payload, done="delat", page_key=key
        )

    @post("/t/{key:str}/retire", status_code=303, name="themes_retire")
    async def retire(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        key: FromPath[str],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        async def payload() -> dict[str, Any]:
            return {"key": key}

        return await self._decide(
            request, db_session, user, clock, "retire", payload, done="avvecklat", page_key=key
        )

    # ------------------------------------------------------------ answers, model, discovery
    @post("/answers/{open_text_id:uuid}/move", status_code=303, name="themes_move")
    async def move(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        open_text_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.parse(MoveForm, data)

        async def invalid(errors: forms.FormErrors) -> Template:
            # Whatever the service blames, the user fixes it in the "move to" choice.
            refused = forms.FormErrors.single(errors.message, "to_key", errors.status_code)
            return await self._theme(request, db_session, user, form.from_key or FALLBACK_KEY, errors=refused)

        return await forms.submit(
            db_session,
            lambda: decisions.move_answer(
                db_session,
                user=user,
                open_text_id=open_text_id,
                from_key=form.from_key,
                to_key=form.to_key,
                now=clock.now(),
            ),
            invalid=invalid,
            done=lambda _: forms.redirect(f"/themes/t/{form.from_key or form.to_key}", "flyttat"),
            catch=InvalidInput,
        )

    @post("/retrain", status_code=303, name="themes_retrain")
    async def retrain(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[forms.RawForm],
    ) -> Redirect:
        """Record a retraining request for the worker and answer at once (no training here).

        Training and re-theming every answer takes far longer than a request should; the
        worker's theming job does it and the page shows how far it has come.
        """
        _, created = await retraining.request_retrain(db_session, user_id=user.id, now=clock.now())
        await db_session.commit()
        return forms.redirect("/themes/", "omtraning" if created else "omtraning-pagar", fragment="tran-om")

    @post("/discover", status_code=303, name="themes_discover")
    async def discover(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[forms.RawForm],
    ) -> Redirect:
        model = await theming.load_or_train_model(settings.model_dir)
        await proposals.run_discovery(db_session, user=user, model=model, now=clock.now())
        await db_session.commit()
        return forms.redirect("/themes/", "upptackt", fragment="forslag")

    @post("/proposals/{proposal_id:str}", status_code=303, name="themes_decide")
    async def decide(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        proposal_id: FromPath[str],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.parse(ProposalForm, data)
        return await forms.submit(
            db_session,
            lambda: proposals.decide(
                db_session,
                user=user,
                proposal_id=proposal_id,
                action=form.action,
                label_sv=form.label_sv,
                target_key=form.target_key,
                now=clock.now(),
            ),
            invalid=lambda errors: self._index(db_session, user, errors=errors),
            done=lambda _: forms.redirect("/themes/", "beslut", fragment="forslag"),
            catch=InvalidInput,
        )


ROUTES = [ThemeController]
