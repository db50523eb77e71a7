"""A staff account's life after the invitation: deactivate, reactivate, role, units, password reset.

Every change is audited (``user.*`` actions, ids and role names only) and takes effect at the
next request: the session loader reads the user afresh each time, and deactivation and password
reset bump ``session_epoch``, which is part of every session's marker, so the user's open
sessions are refused at once (and stay dead if the account is reactivated later).

``by`` is the ``CurrentUser`` doing it (an admin page) or ``None`` for the operator at the
command line. The caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import invitations, services
from feedback.auth.identity import CurrentUser
from feedback.auth.models import ROLE_LABELS_SV, UNITLESS_ROLES, Invitation, Membership, Role, User
from feedback.core import audit
from feedback.core.errors import Conflict, InvalidInput

SELF_SV = "Du kan inte ändra roll på eller stänga av ditt eget konto. Be en annan administratör."
LAST_ADMIN_SV = "Det måste finnas minst en aktiv administratör."
NO_LOCAL_PASSWORDS_SV = (
    "Lokala lösenord är avstängda: personalen loggar in med kommunens konto. "
    "Bara panelmedlemmar kan få en länk för att välja lösenord."
)


def local_password_allowed(role: Role, local_passwords: bool) -> bool:
    """Panel members (clients, who have no municipal account) always may; staff only when the
    deployment keeps local passwords (``FEEDBACK_LOCAL_PASSWORDS``)."""
    return local_passwords or role == Role.PANEL_MEMBER


def end_sessions(user: User) -> None:
    """Make every open session of ``user`` invalid at its next request."""
    user.session_epoch = (user.session_epoch or 0) + 1


def _actor(by: CurrentUser | None) -> uuid.UUID | None:
    return by.id if by else None


def _not_self(by: CurrentUser | None, user: User) -> None:
    if by is not None and by.id == user.id:
        raise Conflict(SELF_SV)


async def _keep_an_admin(session: AsyncSession, user: User) -> None:
    """Refuse to remove the last active admin (nobody could then manage accounts from the web)."""
    if user.role != Role.ADMIN or not user.is_active:
        return
    others = await session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id)
    )
    if not others:
        raise Conflict(LAST_ADMIN_SV)


async def _record(
    session: AsyncSession, by: CurrentUser | None, action: str, user: User, detail: Mapping[str, object]
) -> None:
    await audit.record(
        session,
        actor_id=_actor(by),
        action=action,
        subject_type="user",
        subject_id=user.id,
        detail=dict(detail),
    )


async def deactivate(
    session: AsyncSession, *, user_id: uuid.UUID, by: CurrentUser | None, now: datetime
) -> User:
    """Switch the account off: no login (password or SSO), open sessions and links end now."""
    user = await services.get_user(session, user_id)
    _not_self(by, user)
    if user.deactivated_at is not None:
        return user  # already off: nothing to change, nothing to audit
    await _keep_an_admin(session, user)
    user.is_active = False
    user.deactivated_at = now
    end_sessions(user)
    await session.execute(
        sa.update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    await _record(session, by, "user.deactivate", user, {})
    return user


async def reactivate(session: AsyncSession, *, user_id: uuid.UUID, by: CurrentUser | None) -> User:
    """Switch a deactivated account on again; old sessions stay ended (the epoch moved on)."""
    user = await services.get_user(session, user_id)
    if user.deactivated_at is None:
        return user
    user.deactivated_at = None
    # Someone who never chose a password (and never signed in with SSO) is back to "invited".
    user.is_active = user.password_hash is not None or user.last_login_at is not None
    await session.flush()
    await _record(session, by, "user.reactivate", user, {})
    return user


async def set_role(
    session: AsyncSession, *, user_id: uuid.UUID, role: Role | str, by: CurrentUser | None
) -> User:
    try:
        new_role = Role(role)
    except ValueError as exc:
        raise InvalidInput("Okänd roll.", field="role") from exc
    user = await services.get_user(session, user_id)
    if new_role == user.role:
        return user
    if Role.INTEGRATION in (new_role, user.role):  # a service account lives and dies with its key
        raise InvalidInput(
            "Ett tjänstekonto (API) byter inte roll. Skapa eller återkalla en API-nyckel.", field="role"
        )
    _not_self(by, user)
    if user.role == Role.ADMIN:
        await _keep_an_admin(session, user)
    if new_role not in UNITLESS_ROLES and not user.memberships:
        raise InvalidInput(
            f"Ge personen minst en enhet innan rollen blir {ROLE_LABELS_SV[new_role].lower()}.",
            field="role",
        )
    old = user.role
    user.role = new_role
    await session.flush()
    await _record(session, by, "user.role", user, {"from": old.value, "to": new_role.value})
    return user


async def set_units(
    session: AsyncSession, *, user_id: uuid.UUID, unit_ids: Sequence[uuid.UUID], by: CurrentUser | None
) -> User:
    """Replace the user's unit memberships (admins may have none: they see every unit)."""
    user = await services.get_user(session, user_id)
    wanted = list(dict.fromkeys(unit_ids))
    for unit_id in wanted:
        await services.get_unit(session, unit_id)
    if user.role != Role.ADMIN and not wanted:
        raise InvalidInput("Välj minst en enhet.", field="units")
    current = user.unit_ids
    added = [u for u in wanted if u not in current]
    removed = [u for u in current if u not in wanted]
    if not added and not removed:
        return user
    user.memberships = [m for m in user.memberships if m.unit_id in wanted] + [
        Membership(unit_id=u) for u in added
    ]
    await session.flush()
    detail = {"added": sorted(str(u) for u in added), "removed": sorted(str(u) for u in removed)}
    await _record(session, by, "user.units", user, detail)
    return user


async def reset_password(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    by: CurrentUser | None,
    now: datetime,
    ttl: timedelta,
    base_url: str,
    local_passwords: bool,
) -> tuple[Invitation, str]:
    """Clear the password and return a new invitation link to choose one.

    Why clear it at once instead of waiting for the link to be used: an admin resets a password
    because it is lost or may be known to someone else; the old one must stop working now, and
    so must every open session.
    """
    user = await services.get_user(session, user_id)
    if user.deactivated_at is not None:
        raise Conflict("Kontot är avstängt. Aktivera det först.")
    if not local_password_allowed(user.role, local_passwords):
        raise Conflict(NO_LOCAL_PASSWORDS_SV)
    user.password_hash = None
    user.password_changed_at = now
    end_sessions(user)
    await session.flush()
    await _record(session, by, "user.password_reset", user, {})
    return await invitations.create_invitation(
        session,
        email=user.email,
        role=user.role,
        unit_id=None,
        unit_ids=sorted(user.unit_ids),
        invited_by=by,
        ttl=ttl,
        base_url=base_url,
        now=now,
    )
