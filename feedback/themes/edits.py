"""A manager's edits of themes: each changes only the answers it names, and each can be undone.

Why this module: before, every edit re-applied every rule and the worker retrained and re-themed
all answers behind it, so moving one answer changed the themes of dozens of others. Now an edit
is one ``ThemeEdit`` row that names its answers, keeps their themes and labels from before
(``ThemeEditAnswer``), writes only those answers, and can be undone (an ``undo`` edit) as long
as no later edit touched the same themes or answers and no retraining was applied since.

Where an edit applies is the manager's visible choice (``scope``):

* ``all``  — the theme list itself changes for every unit (a codebook decision: merge, retire);
  the named answers are every answer with the theme, in all units.
* ``mine`` — only the answers in the manager's own units change (stored as the manager's labels);
  the theme stays as it is for other units.

Rename changes only a name (no answers); a move names one answer; a split adds the new themes for
everyone and moves only the answers the manager assigned (the rest stay in the parent).

Every function takes the caller's session; the caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.core.errors import Forbidden, InvalidInput, NotFound
from feedback.themes import decisions
from feedback.themes.models import (
    AnswerLabel,
    CodebookEventRow,
    OpenTextTheme,
    RetrainRequest,
    ThemeEdit,
    ThemeEditAnswer,
)
from nlp.codebook import FALLBACK_KEY, Codebook, CodebookError
from surveys.answers.models import OpenText

SCOPES = ("all", "mine")
UNDOABLE = ("move", "rename", "merge", "split", "retire")


@dataclass(frozen=True)
class Impact:
    """What an edit would change, for the confirmation page (counted in the edit's scope)."""

    answers: int
    respondents: int
    scope: str


# ---------------------------------------------------------------- scope
def check_scope(user: CurrentUser, scope: str) -> str:
    """The manager's choice, refused when missing: an edit's reach is never a silent default."""
    if scope not in SCOPES:
        raise InvalidInput("Välj om ändringen gäller alla enheter eller bara dina enheter.", field="scope")
    if scope == "mine" and user.is_admin:
        return "all"  # an administrator's units are all units
    return scope


def _units(user: CurrentUser, scope: str) -> frozenset[uuid.UUID] | None:
    return None if scope == "all" or user.is_admin else user.unit_ids


def _in_units(query: sa.Select, units: frozenset[uuid.UUID] | None) -> sa.Select:
    return query if units is None else query.where(OpenText.unit_id.in_(units))


async def answers_with_key(
    session: AsyncSession, key: str, units: frozenset[uuid.UUID] | None
) -> list[uuid.UUID]:
    query = (
        sa.select(OpenTextTheme.open_text_id)
        .join(OpenText, OpenText.id == OpenTextTheme.open_text_id)
        .where(OpenTextTheme.theme_key == key)
    )
    return list(await session.scalars(_in_units(query, units)))


async def impact(session: AsyncSession, user: CurrentUser, key: str, scope: str) -> Impact:
    """How many answers (and people) an edit of ``key`` in ``scope`` names."""
    units = _units(user, scope)
    query = (
        sa.select(sa.func.count(OpenText.id), sa.func.count(sa.distinct(OpenText.respondent_key)))
        .join(OpenTextTheme, OpenTextTheme.open_text_id == OpenText.id)
        .where(OpenTextTheme.theme_key == key)
    )
    answers, people = (await session.execute(_in_units(query, units))).one()
    return Impact(int(answers), int(people), scope)


# ---------------------------------------------------------------- snapshots
def _theme_dict(t: OpenTextTheme) -> dict[str, Any]:
    return {
        "theme_key": t.theme_key,
        "score": t.score,
        "sentiment": t.sentiment,
        "evidence": list(t.evidence or []),
        "origin": t.origin,
    }


async def _snapshot(session: AsyncSession, edit: ThemeEdit, ids: Sequence[uuid.UUID]) -> None:
    """Keep the named answers' themes and labels from before ``edit``."""
    ids = list(dict.fromkeys(ids))
    themes: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    labels: dict[uuid.UUID, list[Any]] = {}
    for chunk in _chunks(ids):
        for t in await session.scalars(sa.select(OpenTextTheme).where(OpenTextTheme.open_text_id.in_(chunk))):
            themes[t.open_text_id].append(_theme_dict(t))
        for label in await session.scalars(sa.select(AnswerLabel).where(AnswerLabel.open_text_id.in_(chunk))):
            labels[label.open_text_id] = list(label.theme_keys)
    for i in ids:
        session.add(
            ThemeEditAnswer(
                edit_id=edit.id, open_text_id=i, before_themes=themes[i], before_label=labels.get(i)
            )
        )
    edit.n_answers = len(ids)
    await session.flush()


def _chunks(ids: Sequence[uuid.UUID], size: int = 500) -> list[list[uuid.UUID]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


async def _new_edit(
    session: AsyncSession,
    user: CurrentUser,
    *,
    kind: str,
    scope: str,
    keys: Sequence[str],
    payload: Mapping[str, Any],
    now: datetime,
) -> ThemeEdit:
    edit = ThemeEdit(
        kind=kind,
        scope=scope,
        unit_ids=sorted(str(u) for u in user.unit_ids) if scope == "mine" else [],
        keys=list(dict.fromkeys(keys)),
        payload=dict(payload),
        event_seqs=[],
        by_id=user.id,
        at=now,
    )
    session.add(edit)
    await session.flush()
    return edit


async def _record_event(
    session: AsyncSession,
    user: CurrentUser,
    edit: ThemeEdit,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
) -> Codebook:
    """Validate and store one codebook decision as part of ``edit`` (no answers are touched)."""
    codebook = await decisions.current_codebook(session)
    try:
        updated = codebook.apply({"kind": kind, "payload": payload})
    except (CodebookError, KeyError) as exc:
        raise InvalidInput(decisions.codebook_message(kind, exc)) from exc
    row = CodebookEventRow(kind=kind, payload=payload, by_id=user.id, at=now)
    session.add(row)
    await session.flush()
    edit.event_seqs = [*edit.event_seqs, row.seq]
    return updated


async def _label(
    session: AsyncSession, user: CurrentUser, open_text_id: uuid.UUID, keys: list[str], now: datetime
) -> None:
    """The manager's themes for one answer, stored as a label and written to its themes now."""
    keys = list(dict.fromkeys(keys)) or [FALLBACK_KEY]
    if len(keys) > 1 and FALLBACK_KEY in keys:
        keys.remove(FALLBACK_KEY)
    label = await session.get(AnswerLabel, open_text_id)
    if label is None:
        session.add(AnswerLabel(open_text_id=open_text_id, theme_keys=keys, by_id=user.id, at=now))
    else:
        label.theme_keys, label.by_id, label.at = keys, user.id, now
    await session.flush()
    await decisions.set_themes(session, open_text_id, keys, origin=decisions.MANAGER)


async def _stored_keys(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    for chunk in _chunks(list(ids)):
        rows = await session.execute(
            sa.select(OpenTextTheme.open_text_id, OpenTextTheme.theme_key)
            .where(OpenTextTheme.open_text_id.in_(chunk))
            .order_by(OpenTextTheme.theme_key)
        )
        for i, k in rows:
            out[i].append(k)
    return out


def _active(codebook: Codebook, key: str) -> None:
    theme = codebook.themes.get(key)
    if theme is None or not theme.active:
        raise NotFound("Temat finns inte eller är inte aktivt.")


# ---------------------------------------------------------------- the edits
async def move(
    session: AsyncSession,
    *,
    user: CurrentUser,
    open_text_id: uuid.UUID,
    from_key: str,
    to_key: str,
    now: datetime,
) -> ThemeEdit:
    """Move one answer from ``from_key`` to ``to_key`` (its other themes stay): names one answer."""
    decisions.require_manager(user)
    row = await session.get(OpenText, open_text_id)
    if row is None or not user.can_access_unit(row.unit_id):
        raise NotFound("Svaret finns inte.")
    codebook = await decisions.current_codebook(session)
    if to_key not in codebook.keys or to_key == from_key:
        raise InvalidInput("Välj ett annat aktivt tema att flytta svaret till.", field="to_key")
    current = (await _stored_keys(session, [open_text_id]))[open_text_id]
    keys = [to_key if k == from_key else k for k in current] if from_key in current else [*current, to_key]
    edit = await _new_edit(
        session,
        user,
        kind="move",
        scope="mine",
        keys=[from_key, to_key],
        payload={"from": from_key, "to": to_key},
        now=now,
    )
    await _snapshot(session, edit, [open_text_id])
    await _label(session, user, open_text_id, keys, now)
    return edit


async def rename(
    session: AsyncSession, *, user: CurrentUser, key: str, label_sv: str, now: datetime
) -> ThemeEdit:
    """A new name for everyone (names no answers: every count stays the same)."""
    decisions.require_manager(user)
    label_sv = label_sv.strip()
    if not label_sv or len(label_sv) > 200:
        raise InvalidInput("Skriv ett nytt namn (högst 200 tecken).", field="label_sv")
    codebook = await decisions.current_codebook(session)
    _active(codebook, key)
    edit = await _new_edit(
        session,
        user,
        kind="rename",
        scope="all",
        keys=[key],
        payload={"key": key, "from": codebook.label(key), "to": label_sv},
        now=now,
    )
    await _record_event(session, user, edit, "rename", {"key": key, "label_sv": label_sv}, now)
    return edit


async def merge(
    session: AsyncSession, *, user: CurrentUser, key: str, into: str, scope: str, now: datetime
) -> ThemeEdit:
    """The answers of ``key`` (in scope) count under ``into``; with ``all`` the theme is merged."""
    decisions.require_manager(user)
    scope = check_scope(user, scope)
    codebook = await decisions.current_codebook(session)
    _active(codebook, key)
    if key == FALLBACK_KEY or into == key or into == FALLBACK_KEY or into not in codebook.keys:
        raise InvalidInput("Välj två olika aktiva teman att slå ihop.", field="into")
    ids = await answers_with_key(session, key, _units(user, scope))
    edit = await _new_edit(
        session,
        user,
        kind="merge",
        scope=scope,
        keys=[key, into],
        payload={"key": key, "into": into, "label": codebook.label(key), "into_label": codebook.label(into)},
        now=now,
    )
    await _snapshot(session, edit, ids)
    if scope == "all":
        updated = await _record_event(session, user, edit, "merge", {"key": key, "into": into}, now)
        await decisions.apply_key(session, updated, key, ids)
    else:
        stored = await _stored_keys(session, ids)
        for i in ids:
            await _label(session, user, i, [into if k == key else k for k in stored[i]], now)
    return edit


async def retire(
    session: AsyncSession, *, user: CurrentUser, key: str, scope: str, now: datetime
) -> ThemeEdit:
    """``key`` is taken off its answers (in scope); an answer left with none counts as "annat"."""
    decisions.require_manager(user)
    scope = check_scope(user, scope)
    codebook = await decisions.current_codebook(session)
    _active(codebook, key)
    if key == FALLBACK_KEY:
        raise InvalidInput("Temat finns inte, är inte aktivt eller kan inte avvecklas.")
    ids = await answers_with_key(session, key, _units(user, scope))
    edit = await _new_edit(
        session,
        user,
        kind="retire",
        scope=scope,
        keys=[key],
        payload={"key": key, "label": codebook.label(key)},
        now=now,
    )
    await _snapshot(session, edit, ids)
    if scope == "all":
        updated = await _record_event(session, user, edit, "retire", {"key": key}, now)
        await decisions.apply_key(session, updated, key, ids)
    else:
        stored = await _stored_keys(session, ids)
        for i in ids:
            await _label(session, user, i, [k for k in stored[i] if k != key], now)
    return edit


async def split(
    session: AsyncSession,
    *,
    user: CurrentUser,
    key: str,
    parts: Sequence[Mapping[str, Any]],
    assignments: Mapping[uuid.UUID, int],
    now: datetime,
) -> ThemeEdit:
    """New themes from ``key``; only the answers the manager assigned move, the rest stay in ``key``.

    ``parts`` are ``{"label_sv", "terms"}``; ``assignments`` maps an answer (with ``key``, in the
    manager's units) to the index of its new theme. The new themes exist for every unit; answers
    from units the manager cannot see stay in ``key`` until their manager decides.
    """
    decisions.require_manager(user)
    codebook = await decisions.current_codebook(session)
    _active(codebook, key)
    if key == FALLBACK_KEY:
        raise InvalidInput("Temat ”Övrigt” kan inte delas.")
    labels = [str(p.get("label_sv", "")).strip() for p in parts]
    if len(labels) < 2 or not all(labels) or len({x.casefold() for x in labels}) < len(labels):
        raise InvalidInput("Skriv två olika namn för de nya temana.", field="label_a")
    if any(len(x) > 200 for x in labels):
        raise InvalidInput("Namnen får vara högst 200 tecken.", field="label_a")
    if any(t.label_sv.casefold() in {x.casefold() for x in labels} for t in codebook.active):
        raise InvalidInput("Det finns redan ett tema med det namnet.", field="label_a")
    allowed = set(await answers_with_key(session, key, None if user.is_admin else user.unit_ids))
    if any(i not in allowed for i in assignments):
        raise InvalidInput("Ett av svaren finns inte längre i temat. Ladda om sidan och försök igen.")
    if any(not 0 <= n < len(labels) for n in assignments.values()):
        raise InvalidInput("Välj ett av de nya temana för varje svar du flyttar.")
    taken = set(codebook.themes)
    new_keys = []
    for label in labels:
        new_key = decisions.slug_key(label, taken)
        taken.add(new_key)
        new_keys.append(new_key)
    edit = await _new_edit(
        session,
        user,
        kind="split",
        scope="all" if user.is_admin else "mine",
        keys=[key, *new_keys],
        payload={"key": key, "label": codebook.label(key), "into": new_keys, "labels": labels},
        now=now,
    )
    for new_key, label, part in zip(new_keys, labels, parts, strict=True):
        terms = [str(t).strip().lower() for t in part.get("terms", ()) if str(t).strip()][:10]
        event: dict[str, Any] = {
            "key": new_key,
            "label_sv": label,
            "description": f"Delat från ”{codebook.label(key)}”.",
        }
        if terms:
            event["seed_terms"] = terms
        await _record_event(session, user, edit, "add", event, now)
    ids = list(assignments)
    await _snapshot(session, edit, ids)
    stored = await _stored_keys(session, ids)
    for i, n in assignments.items():
        await _label(session, user, i, [new_keys[n] if k == key else k for k in stored[i]], now)
    return edit


# ---------------------------------------------------------------- undo
async def undo_refusal(session: AsyncSession, edit: ThemeEdit) -> str | None:
    """Why ``edit`` cannot be undone now (Swedish), or None when it can."""
    if edit.kind not in UNDOABLE:
        return "Det går bara att ångra en ändring av teman."
    if edit.undone_at is not None:
        return "Ändringen är redan ångrad."
    retrained = await session.scalar(sa.select(sa.func.max(RetrainRequest.confirmed_at)))
    if retrained is not None and retrained > edit.at:
        return "Modellen har tränats om efter ändringen, så den kan inte ångras längre."
    later = list(
        await session.scalars(
            sa.select(ThemeEdit).where(
                ThemeEdit.id > edit.id, ThemeEdit.undone_at.is_(None), ThemeEdit.kind.in_(UNDOABLE)
            )
        )
    )
    mine = set(edit.keys)
    if any(mine & set(e.keys) for e in later):
        return "En senare ändring av samma tema måste ångras först."
    if later:
        ours = sa.select(ThemeEditAnswer.open_text_id).where(ThemeEditAnswer.edit_id == edit.id)
        shared = await session.scalar(
            sa.select(sa.func.count())
            .select_from(ThemeEditAnswer)
            .where(
                ThemeEditAnswer.edit_id.in_([e.id for e in later]),
                ThemeEditAnswer.open_text_id.in_(ours),
            )
        )
        if shared:
            return "En senare ändring av samma svar måste ångras först."
    return None


async def undo(session: AsyncSession, *, user: CurrentUser, edit_id: int, now: datetime) -> ThemeEdit:
    """Put back exactly what ``edit`` changed, and record the undo as an edit of its own."""
    decisions.require_manager(user)
    edit = await session.get(ThemeEdit, edit_id)
    if edit is None:
        raise NotFound("Ändringen finns inte.")
    if (
        edit.scope == "mine"
        and not user.is_admin
        and not {uuid.UUID(u) for u in edit.unit_ids} <= user.unit_ids
    ):
        raise Forbidden("Bara en chef för samma enheter kan ångra ändringen.")
    reason = await undo_refusal(session, edit)
    if reason:
        raise InvalidInput(reason)
    if edit.event_seqs:
        await session.execute(
            sa.update(CodebookEventRow).where(CodebookEventRow.seq.in_(edit.event_seqs)).values(undone_at=now)
        )
        try:
            await decisions.current_codebook(session)
        except CodebookError as exc:  # a later decision builds on this one
            raise InvalidInput("En senare ändring bygger på den här och måste ångras först.") from exc
    answers = list(
        await session.scalars(sa.select(ThemeEditAnswer).where(ThemeEditAnswer.edit_id == edit.id))
    )
    undo_edit = await _new_edit(
        session,
        user,
        kind="undo",
        scope=edit.scope,
        keys=list(edit.keys),
        payload={"kind": edit.kind, **edit.payload},
        now=now,
    )
    undo_edit.undo_of = edit.id
    undo_edit.n_answers = len(answers)
    for chunk in _chunks([a.open_text_id for a in answers]):
        await session.execute(sa.delete(OpenTextTheme).where(OpenTextTheme.open_text_id.in_(chunk)))
    for a in answers:
        for t in a.before_themes:
            session.add(OpenTextTheme(open_text_id=a.open_text_id, **t))
        label = await session.get(AnswerLabel, a.open_text_id)
        if a.before_label is None and label is not None:
            await session.delete(label)
        elif a.before_label is not None:
            if label is None:
                session.add(AnswerLabel(open_text_id=a.open_text_id, theme_keys=list(a.before_label), at=now))
            else:
                label.theme_keys = list(a.before_label)
    edit.undone_at = now
    await session.flush()
    return undo_edit


async def recent(
    session: AsyncSession, user: CurrentUser, limit: int = 10
) -> list[tuple[ThemeEdit, str | None]]:
    """The newest edits the user may see, each with why it cannot be undone (None: it can)."""
    rows = list(await session.scalars(sa.select(ThemeEdit).order_by(ThemeEdit.id.desc()).limit(limit * 3)))
    visible = [
        e
        for e in rows
        if user.is_admin or e.scope == "all" or {uuid.UUID(u) for u in e.unit_ids} <= user.unit_ids
    ][:limit]
    return [(e, None if e.kind == "undo" else await undo_refusal(session, e)) for e in visible]
