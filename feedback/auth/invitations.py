"""Invitation links: how a person without a password (e.g. a panel member) gets an account.

An invitation is single-use and expires. The token travels only in the link; the database keeps
its SHA-256, so a leaked database or backup cannot be turned into working links. There is no
e-mail sending in this platform: whoever creates the invitation is shown the link once (admin page,
manager's panel page, or ``feedback users invite``) and passes it on.

Public API (used by the admin pages, the panel pages and the CLI)::

    invitation, url = await create_invitation(
        session, email="omar@example.se", role=Role.PANEL_MEMBER, unit_id=unit.id,
        invited_by=current_user, ttl=timedelta(hours=72), base_url=settings.public_url,
    )
    await session.commit()      # the caller owns the transaction
    # show ``url`` once; it cannot be recovered later

``invited_by`` is the ``CurrentUser`` doing it: admins may invite any role to any unit; managers
may invite only panel members, and only to their own units, and may re-invite a pending person
only when all of that person's units are their own (never another unit's open link or
membership); everyone else is refused. ``None``
means the operator at the command line (``feedback users invite``), who has admin rights anyway.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from feedback.auth import services
from feedback.auth.identity import CurrentUser
from feedback.auth.models import UNITLESS_ROLES, Invitation, Membership, Role, User
from feedback.core import audit
from feedback.core.db import rowcount, utcnow
from feedback.core.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound

DEFAULT_TTL = timedelta(hours=72)
MAX_TTL = timedelta(days=30)
INVITATION_PATH = "/invitation/"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str, base_url: str = "") -> str:
    return f"{base_url.rstrip('/')}{INVITATION_PATH}{token}"


def _check_permission(invited_by: CurrentUser | None, role: Role, unit_ids: list[uuid.UUID]) -> None:
    if invited_by is None or invited_by.is_admin:
        return
    if (
        invited_by.role == Role.MANAGER
        and role == Role.PANEL_MEMBER
        and unit_ids
        and all(u in invited_by.unit_ids for u in unit_ids)
    ):
        return
    raise Forbidden("Du får inte bjuda in den här personen till den enheten.")


def _check_reinvite(invited_by: CurrentUser | None, user: User) -> None:
    """A manager may re-invite only someone whose every unit is one of the manager's own.

    Re-inviting spends the person's open links and adds memberships, so a manager of one unit
    must not reach a pending invitation another unit (or an admin) made: that would kill the
    other link and give the account both units.
    """
    if invited_by is None or invited_by.is_admin:
        return
    if any(unit not in invited_by.unit_ids for unit in user.unit_ids):
        raise Forbidden(
            "Personen är redan inbjuden till en enhet som du inte är chef för. Be en administratör om hjälp.",
            field="email",
        )


async def create_invitation(
    session: AsyncSession,
    *,
    email: str,
    role: Role | str,
    unit_id: uuid.UUID | None,
    invited_by: CurrentUser | None,
    unit_ids: Sequence[uuid.UUID] = (),
    ttl: timedelta | None = None,
    base_url: str = "",
    display_name: str = "",
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """Create (or re-issue) an invitation and return it with the one-time link.

    ``unit_ids`` adds further unit memberships (e.g. a manager of two units) to ``unit_id``.
    The invited account is created inactive and without a password; it becomes active when the
    link is used. Re-inviting someone who has not yet accepted replaces their open links.
    Raises ``Forbidden`` (scope), ``InvalidInput`` (bad role/e-mail/ttl) or ``Conflict`` (the
    person already has a working account).
    """
    now = now or utcnow()
    ttl = ttl or DEFAULT_TTL
    if not timedelta(minutes=5) <= ttl <= MAX_TTL:
        raise InvalidInput("Länkens giltighetstid måste vara mellan 5 minuter och 30 dagar.", field="ttl")
    if not role:
        raise InvalidInput("Välj en roll.", field="role")
    try:
        role = Role(role)
    except ValueError as exc:
        raise InvalidInput("Okänd roll.", field="role") from exc
    if role is Role.INTEGRATION:
        raise InvalidInput("Tjänstekonton skapas på sidan API-nycklar, inte med en inbjudan.", field="role")
    all_units = list(dict.fromkeys([*([unit_id] if unit_id else []), *unit_ids]))
    if role not in UNITLESS_ROLES and not all_units:
        raise InvalidInput("Välj minst en enhet.", field="units")
    _check_permission(invited_by, role, all_units)
    for unit in all_units:
        await services.get_unit(session, unit)
    email = services.normalise_email(email)

    user = await session.scalar(
        sa.select(User).options(selectinload(User.memberships)).where(User.email == email)
    )
    if user is None:
        user = await services.create_user(
            session,
            email=email,
            display_name=display_name or email,
            role=role,
            unit_ids=all_units,
            password=None,
        )
        user.is_active = False
    elif user.password_hash is not None:
        raise Conflict("Personen har redan ett konto. Hen kan logga in som vanligt.", field="email")
    else:
        if user.role != role:
            raise Conflict("Personen är redan inbjuden med en annan roll.", field="role")
        _check_reinvite(invited_by, user)
        for unit in all_units:
            if unit not in user.unit_ids:
                user.memberships.append(Membership(unit_id=unit))
        await session.execute(
            sa.update(Invitation)
            .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
            .values(used_at=now)
        )

    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=hash_token(token),
        user_id=user.id,
        created_by_id=invited_by.id if invited_by else None,
        expires_at=now + ttl,
    )
    session.add(invitation)
    await session.flush()
    await audit.record(
        session,
        actor_id=invited_by.id if invited_by else None,
        action="invitation.create",
        subject_type="user",
        subject_id=user.id,
        detail={"role": role.value, "unit_ids": [str(u) for u in all_units]},
    )
    return invitation, invitation_url(token, base_url)


async def open_invitation(session: AsyncSession, token: str, *, now: datetime | None = None) -> Invitation:
    """The usable invitation for ``token``; ``NotFound`` or ``Gone`` (used/expired) otherwise."""
    now = now or utcnow()
    if not token or len(token) > 200:
        raise NotFound("Inbjudan finns inte. Kontrollera att du har kopierat hela länken.")
    invitation = await session.scalar(sa.select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if invitation is None:
        raise NotFound("Inbjudan finns inte. Kontrollera att du har kopierat hela länken.")
    if invitation.used_at is not None:
        raise Gone("Länken har redan använts. Logga in med ditt lösenord eller be om en ny inbjudan.")
    if invitation.expires_at <= now:
        raise Gone("Länken har slutat gälla. Be den som bjöd in dig om en ny inbjudan.")
    return invitation


async def invited_user(session: AsyncSession, invitation: Invitation) -> User:
    user = await session.get(User, invitation.user_id)
    if user is None:
        raise NotFound("Inbjudan finns inte.")
    return user


async def accept_invitation(
    session: AsyncSession, *, token: str, password: str, repeat: str, now: datetime | None = None
) -> User:
    """Use the link: set the password, activate the account and spend the invitation."""
    now = now or utcnow()
    invitation = await open_invitation(session, token, now=now)
    if password != repeat:
        raise InvalidInput("De två lösenorden är inte likadana.", field="repeat_password")
    user = await invited_user(session, invitation)
    services.set_password(user, password, now)
    # Spend the link with a conditional update: of two simultaneous submissions only one wins.
    spent = await session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(spent) != 1:
        raise Gone("Länken har redan använts. Logga in med ditt lösenord eller be om en ny inbjudan.")
    user.is_active = True
    await session.flush()
    await audit.record(
        session, actor_id=user.id, action="invitation.accept", subject_type="user", subject_id=user.id
    )
    return user
