"""Service accounts and their API keys (the integration API's bearer tokens).

Why a service account is an ``app_user`` row (role ``integration``): the audit log, registered
closures and the loggkontroll name an actor by user id; a case system calling the API is then
an actor like a person, with its unit memberships as the key's scope. The account has no
password and cannot log in to a page: only its key works, and only on ``/api/...``.

The key is shown once, when it is made. Only its SHA-256 is stored (a key is 256 random bits,
so a fast hash is enough: there is nothing to brute-force). Revoking is immediate and final;
a new key gets a new name.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from feedback.auth import services
from feedback.auth.identity import CurrentUser
from feedback.auth.models import ApiToken, Role, TokenScope, User
from feedback.core import audit
from feedback.core.errors import Conflict, InvalidInput, NotFound

KEY_PREFIX = "uppf_"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{1,63}")
# Writing ``last_used_at`` on every call would turn each read into a write: once a minute is
# precise enough to show an operator whether a key is still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)
SERVICE_EMAIL_DOMAIN = "tjanstekonto.invalid"

INVALID_KEY_SV = "API-nyckeln är ogiltig eller återkallad."
READ_ONLY_SV = "API-nyckeln får bara läsa."


@dataclass(frozen=True)
class IssuedToken:
    """What the maker sees once: the row and the key in clear."""

    token: ApiToken
    key: str


class TokenRefused(Exception):
    """A bearer key that does not authenticate (unknown, revoked, inactive account)."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def normalise_name(name: str) -> str:
    value = name.strip().lower()
    if not NAME_PATTERN.fullmatch(value):
        raise InvalidInput(
            "Namnet ska vara 2–64 tecken: små bokstäver a–z, siffror, - och _ (till exempel procapita).",
            field="name",
        )
    return value


def parse_scope(raw: str) -> TokenScope:
    try:
        return TokenScope(raw.strip().lower())
    except ValueError as exc:
        raise InvalidInput("Välj behörighet: läsa eller läsa och skriva.", field="scope") from exc


async def create_token(
    session: AsyncSession,
    *,
    name: str,
    unit_ids: Sequence[uuid.UUID],
    scope: TokenScope | str,
    created_by: uuid.UUID | None,
    now: datetime,
    client_ip: str | None = None,
) -> IssuedToken:
    """Make a service account with one key; the caller commits and shows ``key`` once."""
    name = normalise_name(name)
    scope = scope if isinstance(scope, TokenScope) else parse_scope(scope)
    if not unit_ids:
        raise InvalidInput("Välj minst en enhet som nyckeln gäller.", field="units")
    for unit_id in unit_ids:
        await services.get_unit(session, unit_id)
    if await session.scalar(sa.select(ApiToken.id).where(ApiToken.name == name)):
        raise Conflict("Det finns redan en nyckel med det namnet (även återkallade namn är upptagna).",
                       field="name")  # fmt: skip
    account = await services.create_user(
        session,
        email=f"{name}@{SERVICE_EMAIL_DOMAIN}",
        display_name=f"Tjänstekonto {name}",
        role=Role.INTEGRATION,
        unit_ids=list(unit_ids),
        password=None,
    )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        user_id=account.id,
        token_hash=hash_key(key),
        prefix=key[: len(KEY_PREFIX) + 4],
        scope=scope,
        created_by_id=created_by,
        created_at=now,
    )
    session.add(token)
    await session.flush()
    await audit.record(
        session,
        actor_id=created_by,
        action="api_token.create",
        subject_type="api_token",
        subject_id=token.id,
        client_ip=client_ip,
        detail={"name": name, "scope": scope.value, "unit_ids": sorted(str(u) for u in unit_ids)},
        at=now,
    )
    return IssuedToken(token, key)


async def revoke_token(
    session: AsyncSession,
    *,
    name: str,
    revoked_by: uuid.UUID | None,
    now: datetime,
    client_ip: str | None = None,
) -> ApiToken:
    """Revoke at once: the next call with the key is refused. The account is deactivated too."""
    token = await session.scalar(
        sa.select(ApiToken).where(ApiToken.name == name.strip().lower()).with_for_update(of=ApiToken)
    )
    if token is None:
        raise NotFound("Det finns ingen nyckel med det namnet.", field="name")
    if token.revoked_at is not None:
        raise Conflict("Nyckeln är redan återkallad.", field="name")
    token.revoked_at = now
    account = await session.get(User, token.user_id)
    if account is not None:
        account.is_active = False
    await session.flush()
    await audit.record(
        session,
        actor_id=revoked_by,
        action="api_token.revoke",
        subject_type="api_token",
        subject_id=token.id,
        client_ip=client_ip,
        detail={"name": token.name},
        at=now,
    )
    return token


async def list_tokens(session: AsyncSession) -> list[ApiToken]:
    query = (
        sa.select(ApiToken)
        .options(selectinload(ApiToken.user).selectinload(User.memberships))
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.name)
    )
    return list(await session.scalars(query))


@dataclass(frozen=True)
class TokenPrincipal:
    """Who a bearer key speaks for: the account as a ``CurrentUser`` and what it may do."""

    user: CurrentUser
    token_id: uuid.UUID
    scope: TokenScope


async def authenticate_key(session: AsyncSession, key: str, *, now: datetime) -> TokenPrincipal:
    """The principal for ``key`` or ``TokenRefused``; notes the last use (the caller commits)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        raise TokenRefused
    token = await session.scalar(
        sa.select(ApiToken)
        .options(selectinload(ApiToken.user).selectinload(User.memberships))
        .where(ApiToken.token_hash == hash_key(key))
    )
    if token is None or token.revoked_at is not None:
        raise TokenRefused
    account = token.user
    if not account.is_active or account.role is not Role.INTEGRATION:
        raise TokenRefused
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        await session.flush()
    return TokenPrincipal(CurrentUser.from_user(account), token.id, token.scope)
