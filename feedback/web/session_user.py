"""Session authentication: the session holds a user id; each request loads a fresh ``CurrentUser``.

Loading per request (one indexed query) means a deactivated user or a removed membership takes
effect at once, not when the session expires.
"""

from __future__ import annotations

import time
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
    settings = connection.app.state.settings
    if not within_absolute_lifetime(session, settings.session_absolute_max_s):
        return None  # signed in too long ago, however active since: sign in again
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


def within_absolute_lifetime(session: dict[str, Any], max_age_s: int) -> bool:
    """Real time, not the app clock: the dev clock may travel, a stolen session must not last."""
    since = session.get("since")
    return isinstance(since, int | float) and 0 <= time.time() - since < max_age_s


def session_payload(user: User, since: float | None = None) -> dict[str, Any]:
    """What a signed-in session holds; ``since`` (sign-in time) survives a password change."""
    return {"user_id": str(user.id), "pw": _password_marker(user), "since": int(since or time.time())}
