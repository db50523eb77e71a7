"""Retraining from the themes page: ask for a preview, read it, then confirm or cancel.

Why two steps: retraining gives many answers other themes at once. The page records a request;
the worker trains a candidate and stores what it would change (``feedback.themes.preview``);
the page shows "N svar får andra teman" with redacted examples from the manager's units, and
only the confirm button makes the worker apply it. Cancelling changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core import audit
from feedback.core.errors import InvalidInput
from feedback.themes import decisions, queries, retraining
from feedback.themes.models import RetrainStatus
from feedback.web import forms
from feedback.web.auth import client_ip
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role

EXAMPLES_SHOWN = 8


async def retrain_context(
    session: AsyncSession, user: CurrentUser, request: Request[Any, Any, Any] | None = None
) -> dict[str, Any]:
    """The newest request, the model in use and, for a ready preview, what it would change.

    Example texts come only from the user's units (redacted), and reading them is audited.
    """
    latest = await retraining.latest_request(session)
    context: dict[str, Any] = {"retrain": latest, "model": await retraining.current_model(session)}
    if latest is None or latest.status != RetrainStatus.READY or not latest.preview:
        return context
    preview = latest.preview
    codebook = await decisions.current_codebook(session)
    scope = None if user.is_admin else user.unit_ids
    mine = [e for e in preview.get("examples", []) if scope is None or uuid.UUID(e["unit_id"]) in scope]
    texts = await queries.texts(session, [uuid.UUID(e["id"]) for e in mine[:EXAMPLES_SHOWN]], scope)
    examples = [
        {
            "text": texts[uuid.UUID(e["id"])],
            "before": [codebook.label(k) for k in e["before"]],
            "after": [codebook.label(k) for k in e["after"]],
        }
        for e in mine[:EXAMPLES_SHOWN]
        if uuid.UUID(e["id"]) in texts
    ]
    if examples:
        await audit.record(
            session,
            actor_id=user.id,
            action="open_text.read",
            subject_type="retrain_preview",
            subject_id=str(latest.id),
            reason="temahantering: förhandsvisning av omträning",
            client_ip=client_ip(request) if request is not None else None,
            detail={"answers": len(examples)},
        )
    units = preview.get("units", {})
    keys = sorted(set(preview.get("lost", {})) | set(preview.get("gained", {})), key=codebook.label)
    context["preview"] = {
        "changed": preview.get("changed", 0),
        "total": preview.get("total", 0),
        "mine": sum(n for u, n in units.items() if scope is None or uuid.UUID(u) in scope),
        "themes": [
            {
                "label": codebook.label(k),
                "lost": preview["lost"].get(k, 0),
                "gained": preview["gained"].get(k, 0),
            }
            for k in keys
        ],
        "examples": examples,
        "stale": latest.codebook_version != codebook.version,
    }
    return context


class RetrainController(Controller):
    path = "/themes/retrain"
    guards = [requires_role(Role.MANAGER)]  # noqa: RUF012 - Litestar reads this class attribute

    @post("/", status_code=303, name="themes_retrain")
    async def retrain(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[forms.RawForm],
    ) -> Redirect:
        """Record a request for a preview and answer at once (the worker trains and compares)."""
        _, created = await retraining.request_retrain(db_session, user_id=user.id, now=clock.now())
        await db_session.commit()
        return forms.redirect("/themes/", "omtraning" if created else "omtraning-pagar", fragment="tran-om")

    async def _decide(self, db_session: AsyncSession, action: Any, notice: str) -> Response[Any]:
        try:
            await action()
        except InvalidInput as exc:
            await db_session.rollback()
            refused = "omtraning-inaktuell" if exc.message == retraining.STALE_SV else "omtraning-saknas"
            return forms.redirect("/themes/", refused, fragment="tran-om")
        await db_session.commit()
        return forms.redirect("/themes/", notice, fragment="tran-om")

    @post("/{request_id:int}/confirm", status_code=303, name="themes_retrain_confirm")
    async def confirm(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        request_id: FromPath[int],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        async def action() -> None:
            codebook = await decisions.current_codebook(db_session)
            await retraining.confirm(
                db_session,
                request_id=request_id,
                user_id=user.id,
                codebook_version=codebook.version,
                now=clock.now(),
            )

        return await self._decide(db_session, action, "omtraning-bekraftad")

    @post("/{request_id:int}/cancel", status_code=303, name="themes_retrain_cancel")
    async def cancel(
        self,
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        request_id: FromPath[int],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        async def action() -> None:
            await retraining.cancel_ready(db_session, request_id=request_id, now=clock.now())

        return await self._decide(db_session, action, "omtraning-avbruten")


ROUTES = [RetrainController]
