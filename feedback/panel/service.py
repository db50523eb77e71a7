"""Panel use-cases: rounds (managers), reflections and consent (members), published items.

Every function takes the caller's session and a ``CurrentUser``; the caller commits. Scope rules:
managers act only in their units; a member reads and writes only their own reflections, and only
in rounds of units they belong to.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.auth.scope import ensure_unit_access
from feedback.core.clock import STOCKHOLM
from feedback.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from feedback.panel.models import PanelRound, PublishedItem, Reflection
from nlp.redact import redact as nlp_redact
from surveys.answers.models import Channel, OpenText
from surveys.answers.service import register_open_text, respondent_key, withdraw_quote_consent

MAX_PROMPTS = 10
MAX_TEXT = 4000


def local_today(now: datetime) -> date:
    """Rounds open and close on Swedish calendar days."""
    return now.astimezone(STOCKHOLM).date()


def source_ref(reflection_id: uuid.UUID) -> str:
    return f"reflection:{reflection_id}"


# ---------------------------------------------------------------- rounds (managers)
async def create_round(
    session: AsyncSession,
    *,
    user: CurrentUser,
    unit_id: uuid.UUID,
    title: str,
    prompts: list[str],
    opens_on: date,
    closes_on: date,
) -> PanelRound:
    """Create a panel round in one of the manager's units."""
    if user.role not in (Role.MANAGER, Role.ADMIN):
        raise Forbidden("Bara enhetschefer kan skapa panelomgångar.")
    ensure_unit_access(user, unit_id)
    title = title.strip()
    prompts = [p.strip() for p in prompts if p.strip()]
    if not title or len(title) > 200:
        raise InvalidInput("Skriv en rubrik (högst 200 tecken).", field="title")
    if not prompts:
        raise InvalidInput("Skriv minst en fråga som panelen ska reflektera över.", field="prompts")
    if len(prompts) > MAX_PROMPTS or any(len(p) > 500 for p in prompts):
        raise InvalidInput("Högst 10 frågor, och högst 500 tecken per fråga.", field="prompts")
    if closes_on < opens_on:
        raise InvalidInput("Sista dag kan inte vara före första dag.", field="closes_on")
    panel_round = PanelRound(
        unit_id=unit_id,
        title=title,
        prompts=prompts,
        opens_on=opens_on,
        closes_on=closes_on,
        created_by_id=user.id,
    )
    session.add(panel_round)
    await session.flush()
    return panel_round


async def rounds_for_units(session: AsyncSession, unit_ids: frozenset[uuid.UUID] | None) -> list[PanelRound]:
    """Rounds in the given units (``None`` = every unit, for admins), newest first."""
    query = sa.select(PanelRound).order_by(PanelRound.opens_on.desc(), PanelRound.title)
    if unit_ids is not None:
        query = query.where(PanelRound.unit_id.in_(unit_ids))
    return list(await session.scalars(query))


def scope_of(user: CurrentUser) -> frozenset[uuid.UUID] | None:
    return None if user.is_admin else user.unit_ids


async def get_round(session: AsyncSession, *, user: CurrentUser, round_id: uuid.UUID) -> PanelRound:
    panel_round = await session.get(PanelRound, round_id)
    if panel_round is None or not user.can_access_unit(panel_round.unit_id):
        raise NotFound("Panelomgången finns inte.")
    return panel_round


@dataclass(frozen=True)
class RoundSummary:
    """What a manager sees of a round: how many took part, never who."""

    prompt: str
    reflections: int
    members: int


async def round_summary(session: AsyncSession, panel_round: PanelRound) -> list[RoundSummary]:
    rows = await session.execute(
        sa.select(
            Reflection.prompt_index,
            sa.func.count(Reflection.id),
            sa.func.count(sa.distinct(Reflection.member_id)),
        )
        .where(Reflection.round_id == panel_round.id)
        .group_by(Reflection.prompt_index)
    )
    counts = {index: (n, m) for index, n, m in rows}
    return [
        RoundSummary(prompt, *counts.get(index, (0, 0))) for index, prompt in enumerate(panel_round.prompts)
    ]


# ---------------------------------------------------------------- reflections (members)
def _require_member(user: CurrentUser) -> None:
    if user.role != Role.PANEL_MEMBER:
        raise Forbidden("Bara panelmedlemmar kan skriva reflektioner.")


async def open_rounds(session: AsyncSession, *, user: CurrentUser, today: date) -> list[PanelRound]:
    """Rounds open today in the member's units."""
    query = (
        sa.select(PanelRound)
        .where(
            PanelRound.unit_id.in_(user.unit_ids),
            PanelRound.opens_on <= today,
            PanelRound.closes_on >= today,
        )
        .order_by(PanelRound.closes_on)
    )
    return list(await session.scalars(query))


async def member_round(
    session: AsyncSession, *, user: CurrentUser, round_id: uuid.UUID
) -> tuple[PanelRound, dict[int, Reflection]]:
    """A round of one of the member's units, with the member's own reflections by prompt."""
    _require_member(user)
    panel_round = await get_round(session, user=user, round_id=round_id)
    own = await session.scalars(
        sa.select(Reflection).where(Reflection.round_id == round_id, Reflection.member_id == user.id)
    )
    return panel_round, {r.prompt_index: r for r in own}


async def save_reflection(
    session: AsyncSession,
    *,
    user: CurrentUser,
    round_id: uuid.UUID,
    prompt_index: int,
    text: str,
    importance: int | None,
    quote_consent: bool,
    now: datetime,
    pseudonym_key: str,
    redact: Callable[[str], str] | None = None,
) -> Reflection:
    """Write or edit the member's reflection while the round is open, and register it for theming.

    ``redact`` defaults to ``nlp.redact.redact``, as in ``register_open_text``. The stored
    ``text`` is redacted too (names, phone, e-mail, address, personnummer): the member sees
    placeholders where such details were, and nothing identifying is kept anywhere.
    """
    redactor = redact if redact is not None else nlp_redact
    panel_round, own = await member_round(session, user=user, round_id=round_id)
    if not panel_round.is_open(local_today(now)):
        raise Conflict("Omgången är stängd. Du kan inte längre skriva eller ändra reflektioner här.")
    if not 0 <= prompt_index < len(panel_round.prompts):
        raise InvalidInput("Frågan finns inte i den här omgången.", field="prompt_index")
    text = text.strip()
    if not text:
        raise InvalidInput("Skriv din reflektion innan du sparar.", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"Reflektionen får vara högst {MAX_TEXT} tecken.", field="text")
    if importance is not None and not 1 <= importance <= 5:
        raise InvalidInput("Välj hur viktigt det är på en skala 1–5.", field="importance")
    reflection = own.get(prompt_index)
    if reflection is None:
        reflection = Reflection(
            round_id=round_id, member_id=user.id, prompt_index=prompt_index, text=redactor(text)
        )
        session.add(reflection)
    if reflection.quote_consent != quote_consent:
        reflection.consent_changed_at = now
    reflection.text = redactor(text)
    reflection.importance = importance
    reflection.quote_consent = quote_consent
    await session.flush()
    await register_open_text(
        session,
        channel=Channel.PANEL,
        source_ref=source_ref(reflection.id),
        unit_id=panel_round.unit_id,
        respondent_key=respondent_key(pseudonym_key, "panel", user.id),
        text=text,
        received_at=now,
        question_key=f"panel:{panel_round.id}:{prompt_index}",
        quote_consent=quote_consent,
        redact=redactor,
    )
    return reflection


async def set_consent(
    session: AsyncSession, *, user: CurrentUser, reflection_id: uuid.UUID, consent: bool, now: datetime
) -> Reflection:
    """Give or withdraw consent to quoting; allowed at any time, also after the round closed."""
    _require_member(user)
    reflection = await session.get(Reflection, reflection_id)
    if reflection is None or reflection.member_id != user.id:
        raise NotFound("Reflektionen finns inte.")
    if reflection.quote_consent != consent:
        reflection.quote_consent = consent
        reflection.consent_changed_at = now
    if consent:
        await session.execute(
            sa.update(OpenText)
            .where(OpenText.source_ref == source_ref(reflection.id))
            .values(quote_consent=True)
        )
    else:  # the one withdrawal path for every channel (the caller marks review findings)
        ids = list(
            await session.scalars(
                sa.select(OpenText.id).where(OpenText.source_ref == source_ref(reflection.id))
            )
        )
        await withdraw_quote_consent(session, open_text_ids=ids)
    await session.flush()
    return reflection


async def my_reflections(session: AsyncSession, *, user: CurrentUser) -> list[tuple[Reflection, PanelRound]]:
    rows = await session.execute(
        sa.select(Reflection, PanelRound)
        .join(PanelRound, PanelRound.id == Reflection.round_id)
        .where(Reflection.member_id == user.id)
        .order_by(PanelRound.closes_on.desc(), Reflection.prompt_index)
    )
    return [(r, p) for r, p in rows]


# ---------------------------------------------------------------- "ni sa – vi gjorde"
async def published_items(
    session: AsyncSession, unit_ids: frozenset[uuid.UUID] | None
) -> list[PublishedItem]:
    query = sa.select(PublishedItem).order_by(PublishedItem.published_at.desc())
    if unit_ids is not None:
        query = query.where(PublishedItem.unit_id.in_(unit_ids))
    return list(await session.scalars(query))


async def redacted_reflections(session: AsyncSession, panel_round: PanelRound) -> list[tuple[int, str, bool]]:
    """(prompt index, redacted text, quote consent) for a manager; no member id or name."""
    refs = {
        source_ref(rid): index
        for rid, index in await session.execute(
            sa.select(Reflection.id, Reflection.prompt_index).where(Reflection.round_id == panel_round.id)
        )
    }
    if not refs:
        return []
    rows = await session.execute(
        sa.select(OpenText.source_ref, OpenText.text_redacted, OpenText.quote_consent)
        .where(OpenText.source_ref.in_(refs))
        .order_by(OpenText.received_at)
    )
    return sorted(((refs[ref], text, consent) for ref, text, consent in rows), key=lambda row: row[0])


async def round_member_count(session: AsyncSession, panel_round: PanelRound) -> int:
    """Distinct members who wrote anything in the round (decides whether texts may be shown)."""
    count = await session.scalar(
        sa.select(sa.func.count(sa.distinct(Reflection.member_id))).where(
            Reflection.round_id == panel_round.id
        )
    )
    return int(count or 0)
