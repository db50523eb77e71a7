"""Theme management pages (managers): rename, merge, split, create, retire, move, undo, proposals.

Every edit changes only the answers it names (``feedback.themes.edits``) and can be undone.
Merge and retire ask where they apply (all units, or only the manager's) and show a
confirmation with the number of answers first; a split lets the manager assign the answers.
Pages show only the manager's units' answers (redacted), and reading them is audited.
Retraining (preview, confirm) lives in ``feedback.web.themes_retrain``.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any

import anyio
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
from feedback.themes import decisions, edits, proposals, queries, retraining, splitting, theming
from feedback.web import forms
from feedback.web.auth import client_ip
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from feedback.web.themes_retrain import ROUTES as RETRAIN_ROUTES
from feedback.web.themes_retrain import retrain_context
from nlp.codebook import FALLBACK_KEY

PRIVATE_HEADERS = {"Cache-Control": "no-store"}
DONE_SV = {
    "skapat": "Temat är skapat.",
    "bytt-namn": "Temat har fått nytt namn.",
    "sammanslaget": "Temana är sammanslagna. Svaren räknas nu under det tema du valde.",
    "delat": "De nya temana är skapade och svaren du valde är flyttade. Övriga svar finns kvar i temat.",
    "avvecklat": "Temat är avvecklat.",
    "flyttat": "Svaret är flyttat. Inga andra svar har ändrats. Beslutet gäller även efter omträning.",
    "angrat": "Ändringen är ångrad. Svaren har fått tillbaka sina teman.",
    "omtraning": "Förhandsvisningen är beställd. Den görs i bakgrunden. Inget ändras förrän du har bekräftat.",
    "omtraning-pagar": "En omträning pågår redan. Du behöver inte beställa en till.",
    "omtraning-bekraftad": "Omträningen är bekräftad. Svaren får nya teman i bakgrunden.",
    "omtraning-avbruten": "Omträningen är avbruten. Inga svar har ändrats.",
    "upptackt": "Sökningen efter nya teman är klar.",
    "beslut": "Ditt beslut om förslaget är sparat.",
}
REFUSED_SV = {
    "omtraning-inaktuell": retraining.STALE_SV,
    "omtraning-saknas": "Det finns ingen förhandsvisning att bekräfta eller avbryta. Gör en ny förhandsvisning.",
}


class LabelForm(forms.Form):
    label_sv: str = ""
    description: str = ""


class ScopedForm(forms.Form):
    into: str = ""
    scope: str = ""
    bekrafta: str = ""


class SplitForm(forms.Form):
    label_a: str = ""
    label_b: str = ""
    terms_a: str = ""
    terms_b: str = ""
    bekrafta: str = ""


class MoveForm(forms.Form):
    from_key: str = ""
    to_key: str = ""


class ProposalForm(forms.Form):
    action: str = ""
    label_sv: str = ""
    target_key: str = ""


MAX_SPLIT_ANSWERS = 500


def _scope(user: CurrentUser) -> frozenset[uuid.UUID] | None:
    return None if user.is_admin else user.unit_ids


def _terms(raw: str) -> list[str]:
    return [t.strip() for t in raw.replace(";", ",").split(",") if t.strip()][:10]


class ThemeController(Controller):
    path = "/themes"
    guards = [requires_role(Role.MANAGER)]  # noqa: RUF012 - Litestar reads this class attribute

    # ------------------------------------------------------------ pages
    async def _index(
        self,
        db_session: AsyncSession,
        user: CurrentUser,
        *,
        request: Request[Any, Any, Any] | None = None,
        notice: str = "",
        edit_id: int | None = None,
        errors: forms.FormErrors | None = None,
    ) -> Template:
        codebook = await decisions.current_codebook(db_session)
        counts = await queries.theme_counts(db_session, _scope(user))
        recent = await edits.recent(db_session, user)
        context = {
            "themes": [t for t in codebook.active],
            "retired": [t for t in codebook.themes.values() if not t.active],
            "codebook": codebook,
            "counts": counts,
            "min_people": MIN_PEOPLE,
            "proposals": await proposals.visible_proposals(db_session, user=user),
            **await retrain_context(db_session, user, request),
            # a new query on every render, so following the link always reloads the page (a link
            # that differs from the current address only in its #fragment would just scroll)
            "retrain_refresh": f"/themes/?lage={secrets.token_hex(4)}#tran-om",
            "fallback": FALLBACK_KEY,
            "is_admin": user.is_admin,
            "user_id": user.id,
            "done": DONE_SV.get(notice),
            "refused": REFUSED_SV.get(notice),
            "recent": recent,
            "just_done": next((e for e, why in recent if e.id == edit_id and why is None), None),
            **(errors.context() if errors else forms.NO_ERRORS),
        }
        await db_session.commit()  # the audit of the preview's example answers
        return Template(
            "themes/index.html",
            context=context,
            status_code=400 if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/", name="themes_index")
    async def index(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        notice: Annotated[str, QueryParameter(name=forms.NOTICE_PARAM)] = "",
        edit_id: Annotated[int | None, QueryParameter(name="andring")] = None,
    ) -> Template:
        return await self._index(db_session, user, request=request, notice=notice, edit_id=edit_id)

    async def _theme(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        user: CurrentUser,
        key: str,
        *,
        notice: str = "",
        edit_id: int | None = None,
        page: int = 1,
        search: str = "",
        errors: forms.FormErrors | None = None,
    ) -> Template:
        codebook = await decisions.current_codebook(db_session)
        theme = codebook.themes.get(key)
        if theme is None:
            raise NotFound("Temat finns inte.")
        listing = await queries.answers_with_theme(db_session, key, _scope(user), page=page, search=search)
        await audit.record(
            db_session,
            actor_id=user.id,
            action="open_text.read",
            subject_type="theme",
            subject_id=key,
            reason="temahantering",
            client_ip=client_ip(request),
            detail={"answers": len(listing.answers), "page": listing.page, "search": bool(listing.search)},
        )
        await db_session.commit()
        recent = await edits.recent(db_session, user) if edit_id is not None else []
        context = {
            "theme": theme,
            "codebook": codebook,
            "answers": listing.answers,
            "listing": listing,
            "targets": [t for t in codebook.active if t.key != key],
            "done": DONE_SV.get(notice),
            "just_done": next((e for e, why in recent if e.id == edit_id and why is None), None),
            "is_admin": user.is_admin,
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
        edit_id: Annotated[int | None, QueryParameter(name="andring")] = None,
        page: Annotated[int, QueryParameter(name="sida", ge=1, le=100_000)] = 1,
        search: Annotated[str, QueryParameter(name="sok", max_length=200)] = "",
    ) -> Template:
        return await self._theme(
            request, db_session, user, key, notice=notice, edit_id=edit_id, page=page, search=search
        )

    def _refused(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, user: CurrentUser, key: str
    ) -> forms.Rerender:
        """Refusals re-render the theme page with the error (and its 4xx status)."""

        async def invalid(errors: forms.FormErrors) -> Response[Any]:
            return await self._theme(request, db_session, user, key, errors=errors)

        return invalid

    # ------------------------------------------------------------ codebook decisions
    @post("/create", status_code=303, name="themes_create")
    async def create(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.parse(LabelForm, data)

        async def record() -> None:
            label = form.label_sv.strip()
            if not label or len(label) > 200:
                raise InvalidInput("Skriv ett namn för temat (högst 200 tecken).", field="label_sv")
            codebook = await decisions.current_codebook(db_session)
            if any(t.label_sv.casefold() == label.casefold() for t in codebook.active):
                raise InvalidInput("Det finns redan ett tema med det namnet.", field="label_sv")
            event = {"key": decisions.slug_key(label, codebook.themes), "label_sv": label}
            if form.description.strip():
                event["description"] = form.description.strip()[:1000]
            await decisions.record_theme_event(
                db_session, user=user, kind="add", payload=event, now=clock.now()
            )

        return await forms.submit(
            db_session,
            record,
            invalid=lambda errors: self._index(db_session, user, errors=errors),
            done=lambda _: forms.redirect("/themes/", "skapat"),
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
        label = forms.parse(LabelForm, data).label_sv
        return await forms.submit(
            db_session,
            lambda: edits.rename(db_session, user=user, key=key, label_sv=label, now=clock.now()),
            invalid=self._refused(request, db_session, user, key),
            done=lambda e: forms.redirect(f"/themes/t/{key}", "bytt-namn", andring=e.id),
        )

    async def _scoped_edit(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        user: CurrentUser,
        clock: Clock,
        key: str,
        form: ScopedForm,
        kind: str,
    ) -> Response[Any]:
        """Merge or retire: first a confirmation page with what it changes, then the edit."""
        invalid = self._refused(request, db_session, user, key)
        codebook = await decisions.current_codebook(db_session)
        try:
            scope = edits.check_scope(user, form.scope)
            if kind == "merge" and (form.into not in codebook.keys or form.into in (key, FALLBACK_KEY)):
                raise InvalidInput("Välj ett annat aktivt tema att slå ihop med.", field="into")
        except InvalidInput as exc:
            return await invalid(forms.FormErrors.of(exc))
        if form.bekrafta != "ja":
            impact = await edits.impact(db_session, user, key, scope)
            context = {
                "kind": kind,
                "theme": codebook.themes.get(key),
                "into": codebook.themes.get(form.into),
                "scope": scope,
                "impact": impact,
                "form": form,
                "is_admin": user.is_admin,
            }
            return Template("themes/confirm.html", context=context, status_code=200, headers=PRIVATE_HEADERS)

        async def apply() -> Any:
            if kind == "merge":
                return await edits.merge(
                    db_session, user=user, key=key, into=form.into, scope=scope, now=clock.now()
                )
            return await edits.retire(db_session, user=user, key=key, scope=scope, now=clock.now())

        notice = "sammanslaget" if kind == "merge" else "avvecklat"
        return await forms.submit(
            db_session,
            apply,
            invalid=invalid,
            done=lambda e: forms.redirect("/themes/", notice, andring=e.id),
        )

    @post("/t/{key:str}/merge", status_code=200, name="themes_merge")
    async def merge(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        key: FromPath[str],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.parse(ScopedForm, data)
        return await self._scoped_edit(request, db_session, user, clock, key, form, "merge")

    @post("/t/{key:str}/retire", status_code=200, name="themes_retire")
    async def retire(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        key: FromPath[str],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.parse(ScopedForm, data)
        return await self._scoped_edit(request, db_session, user, clock, key, form, "retire")

    @post("/t/{key:str}/split", status_code=200, name="themes_split")
    async def split(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        key: FromPath[str],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        """Step 1 (names, words) shows every answer with a suggested new theme; step 2 applies.

        Each answer's choice is posted as ``svar-<id>`` = ``0``, ``1`` or empty (stays).
        """
        form = forms.parse(SplitForm, data)
        raw = forms.values(data)
        parts: list[dict[str, Any]] = [
            {"label_sv": form.label_a.strip(), "terms": _terms(form.terms_a)},
            {"label_sv": form.label_b.strip(), "terms": _terms(form.terms_b)},
        ]
        invalid = self._refused(request, db_session, user, key)
        labels = [form.label_a.strip(), form.label_b.strip()]
        if not all(labels) or labels[0].casefold() == labels[1].casefold() or max(map(len, labels)) > 200:
            return await invalid(
                forms.FormErrors.single("Skriv två olika namn för de nya temana.", "label_a")
            )
        if form.bekrafta != "ja":
            return await self._split_page(request, db_session, user, key, form, parts)
        assignments: dict[uuid.UUID, int] = {}
        for name, value in raw.items():
            if name.startswith("svar-") and value in ("0", "1"):
                try:
                    assignments[uuid.UUID(name[5:])] = int(value)
                except ValueError:
                    return await invalid(forms.FormErrors.single("Ett svar i listan känns inte igen."))
        return await forms.submit(
            db_session,
            lambda: edits.split(
                db_session, user=user, key=key, parts=parts, assignments=assignments, now=clock.now()
            ),
            invalid=invalid,
            done=lambda e: forms.redirect(f"/themes/t/{key}", "delat", andring=e.id),
        )

    async def _split_page(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        user: CurrentUser,
        key: str,
        form: SplitForm,
        parts: list[dict[str, Any]],
    ) -> Template:
        codebook = await decisions.current_codebook(db_session)
        theme = codebook.themes.get(key)
        if theme is None or not theme.active:
            raise NotFound("Temat finns inte eller är inte aktivt.")
        listing = await queries.answers_with_theme(db_session, key, _scope(user), limit=MAX_SPLIT_ANSWERS)
        await audit.record(
            db_session,
            actor_id=user.id,
            action="open_text.read",
            subject_type="theme",
            subject_id=key,
            reason="temahantering: dela tema",
            client_ip=client_ip(request),
            detail={"answers": len(listing.answers)},
        )
        await db_session.commit()
        suggestions = await anyio.to_thread.run_sync(
            lambda: splitting.suggest(
                [a.text for a in listing.answers], [(p["label_sv"], p["terms"]) for p in parts]
            )
        )
        context = {
            "theme": theme,
            "codebook": codebook,
            "form": form,
            "parts": parts,
            "rows": list(zip(listing.answers, suggestions, strict=True)),
            "total": listing.total,
            "suggested": [sum(1 for s in suggestions if s == n) for n in range(len(parts))],
            "is_admin": user.is_admin,
        }
        return Template("themes/split.html", context=context, status_code=200, headers=PRIVATE_HEADERS)

    # ------------------------------------------------------------ answers, undo, discovery
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
            lambda: edits.move(
                db_session,
                user=user,
                open_text_id=open_text_id,
                from_key=form.from_key,
                to_key=form.to_key,
                now=clock.now(),
            ),
            invalid=invalid,
            done=lambda e: forms.redirect(
                f"/themes/t/{form.from_key or form.to_key}", "flyttat", andring=e.id
            ),
            catch=InvalidInput,
        )

    @post("/edits/{edit_id:int}/undo", status_code=303, name="themes_undo")
    async def undo(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        edit_id: FromPath[int],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        return await forms.submit(
            db_session,
            lambda: edits.undo(db_session, user=user, edit_id=edit_id, now=clock.now()),
            invalid=lambda errors: self._index(db_session, user, errors=errors),
            done=lambda _: forms.redirect("/themes/", "angrat", fragment="andringar"),
            catch=InvalidInput,
        )

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


ROUTES = [ThemeController, *RETRAIN_ROUTES]
