"""Discovery from the page or the worker: propose themes, and store the manager's decisions.

Proposals come from ``nlp.discover`` over the answers of the manager's units (quotes are from
those units only). Decisions (accept, merge, rename, reject) are stored and passed to every later
discovery run, so a rejected proposal is not proposed again and a renamed one keeps its name.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import anyio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.core.errors import InvalidInput, NotFound
from feedback.themes.decisions import (
    current_codebook,
    record_theme_event,
    relabel_answer,
    require_manager,
    slug_key,
)
from feedback.themes.models import OpenTextTheme, ProposalDecision, ThemeProposal
from nlp.codebook import FALLBACK_KEY
from surveys.answers.models import OpenText

ACTIONS = ("accept", "merge", "rename", "reject")


def _scope(user: CurrentUser) -> frozenset[uuid.UUID] | None:
    return None if user.is_admin else user.unit_ids


async def decisions(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.scalars(sa.select(ProposalDecision).order_by(ProposalDecision.at))
    return [
        {
            "proposal_id": d.proposal_id,
            "action": d.action,
            "label_terms": list(d.label_terms),
            "key": d.key,
            "label_sv": d.label_sv,
        }
        for d in rows
    ]


async def run_discovery(
    session: AsyncSession, *, user: CurrentUser, model: Any, now: datetime
) -> list[ThemeProposal]:
    """Run discovery on the answers of the user's units; replaces their undecided proposals."""
    from nlp.discover import discover

    require_manager(user)
    scope = _scope(user)
    query = sa.select(OpenText.id, OpenText.text_redacted, OpenText.respondent_key, OpenText.unit_id)
    if scope is not None:
        query = query.where(OpenText.unit_id.in_(scope))
    rows = list(await session.execute(query))
    unit_of = {str(i): u for i, _, _, u in rows}
    items = [{"id": str(i), "text": text, "respondent": key} for i, text, key, _ in rows]
    codebook = await current_codebook(session)
    decided = await decisions(session)
    result = await anyio.to_thread.run_sync(
        lambda: discover(items, codebook, model=model, decisions=decided) if items else None
    )
    for old in await visible_proposals(session, user=user):
        await session.delete(old)
    await session.flush()
    stored = []
    for p in result.proposals if result else []:
        existing = await session.get(ThemeProposal, p.proposal_id)
        if existing is not None:
            await session.delete(existing)
            await session.flush()
        row = ThemeProposal(
            proposal_id=p.proposal_id,
            label_sv=p.label_sv[:200],
            label_terms=list(p.label_terms),
            n_respondents=p.n_respondents,
            size=p.size,
            quotes=list(p.quotes),
            member_ids=list(p.member_ids),
            unit_ids=sorted({str(unit_of[m]) for m in p.member_ids if m in unit_of}),
            proposed_at=now,
        )
        session.add(row)
        stored.append(row)
    await session.flush()
    return stored


async def visible_proposals(session: AsyncSession, *, user: CurrentUser) -> list[ThemeProposal]:
    """Proposals whose answers all come from the user's units."""
    rows = list(await session.scalars(sa.select(ThemeProposal).order_by(ThemeProposal.n_respondents.desc())))
    if user.is_admin:
        return rows
    mine = {str(u) for u in user.unit_ids}
    return [r for r in rows if set(r.unit_ids) <= mine]


async def decide(
    session: AsyncSession,
    *,
    user: CurrentUser,
    proposal_id: str,
    action: str,
    now: datetime,
    label_sv: str = "",
    target_key: str = "",
) -> ProposalDecision:
    """Store the manager's decision and carry it out (new theme, seeds, labels)."""
    require_manager(user)
    if action not in ACTIONS:
        raise InvalidInput("Välj vad som ska hända med förslaget.", field="action")
    proposal = next(
        (p for p in await visible_proposals(session, user=user) if p.proposal_id == proposal_id), None
    )
    if proposal is None:
        raise NotFound("Förslaget finns inte.")
    label_sv = label_sv.strip()
    key: str | None = None
    if action in ("accept", "rename") and not label_sv:
        label_sv = proposal.label_sv if action == "accept" else ""
        if not label_sv:
            raise InvalidInput("Skriv ett nytt namn för förslaget.", field="label_sv")
    if len(label_sv) > 200:
        raise InvalidInput("Namnet får vara högst 200 tecken.", field="label_sv")
    codebook = await current_codebook(session)
    if action == "accept":
        key = slug_key(label_sv, codebook.themes)
        await record_theme_event(
            session,
            user=user,
            kind="add",
            payload={"key": key, "label_sv": label_sv, "seed_terms": list(proposal.label_terms[:5])},
            now=now,
        )
    elif action == "merge":
        if target_key not in codebook.keys or target_key == FALLBACK_KEY:
            raise InvalidInput("Välj ett aktivt tema att slå ihop förslaget med.", field="target_key")
        key = target_key
        await record_theme_event(
            session,
            user=user,
            kind="add_seeds",
            payload={"key": key, "seed_terms": list(proposal.label_terms[:5])},
            now=now,
        )
    decision = ProposalDecision(
        proposal_id=proposal.proposal_id,
        action=action,
        label_terms=list(proposal.label_terms),
        key=key,
        label_sv=label_sv or None,
        by_id=user.id,
        at=now,
    )
    session.add(decision)
    if key is not None:  # the clustered answers now belong to the theme (manager labels → training)
        for member in proposal.member_ids:
            await _add_theme(session, user, uuid.UUID(member), key, now)
    if action == "rename":
        proposal.label_sv = label_sv
    else:
        await session.delete(proposal)
    await session.flush()
    return decision


async def _add_theme(
    session: AsyncSession, user: CurrentUser, open_text_id: uuid.UUID, key: str, now: datetime
) -> None:
    keys = [
        k
        for k in await session.scalars(
            sa.select(OpenTextTheme.theme_key).where(OpenTextTheme.open_text_id == open_text_id)
        )
        if k != FALLBACK_KEY
    ]
    await relabel_answer(session, user=user, open_text_id=open_text_id, theme_keys=[*keys, key], now=now)
