"""Session authentication: the session holds a user id; each request loads a fresh ``CurrentUser``.

Loading per request (one indexed query) means a deactivated user or a removed membership takes
effect at once, not when the session expires.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from sqlalchemy.orm import selectinload

from feedback.auth.identity import CurrentUser
from feedback.auth.models import User


async def retrieve_user(
    session: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]
) -> CurrentUser | None:
    raw = session.get("user_id")
    if not raw:
        return None
    try:
        user_id = uuid.UUID(str(raw))
    except ValueError:
        return None
    sessionmaker = connection.app.state.sessionmaker
    async with sessionmaker() as db:
        user = await db.scalar(
            sa.select(User)
            .options(selectinload(User.memberships))
            .where(User.id == user_id, User.is_active.is_(True))
        )
        if user is None or session.get("pw") != _password_marker(user):
            return None
        return CurrentUser.from_user(user)


def _password_marker(user: User) -> str:
    """Changes when the password changes or the admin ends the user's sessions (deactivation,
    password reset: ``session_epoch``), so old sessions of that user stop working."""
    marker = user.password_changed_at.isoformat() if user.password_changed_at else ""
    return f"{marker}#{user.session_epoch}" if user.session_epoch else marker


def session_payload(user: User) -> dict[str, str]:
    return {"user_id": str(user.id), "pw": _password_marker(user)}
