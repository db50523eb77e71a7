"""The admin's claim mapping: which values of which claim give which role in which units.

Evaluated afresh at every SSO login (``resolve``), so a group removed at the provider removes
the access at the person's next login, and a changed mapping applies from then on.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import services
from feedback.auth.identity import CurrentUser
from feedback.auth.models import PERSON_ROLES, Role
from feedback.auth.sso.models import SsoRoleMapping, SsoRoleMappingUnit
from feedback.core import audit
from feedback.core.errors import Conflict, InvalidInput, NotFound

# When several mappings match, the person gets the first of these roles that any of them gives,
# with the units of the mappings that give that role (never a manager's rights in a unit where
# the person is only a caseworker). Roles not listed (added later) come after, in enum order.
ROLE_PRECEDENCE: tuple[Role, ...] = (Role.ADMIN, Role.MANAGER, Role.CASEWORKER)


def staff_roles() -> list[Role]:
    """Roles a mapping may give: people's roles except panel member (clients have no staff
    account); never a service account, which only an admin creates with its API key."""
    return [r for r in PERSON_ROLES if r != Role.PANEL_MEMBER]


def _rank(role: Role) -> int:
    order = [*ROLE_PRECEDENCE, *(r for r in Role if r not in ROLE_PRECEDENCE)]
    return order.index(role)


@dataclass(frozen=True)
class Access:
    """What the mapping gives one person at one login."""

    role: Role
    unit_ids: frozenset[uuid.UUID]
    matched: tuple[str, ...]  # "claim=value" of the mappings that gave it (for the audit)


def claim_values(claims: Mapping[str, Any], claim: str) -> set[str]:
    """A claim as a set of strings (providers send a list, a string or a space-separated string)."""
    raw = claims.get(claim)
    if raw is None:
        return set()
    if isinstance(raw, str):
        return {raw, *raw.split()}
    if isinstance(raw, list | tuple | set):
        return {str(v) for v in raw if isinstance(v, str | int)}
    return {str(raw)}


def resolve(mappings: Sequence[SsoRoleMapping], claims: Mapping[str, Any]) -> Access | None:
    """The role and units ``claims`` earn, or None when no mapping matches (no access)."""
    matches = [m for m in mappings if m.value in claim_values(claims, m.claim)]
    if not matches:
        return None
    role = min((m.role for m in matches), key=_rank)
    chosen = [m for m in matches if m.role == role]
    units = frozenset(u for m in chosen for u in m.unit_ids)
    if role != Role.ADMIN and not units:
        return None
    return Access(role=role, unit_ids=units, matched=tuple(sorted(f"{m.claim}={m.value}" for m in chosen)))


async def list_mappings(session: AsyncSession) -> list[SsoRoleMapping]:
    return list(
        await session.scalars(sa.select(SsoRoleMapping).order_by(SsoRoleMapping.claim, SsoRoleMapping.value))
    )


async def add_mapping(
    session: AsyncSession,
    *,
    claim: str,
    value: str,
    role: Role | str,
    unit_ids: Sequence[uuid.UUID],
    by: CurrentUser | None,
) -> SsoRoleMapping:
    claim, value = claim.strip(), value.strip()
    if not claim or len(claim) > 100:
        raise InvalidInput("Ange anspråkets namn, till exempel groups (högst 100 tecken).", field="claim")
    if not value or len(value) > 400:
        raise InvalidInput(
            "Ange värdet, till exempel gruppens namn eller id (högst 400 tecken).", field="value"
        )
    try:
        role = Role(role)
    except ValueError as exc:
        raise InvalidInput("Välj en roll.", field="role") from exc
    if role not in staff_roles():
        raise InvalidInput("Panelmedlemmar loggar inte in med kommunens konto.", field="role")
    units = list(dict.fromkeys(unit_ids))
    if role != Role.ADMIN and not units:
        raise InvalidInput("Välj minst en enhet.", field="units")
    for unit in units:
        await services.get_unit(session, unit)
    exists = await session.scalar(
        sa.select(SsoRoleMapping.id).where(SsoRoleMapping.claim == claim, SsoRoleMapping.value == value)
    )
    if exists:
        raise Conflict(f"Det finns redan en koppling för {claim} = {value}.", field="value")
    mapping = SsoRoleMapping(
        claim=claim, value=value, role=role, units=[SsoRoleMappingUnit(unit_id=u) for u in units]
    )
    session.add(mapping)
    await session.flush()
    await audit.record(
        session,
        actor_id=by.id if by else None,
        action="sso.mapping.create",
        subject_type="sso_mapping",
        subject_id=mapping.id,
        detail={"claim": claim, "value": value, "role": role.value, "unit_ids": [str(u) for u in units]},
    )
    return mapping


async def delete_mapping(session: AsyncSession, *, mapping_id: uuid.UUID, by: CurrentUser | None) -> None:
    """Remove a mapping; people who had access only through it lose it at their next login."""
    mapping = await session.get(SsoRoleMapping, mapping_id)
    if mapping is None:
        raise NotFound("Kopplingen finns inte.")
    detail = {"claim": mapping.claim, "value": mapping.value, "role": mapping.role.value}
    await session.delete(mapping)
    await session.flush()
    await audit.record(
        session,
        actor_id=by.id if by else None,
        action="sso.mapping.delete",
        subject_type="sso_mapping",
        subject_id=mapping_id,
        detail=detail,
    )
