"""Theme management pages (managers): rename, merge, split, create, retire, move, proposals.

Every form posts one decision; the service stores it as a durable rule and applies it at once.
Pages show only the manager's units' answers (redacted), and reading them is audited.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core import audit
from feedback.core.errors import DomainError, InvalidInput, NotFound
from feedback.reports.suppression import MIN_PEOPLE
from feedback.themes import decisions, proposals, queries, retraining, theming
from feedback.web.guards import current_user, requires_role
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


class LabelForm(msgspec.Struct):
    label_sv: str = ""
    description: str = ""


class MergeForm(msgspec.Struct):
    into: str = ""


class SplitForm(msgspec.Struct):
    label_a: str = ""
    label_b: str = ""


class EmptyForm(msgspec.Struct):
    confirm: str = ""


class MoveForm(msgspec.Struct):
    from_key: str = ""
    to_key: str = ""


class ProposalForm(msgspec.Struct):
    action: str = ""
    label_sv: str = ""
    target_key: str = ""


def _scope(request: Request[Any, Any, Any]) -> frozenset[uuid.UUID] | None:
    user = current_user(request)
    return None if user.is_admin else user.unit_ids


def _model_dir(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.settings.model_dir


class ThemeController(Controller):
    path = "/themes"
    guards = [requires_role(Role.MANAGER)]  # noqa: RUF012 - Litestar reads this class attribute

    # ------------------------------------------------------------ pages
    async def _index(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, **extra: Any
    ) -> Template:
        codebook = await decisions.current_codebook(db_session)
        counts = await queries.theme_counts(db_session, _scope(request))
        context = {
            "themes": [t for t in codebook.active],
            "retired": [t for t in codebook.themes.values() if not t.active],
            "codebook": codebook,
            "counts": counts,
            "min_people": MIN_PEOPLE,
            "proposals": await proposals.visible_proposals(db_session, user=current_user(request)),
            "retrain": await retraining.latest_request(db_session),
            # a new query on every render, so following the link always reloads the page (a link
            # that differs from the current address only in its #fragment would just scroll)
            "retrain_refresh": f"/themes/?lage={secrets.token_hex(4)}#tran-om",
            "fallback": FALLBACK_KEY,
            "done": DONE_SV.get(request.query_params.get("klart", "")),
            "error": None,
            "field": None,
        }
        context.update(extra)
        return Template(
            "themes/index.html",
            context=context,
            status_code=400 if extra.get("error") else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/", name="themes_index")
    async def index(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        return await self._index(request, db_session)

    async def _theme(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, key: str, **extra: Any
    ) -> Template:
        codebook = await decisions.current_codebook(db_session)
        theme = codebook.themes.get(key)
        if theme is None:
            raise NotFound("Temat finns inte.")
        answers = await queries.answers_with_theme(db_session, key, _scope(request))
        user = current_user(request)
        await audit.record(
            db_session,
            actor_id=user.id,
            action="open_text.read",
            subject_type="theme",
            subject_id=key,
            reason="temahantering",
            client_ip=request.client.host if request.client else None,
            detail={"answers": len(answers)},
        )
        await db_session.commit()
        context = {
            "theme": theme,
            "codebook": codebook,
            "answers": answers,
            "targets": [t for t in codebook.active if t.key != key],
            "done": DONE_SV.get(request.query_params.get("klart", "")),
            "error": None,
            "field": None,
        }
        context.update(extra)
        return Template(
            "themes/theme.html",
            context=context,
            status_code=400 if extra.get("error") else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/t/{key:str}", name="themes_theme")
    async def theme(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], key: FromPath[str]
    ) -> Template:
        return await self._theme(request, db_session, key)

    # ------------------------------------------------------------ codebook decisions
    async def _event(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        kind: str,
        payload: dict[str, Any],
        *,
        done: str,
        page_key: str | None,
    ) -> Redirect | Template:
        try:
            await decisions.record_theme_event(
                db_session,
                user=current_user(request),
                kind=kind,
                payload=payload,
                now=request.app.state.clock.now(),
            )
        except DomainError as exc:
            await db_session.rollback()
            if page_key is not None:
                return await self._theme(request, db_session, page_key, error=exc.message, field=exc.field)
            return await self._index(request, db_session, error=exc.message, field=exc.field)
        await db_session.commit()
        target = f"/themes/t/{page_key}" if page_key and kind in ("rename",) else "/themes/"
        return Redirect(path=f"{target}?klart={done}", status_code=303)

    @post("/create", status_code=303)
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[LabelForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        label = data.label_sv.strip()
        if not label or len(label) > 200:
            return await self._index(
                request, db_session, error="Skriv ett namn för temat (högst 200 tecken).", field="label_sv"
            )
        codebook = await decisions.current_codebook(db_session)
        if any(t.label_sv.casefold() == label.casefold() for t in codebook.active):
            return await self._index(
                request, db_session, error="Det finns redan ett tema med det namnet.", field="label_sv"
            )
        payload = {"key": decisions.slug_key(label, codebook.themes), "label_sv": label}
        if data.description.strip():
            payload["description"] = data.description.strip()[:1000]
        return await self._event(request, db_session, "add", payload, done="skapat", page_key=None)

    @post("/t/{key:str}/rename", status_code=303)
    async def rename(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        key: FromPath[str],
        data: Annotated[LabelForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        label = data.label_sv.strip()
        if not label or len(label) > 200:
            return await self._theme(
                request, db_session, key, error="Skriv ett nytt namn (högst 200 tecken).", field="label_sv"
            )
        return await self._event(
            request, db_session, "rename", {"key": key, "label_sv": label}, done="bytt-namn", page_key=key
        )

    @post("/t/{key:str}/merge", status_code=303)
    async def merge(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        key: FromPath[str],
        data: Annotated[MergeForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        return await self._event(
            request, db_session, "merge", {"key": key, "into": data.into}, done="sammanslaget", page_key=key
        )

    @post("/t/{key:str}/split", status_code=303)
    async def split(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        key: FromPath[str],
        data: Annotated[SplitForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        labels = [data.label_a.strip(), data.label_b.strip()]
        if not all(labels) or labels[0].casefold() == labels[1].casefold() or max(map(len, labels)) > 200:
            return await self._theme(
                request, db_session, key, error="Skriv två olika namn för de nya temana.", field="label_a"
            )
        codebook = await decisions.current_codebook(db_session)
        taken = set(codebook.themes)
        parts = []
        for label in labels:
            new_key = decisions.slug_key(label, taken)
            taken.add(new_key)
            parts.append({"key": new_key, "label_sv": label})
        return await self._event(
            request, db_session, "split", {"key": key, "into": parts}, done="delat", page_key=key
        )

    @post("/t/{key:str}/retire", status_code=303)
    async def retire(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        key: FromPath[str],
        data: Annotated[EmptyForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        return await self._event(request, db_session, "retire", {"key": key}, done="avvecklat", page_key=key)

    # ------------------------------------------------------------ answers, model, discovery
    @post("/answers/{open_text_id:uuid}/move", status_code=303)
    async def move(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        open_text_id: FromPath[uuid.UUID],
        data: Annotated[MoveForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        try:
            await decisions.move_answer(
                db_session,
                user=current_user(request),
                open_text_id=open_text_id,
                from_key=data.from_key,
                to_key=data.to_key,
                now=request.app.state.clock.now(),
            )
        except InvalidInput as exc:
            await db_session.rollback()
            return await self._theme(
                request, db_session, data.from_key or FALLBACK_KEY, error=exc.message, field="to_key"
            )
        await db_session.commit()
        back = data.from_key if data.from_key else data.to_key
        return Redirect(path=f"/themes/t/{back}?klart=flyttat", status_code=303)

    @post("/retrain", status_code=303)
    async def retrain(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[EmptyForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """Record a retraining request for the worker and answer at once (no training here).

        Training and re-theming every answer takes far longer than a request should; the
        worker's theming job does it and the page shows how far it has come.
        """
        _, created = await retraining.request_retrain(
            db_session, user_id=current_user(request).id, now=request.app.state.clock.now()
        )
        await db_session.commit()
        done = "omtraning" if created else "omtraning-pagar"
        return Redirect(path=f"/themes/?klart={done}#tran-om", status_code=303)

    @post("/discover", status_code=303)
    async def discover(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[EmptyForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        model = await theming.load_or_train_model(_model_dir(request))
        await proposals.run_discovery(
            db_session, user=current_user(request), model=model, now=request.app.state.clock.now()
        )
        await db_session.commit()
        return Redirect(path="/themes/?klart=upptackt#forslag", status_code=303)

    @post("/proposals/{proposal_id:str}", status_code=303)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        proposal_id: FromPath[str],
        data: Annotated[ProposalForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        try:
            await proposals.decide(
                db_session,
                user=current_user(request),
                proposal_id=proposal_id,
                action=data.action,
                label_sv=data.label_sv,
                target_key=data.target_key,
                now=request.app.state.clock.now(),
            )
        except InvalidInput as exc:
            await db_session.rollback()
            return await self._index(request, db_session, error=exc.message, field=exc.field)
        await db_session.commit()
        return Redirect(path="/themes/?klart=beslut#forslag", status_code=303)


ROUTES = [ThemeController]
