"""Use-cases for people and access: create users and units, authenticate."""

from __future__ import annotations

import uuid
from datetime import datetime

import anyio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from feedback.auth.models import UNITLESS_ROLES, Membership, Role, Unit, User
from feedback.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from feedback.core.db import utcnow
from feedback.core.errors import Conflict, InvalidInput, NotFound


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320 or " " in email:
        raise InvalidInput("Ange en giltig e-postadress.", field="email")
    return email


async def get_unit_by_code(session: AsyncSession, code: str) -> Unit:
    unit = await session.scalar(sa.select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"Enheten {code!r} finns inte.", field="unit")
    return unit


async def list_units(session: AsyncSession) -> list[Unit]:
    return list(await session.scalars(sa.select(Unit).order_by(Unit.name)))


async def list_users(session: AsyncSession) -> list[User]:
    """Every account with its memberships (admin overview; a few hundred rows at most)."""
    return list(
        await session.scalars(sa.select(User).options(selectinload(User.memberships)).order_by(User.email))
    )


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.scalar(
        sa.select(User).options(selectinload(User.memberships)).where(User.id == user_id)
    )
    if user is None:
        raise NotFound("Användaren finns inte.", field="user")
    return user


async def get_unit(session: AsyncSession, unit_id: uuid.UUID) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("Enheten finns inte.", field="unit")
    return unit


async def create_unit(session: AsyncSession, *, code: str, name: str) -> Unit:
    code = code.strip().lower()
    if not code or len(code) > 32 or not all(c.isalnum() or c in "-_" for c in code):
        raise InvalidInput("Enhetskoden får bara innehålla bokstäver, siffror, - och _.", field="code")
    if not name.strip():
        raise InvalidInput("Ange enhetens namn.", field="name")
    if await session.scalar(sa.select(Unit.id).where(Unit.code == code)):
        raise Conflict(f"Enheten {code!r} finns redan.", field="code")
    unit = Unit(code=code, name=name.strip())
    session.add(unit)
    await session.flush()
    return unit


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    display_name: str,
    role: Role | str,
    unit_ids: list[uuid.UUID],
    password: str | None = None,
) -> User:
    email = normalise_email(email)
    try:
        role = Role(role)
    except ValueError as exc:
        raise InvalidInput("Okänd roll.", field="role") from exc
    if await session.scalar(sa.select(User.id).where(User.email == email)):
        raise Conflict("Det finns redan en användare med den e-postadressen.", field="email")
    if role not in UNITLESS_ROLES and not unit_ids:
        raise InvalidInput("Välj minst en enhet.", field="units")
    user = User(email=email, display_name=display_name.strip() or email, role=role)
    if password is not None:
        if problem := password_problem(password):
            raise InvalidInput(problem, field="password")
        user.password_hash = hash_password(password)
        user.password_changed_at = utcnow()
    user.memberships = [Membership(unit_id=u) for u in dict.fromkeys(unit_ids)]
    session.add(user)
    await session.flush()
    return user


def set_password(user: User, password: str, now: datetime) -> None:
    """Hash and store a new password; changing ``password_changed_at`` ends the user's other sessions."""
    if problem := password_problem(password):
        raise InvalidInput(problem, field="password")
    user.password_hash = hash_password(password)
    user.password_changed_at = now


async def change_password(
    session: AsyncSession, *, user_id: uuid.UUID, current: str, new: str, repeat: str, now: datetime
) -> User:
    """Change a signed-in user's password; the current one must be given again."""
    user = await session.get(User, user_id)
    if user is None or not await anyio.to_thread.run_sync(verify_password, user.password_hash, current):
        raise InvalidInput("Det nuvarande lösenordet stämmer inte.", field="current_password")
    if new != repeat:
        raise InvalidInput("De två nya lösenorden är inte likadana.", field="repeat_password")
    if new == current:
        raise InvalidInput("Det nya lösenordet måste skilja sig från det gamla.", field="new_password")
    try:
        set_password(user, new, now)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="new_password") from exc
    await session.flush()
    return user


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User | None:
    """Return the active user when the password matches (constant-ish time either way)."""
    user = await session.scalar(
        sa.select(User).options(selectinload(User.memberships)).where(User.email == email.strip().lower())
    )
    # argon2 takes tens of milliseconds of CPU by design: in a worker thread, so a burst of logins
    # does not stall every other request on the event loop.
    ok = await anyio.to_thread.run_sync(verify_password, user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        return None
    user.last_login_at = utcnow()
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = await anyio.to_thread.run_sync(hash_password, password)  # parameters were raised
    return user
