"""Turn a verified external identity into a signed-in local user (protocol-neutral).

The OIDC callback calls ``sign_in_external`` after it has verified the ID token; a SAML adapter
would call it after verifying its assertion. The mapping decides role and units at every login:

- first login: a user is created from the mapping (no password), or an existing account with the
  same e-mail is linked once (staff invited before SSO was switched on keep their history);
- later logins: role and units follow the mapping; a person whose groups no longer match loses
  every unit and is switched off (``is_active`` false) until a login matches again;
- an account an admin deactivated stays closed whatever the groups say.

A refusal raises ``SsoRefused`` *after* recording what changed: the caller commits before it
shows the error, so a removed access is stored even though the login fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from feedback.auth import lifecycle, services
from feedback.auth.models import Membership, User
from feedback.auth.sso import mapping
from feedback.auth.sso.models import ExternalIdentity
from feedback.core import audit
from feedback.core.errors import Forbidden

NO_ACCESS_SV = (
    "Ditt konto hos kommunen ger ingen behörighet till Uppföljning. "
    "Kontakta din administratör om du ska ha tillgång."
)
DEACTIVATED_SV = "Ditt konto i Uppföljning är avstängt. Kontakta din administratör."
NO_EMAIL_SV = (
    "Inloggningstjänsten skickade ingen e-postadress, så kontot kan inte skapas. Kontakta din administratör."
)
OTHER_LINK_SV = "E-postadressen hör redan till ett annat konto i Uppföljning. Kontakta din administratör."


class SsoRefused(Forbidden):
    """The person proved who they are but may not sign in (mapping, deactivation)."""


@dataclass(frozen=True)
class ExternalLogin:
    protocol: str  # "oidc" (later "saml")
    issuer: str
    subject: str
    email: str = ""
    display_name: str = ""
    claims: Mapping[str, Any] = field(default_factory=dict)


async def _find_user(
    session: AsyncSession, login: ExternalLogin
) -> tuple[ExternalIdentity | None, User | None]:
    identity = await session.scalar(
        sa.select(ExternalIdentity).where(
            ExternalIdentity.issuer == login.issuer, ExternalIdentity.subject == login.subject
        )
    )
    query = sa.select(User).options(selectinload(User.memberships))
    if identity is not None:
        return identity, await session.scalar(query.where(User.id == identity.user_id))
    if not login.email:
        return None, None
    email = services.normalise_email(login.email)
    return None, await session.scalar(query.where(User.email == email))


async def _refuse(session: AsyncSession, user: User | None, reason: str, message: str) -> SsoRefused:
    await audit.record(
        session,
        actor_id=None,
        action="login.sso.refused",
        subject_type="user",
        subject_id=user.id if user else None,
        detail={"reason": reason},
    )
    return SsoRefused(message)


async def _remove_access(session: AsyncSession, user: User) -> None:
    if not user.is_active and not user.memberships:
        return
    removed = sorted(str(u) for u in user.unit_ids)
    user.memberships = []
    user.is_active = False
    lifecycle.end_sessions(user)
    await session.flush()
    await audit.record(
        session,
        actor_id=None,
        action="sso.access.remove",
        subject_type="user",
        subject_id=user.id,
        detail={"role": user.role.value, "removed": removed},
    )


async def _apply(session: AsyncSession, user: User, access: mapping.Access) -> None:
    before = (user.role, user.unit_ids, user.is_active)
    user.role = access.role
    user.memberships = [m for m in user.memberships if m.unit_id in access.unit_ids] + [
        Membership(unit_id=u) for u in access.unit_ids if u not in user.unit_ids
    ]
    user.is_active = True
    await session.flush()
    if before != (user.role, user.unit_ids, True):
        await audit.record(
            session,
            actor_id=None,
            action="sso.access.update",
            subject_type="user",
            subject_id=user.id,
            detail={
                "from_role": before[0].value,
                "to_role": access.role.value,
                "added": sorted(str(u) for u in access.unit_ids - before[1]),
                "removed": sorted(str(u) for u in before[1] - access.unit_ids),
                "matched": list(access.matched),
            },
        )


async def sign_in_external(session: AsyncSession, login: ExternalLogin, *, now: datetime) -> User:
    """The user ``login`` signs in as, with role and units from the mapping; ``SsoRefused`` if none."""
    identity, user = await _find_user(session, login)
    if user is not None and user.deactivated_at is not None:
        raise await _refuse(session, user, "deactivated", DEACTIVATED_SV)
    if identity is None and user is not None:
        linked = await session.scalar(
            sa.select(ExternalIdentity.id).where(
                ExternalIdentity.user_id == user.id, ExternalIdentity.issuer == login.issuer
            )
        )
        if linked is not None:  # the address belongs to another person at the same provider
            raise await _refuse(session, None, "email_taken", OTHER_LINK_SV)

    access = mapping.resolve(await mapping.list_mappings(session), login.claims)
    if access is None:
        if user is not None:
            await _remove_access(session, user)
        raise await _refuse(session, user, "no_mapping", NO_ACCESS_SV)

    if user is None:
        if not login.email:
            raise await _refuse(session, None, "no_email", NO_EMAIL_SV)
        user = await services.create_user(
            session,
            email=login.email,
            display_name=login.display_name or login.email,
            role=access.role,
            unit_ids=sorted(access.unit_ids),
            password=None,
        )
        await audit.record(
            session,
            actor_id=None,
            action="sso.user.create",
            subject_type="user",
            subject_id=user.id,
            detail={"role": access.role.value, "unit_ids": sorted(str(u) for u in access.unit_ids)},
        )
    else:
        await _apply(session, user, access)

    if identity is None:
        identity = ExternalIdentity(
            user_id=user.id, protocol=login.protocol, issuer=login.issuer, subject=login.subject
        )
        session.add(identity)
    identity.last_login_at = now
    user.last_login_at = now
    await session.flush()
    await audit.record(
        session,
        actor_id=user.id,
        action="login.sso",
        subject_type="user",
        subject_id=user.id,
        detail={"protocol": login.protocol, "role": user.role.value},
    )
    return user
