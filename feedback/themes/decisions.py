"""Durable theme decisions: the current codebook, manager labels, and re-applying both.

Why rules, not edits: a manager's rename, merge, split, retire, new theme and "this answer belongs
to theme X" are stored as data (``theme_codebook_event``, ``theme_answer_label``,
``theme_proposal_decision``) and replayed on top of whatever the model or the clustering produce.
Retraining, re-theming or re-running discovery therefore never loses a human decision, and
manager labels are the training data's last word (``nlp.dataset.combine_labels``: manager wins).

Every function takes the caller's session; the caller commits.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.errors import Forbidden, InvalidInput, NotFound
from feedback.themes.models import AnswerLabel, CodebookEventRow, OpenTextTheme
from nlp.codebook import FALLBACK_KEY, Codebook, CodebookError, CodebookEvent, load_codebook
from surveys.answers.models import OpenText, ThemingStatus

MANAGER = "manager"


def require_manager(user: CurrentUser) -> None:
    if user.role not in (Role.MANAGER, Role.ADMIN):
        raise Forbidden("Bara enhetschefer kan ändra teman.")


def slug_key(label: str, taken: Iterable[str]) -> str:
    """A stable ASCII key from a Swedish label (``Busskort och resor`` → ``busskort_och_resor``)."""
    text = unicodedata.normalize("NFKD", label.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    key = re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:48] or "tema"
    taken = set(taken)
    candidate, n = key, 2
    while candidate in taken:
        candidate, n = f"{key}_{n}", n + 1
    return candidate


# ---------------------------------------------------------------- the codebook
async def codebook_events(session: AsyncSession) -> list[CodebookEvent]:
    """The stored decisions in order, without the undone ones."""
    rows = await session.scalars(
        sa.select(CodebookEventRow).where(CodebookEventRow.undone_at.is_(None)).order_by(CodebookEventRow.seq)
    )
    return [
        CodebookEvent(kind=r.kind, payload=dict(r.payload), by=str(r.by_id or ""), at=r.at.isoformat())
        for r in rows
    ]


async def current_codebook(session: AsyncSession, base: Codebook | None = None) -> Codebook:
    """The shipped seed codebook with every stored manager decision replayed in order."""
    base = base or load_codebook()
    return Codebook(base.base, (*base.events, *await codebook_events(session)))


async def record_theme_event(
    session: AsyncSession,
    *,
    user: CurrentUser,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
) -> Codebook:
    """Validate and store one codebook decision, then re-apply every rule to the stored answers."""
    require_manager(user)
    codebook = await current_codebook(session)
    try:
        updated = codebook.apply(CodebookEvent(kind=kind, payload=payload))
    except (CodebookError, KeyError) as exc:
        raise InvalidInput(codebook_message(kind, exc)) from exc
    session.add(CodebookEventRow(kind=kind, payload=payload, by_id=user.id, at=now))
    await session.flush()
    await reapply_rules(session, updated)
    return updated


def codebook_message(kind: str, exc: Exception) -> str:
    return {
        "add": "Det finns redan ett tema med det namnet.",
        "merge": "Välj två olika aktiva teman att slå ihop.",
        "split": "En delning behöver minst två nya teman med nya namn.",
        "rename": "Temat finns inte eller är inte aktivt.",
        "retire": "Temat finns inte, är inte aktivt eller kan inte avvecklas.",
    }.get(kind, f"Ändringen kunde inte göras ({exc}).")


# ---------------------------------------------------------------- answer labels
async def relabel_answer(
    session: AsyncSession,
    *,
    user: CurrentUser,
    open_text_id: uuid.UUID,
    theme_keys: Sequence[str],
    now: datetime,
) -> OpenText:
    """Store the manager's themes for one answer (in one of their units) and apply them now."""
    require_manager(user)
    row = await session.get(OpenText, open_text_id)
    if row is None or not user.can_access_unit(row.unit_id):
        raise NotFound("Svaret finns inte.")
    codebook = await current_codebook(session)
    keys = list(dict.fromkeys(theme_keys))
    active = set(codebook.keys)
    if not keys or any(k not in active for k in keys):
        raise InvalidInput("Välj ett aktivt tema.", field="theme_key")
    label = await session.get(AnswerLabel, open_text_id)
    if label is None:
        session.add(AnswerLabel(open_text_id=open_text_id, theme_keys=keys, by_id=user.id, at=now))
    else:
        label.theme_keys, label.by_id, label.at = keys, user.id, now
    await session.flush()
    await set_themes(session, open_text_id, keys, origin=MANAGER)
    return row


async def move_answer(
    session: AsyncSession,
    *,
    user: CurrentUser,
    open_text_id: uuid.UUID,
    from_key: str,
    to_key: str,
    now: datetime,
) -> OpenText:
    """Move an answer from one theme to another, keeping its other themes."""
    current = [
        k
        for k in await session.scalars(
            sa.select(OpenTextTheme.theme_key).where(OpenTextTheme.open_text_id == open_text_id)
        )
    ]
    keys = [to_key if k == from_key else k for k in current] if from_key in current else [*current, to_key]
    if len(keys) > 1 and FALLBACK_KEY in keys:
        keys.remove(FALLBACK_KEY)
    return await relabel_answer(session, user=user, open_text_id=open_text_id, theme_keys=keys, now=now)


async def set_themes(
    session: AsyncSession, open_text_id: uuid.UUID, keys: Sequence[str], origin: str
) -> None:
    """Make one answer's stored themes exactly ``keys`` (rows it keeps keep their scores)."""
    old = {
        t.theme_key: t
        for t in await session.scalars(
            sa.select(OpenTextTheme).where(OpenTextTheme.open_text_id == open_text_id)
        )
    }
    for key, theme in old.items():
        if key not in keys:
            await session.delete(theme)
    for key in keys:
        if key in old:
            old[key].origin = origin
        else:
            session.add(OpenTextTheme(open_text_id=open_text_id, theme_key=key, score=1.0, origin=origin))
    await session.flush()


async def manager_labels(session: AsyncSession) -> list[dict[str, Any]]:
    """Manager labels as training rows ``{id, text, themes}`` (redacted text; manager wins)."""
    rows = await session.execute(
        sa.select(OpenText.id, OpenText.text_redacted, AnswerLabel.theme_keys).join(
            AnswerLabel, AnswerLabel.open_text_id == OpenText.id
        )
    )
    return [{"id": f"open_text:{i}", "text": text, "themes": list(keys)} for i, text, keys in rows]


# ---------------------------------------------------------------- re-applying every rule
async def reapply_rules(session: AsyncSession, codebook: Codebook | None = None) -> None:
    """Make stored themes agree with the codebook and the manager labels.

    Merged keys move to their target, retired and split keys are dropped (an answer left without
    themes counts as ``annat``), and every manager label replaces whatever the model said.
    Set-based, so it stays cheap on a year of answers.
    """
    codebook = codebook or await current_codebook(session)
    active = set(codebook.keys)
    stored = set(await session.scalars(sa.select(OpenTextTheme.theme_key).distinct()))
    for key in sorted(stored - active):
        targets = codebook.resolve(key)
        for target in targets:
            already = sa.select(OpenTextTheme.open_text_id).where(OpenTextTheme.theme_key == target)
            await session.execute(
                sa.insert(OpenTextTheme).from_select(
                    ["open_text_id", "theme_key", "score", "sentiment", "evidence", "origin"],
                    sa.select(
                        OpenTextTheme.open_text_id,
                        sa.literal(target),
                        OpenTextTheme.score,
                        OpenTextTheme.sentiment,
                        OpenTextTheme.evidence,
                        sa.literal("rule"),
                    ).where(OpenTextTheme.theme_key == key, OpenTextTheme.open_text_id.not_in(already)),
                )
            )
        await session.execute(sa.delete(OpenTextTheme).where(OpenTextTheme.theme_key == key))
    # themed answers that lost every theme count as "annat"
    has_theme = sa.select(OpenTextTheme.open_text_id)
    await session.execute(
        sa.insert(OpenTextTheme).from_select(
            ["open_text_id", "theme_key", "score", "evidence", "origin"],
            sa.select(
                OpenText.id,
                sa.literal(FALLBACK_KEY),
                sa.literal(1.0),
                sa.literal([], sa.JSON),
                sa.literal("rule"),
            ).where(OpenText.status == ThemingStatus.THEMED, OpenText.id.not_in(has_theme)),
        )
    )
    for label in list(await session.scalars(sa.select(AnswerLabel))):
        keys = codebook.resolve_labels(label.theme_keys) or [FALLBACK_KEY]
        await set_themes(session, label.open_text_id, keys, origin=MANAGER)
    await session.execute(
        sa.update(OpenText)
        .where(OpenText.status == ThemingStatus.THEMED)
        .values(codebook_version=codebook.version)
    )
    await session.flush()


async def apply_key(session: AsyncSession, codebook: Codebook, key: str, ids: Sequence[uuid.UUID]) -> None:
    """Make the answers ``ids`` (those stored with ``key``) agree with a merge or retirement of ``key``.

    The same rules as ``reapply_rules``, limited to one theme and its answers: ``key`` moves to
    what it resolves to (merge target, or nothing), an answer left with no theme counts as
    ``annat``, and a manager label is resolved and wins. No other answer is written.
    """
    targets = codebook.resolve(key)
    for chunk in [list(ids[i : i + 500]) for i in range(0, len(ids), 500)]:
        for target in targets:
            already = sa.select(OpenTextTheme.open_text_id).where(
                OpenTextTheme.theme_key == target, OpenTextTheme.open_text_id.in_(chunk)
            )
            await session.execute(
                sa.insert(OpenTextTheme).from_select(
                    ["open_text_id", "theme_key", "score", "sentiment", "evidence", "origin"],
                    sa.select(
                        OpenTextTheme.open_text_id,
                        sa.literal(target),
                        OpenTextTheme.score,
                        OpenTextTheme.sentiment,
                        OpenTextTheme.evidence,
                        sa.literal("rule"),
                    ).where(
                        OpenTextTheme.theme_key == key,
                        OpenTextTheme.open_text_id.in_(chunk),
                        OpenTextTheme.open_text_id.not_in(already),
                    ),
                )
            )
        await session.execute(
            sa.delete(OpenTextTheme).where(
                OpenTextTheme.theme_key == key, OpenTextTheme.open_text_id.in_(chunk)
            )
        )
        has_theme = sa.select(OpenTextTheme.open_text_id).where(OpenTextTheme.open_text_id.in_(chunk))
        for open_text_id in [i for i in chunk if i not in set(await session.scalars(has_theme))]:
            session.add(
                OpenTextTheme(open_text_id=open_text_id, theme_key=FALLBACK_KEY, score=1.0, origin="rule")
            )
        await session.flush()
        for open_text_id, keys in (await labelled_keys(session, chunk, codebook)).items():
            await set_themes(session, open_text_id, keys, origin=MANAGER)


async def labelled_keys(
    session: AsyncSession, ids: Iterable[uuid.UUID], codebook: Codebook
) -> dict[uuid.UUID, list[str]]:
    """Manager labels (resolved through the codebook) for the given answers."""
    ids = list(ids)
    if not ids:
        return {}
    rows = await session.scalars(sa.select(AnswerLabel).where(AnswerLabel.open_text_id.in_(ids)))
    return {r.open_text_id: codebook.resolve_labels(r.theme_keys) or [FALLBACK_KEY] for r in rows}
