"""A manager's edit changes only the answers it names, and an undo puts exactly those back.

Example-based tests run on SQLite and PostgreSQL; the property test draws random sequences of
edits (move, rename, merge, retire, split, undo; all units or only mine) on SQLite and checks,
after every edit, that every answer it does not name keeps identical themes and labels.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, Unit, User
from feedback.core.errors import DomainError, InvalidInput
from feedback.themes import decisions, edits
from feedback.themes.models import AnswerLabel, OpenTextTheme, ThemeEdit, ThemeEditAnswer
from surveys.answers.models import OpenText, ThemingStatus
from surveys.answers.service import register_open_text
from tests.helpers import make_unit, make_user

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
KEYS = ["bemotande", "handlaggning", "halsa", "samverkan", "stod_till_arbete", "annat"]


async def _answer(
    session: AsyncSession, unit_id: uuid.UUID, text: str, keys: list[str], ref: str
) -> OpenText:
    row = await register_open_text(
        session,
        channel="sms",
        source_ref=ref,
        unit_id=unit_id,
        respondent_key=ref,
        text=text,
        received_at=NOW,
        redact=lambda t: t,
    )
    row.status = ThemingStatus.THEMED
    for i, key in enumerate(keys):
        session.add(
            OpenTextTheme(
                open_text_id=row.id, theme_key=key, score=0.5 + i / 10, sentiment="neg", origin="model"
            )
        )
    await session.flush()
    return row


async def _state(session: AsyncSession) -> dict[uuid.UUID, tuple[Any, ...]]:
    """Every answer's stored themes (key, score, sentiment, origin) and its label."""
    out: dict[uuid.UUID, list[Any]] = {i: [] for i in await session.scalars(sa.select(OpenText.id))}
    for t in await session.scalars(sa.select(OpenTextTheme)):
        out[t.open_text_id].append((t.theme_key, round(t.score, 6), t.sentiment, t.origin))
    labels = {a.open_text_id: tuple(a.theme_keys) for a in await session.scalars(sa.select(AnswerLabel))}
    return {i: (tuple(sorted(v)), labels.get(i)) for i, v in out.items()}


def _keys(state: dict[uuid.UUID, tuple[Any, ...]], i: uuid.UUID) -> set[str]:
    return {k for k, *_ in state[i][0]}


async def _people(session: AsyncSession) -> tuple[Unit, Unit, CurrentUser, CurrentUser]:
    norra = await make_unit(session, name="Norra")
    sodra = await make_unit(session, name="Södra")
    a = CurrentUser.from_user(await make_user(session, Role.MANAGER, [norra]))
    b = CurrentUser.from_user(await make_user(session, Role.MANAGER, [sodra]))
    return norra, sodra, a, b


async def test_a_move_changes_one_answer_and_its_undo_puts_it_back(db_session: AsyncSession) -> None:
    norra, _sodra, manager, _ = await _people(db_session)
    rows = [await _answer(db_session, norra.id, f"svar {i}", [KEYS[i % 3]], f"r{i}") for i in range(12)]
    before = await _state(db_session)
    edit = await edits.move(
        db_session,
        user=manager,
        open_text_id=rows[0].id,
        from_key="bemotande",
        to_key="handlaggning",
        now=NOW,
    )
    after = await _state(db_session)
    assert _keys(after, rows[0].id) == {"handlaggning"} and after[rows[0].id][1] == ("handlaggning",)
    assert {i: v for i, v in after.items() if i != rows[0].id} == {
        i: v for i, v in before.items() if i != rows[0].id
    }
    await edits.undo(db_session, user=manager, edit_id=edit.id, now=NOW + timedelta(minutes=1))
    assert await _state(db_session) == before
    assert (await db_session.get(ThemeEdit, edit.id)).undone_at is not None


async def test_merge_only_mine_leaves_other_units_and_the_theme_list_alone(db_session: AsyncSession) -> None:
    norra, sodra, manager, _ = await _people(db_session)
    mine = await _answer(db_session, norra.id, "lång väntan", ["handlaggning", "bemotande"], "m")
    theirs = await _answer(db_session, sodra.id, "lång väntan där", ["handlaggning"], "t")
    before = await _state(db_session)
    with pytest.raises(InvalidInput):  # where it applies is a choice, never a default
        await edits.merge(db_session, user=manager, key="handlaggning", into="halsa", scope="", now=NOW)
    impact = await edits.impact(db_session, manager, "handlaggning", "mine")
    assert (impact.answers, impact.respondents) == (1, 1)
    await edits.merge(db_session, user=manager, key="handlaggning", into="halsa", scope="mine", now=NOW)
    after = await _state(db_session)
    assert _keys(after, mine.id) == {"halsa", "bemotande"}
    assert after[theirs.id] == before[theirs.id]
    assert "handlaggning" in (await decisions.current_codebook(db_session)).keys

    edit = await edits.merge(
        db_session, user=manager, key="handlaggning", into="samverkan", scope="all", now=NOW
    )
    assert "handlaggning" not in (await decisions.current_codebook(db_session)).keys
    assert _keys(await _state(db_session), theirs.id) == {"samverkan"}
    await edits.undo(db_session, user=manager, edit_id=edit.id, now=NOW)
    assert "handlaggning" in (await decisions.current_codebook(db_session)).keys
    assert await _state(db_session) == after


async def test_split_moves_only_assigned_answers_and_undo_restores_the_parent(
    db_session: AsyncSession,
) -> None:
    norra, sodra, manager, _ = await _people(db_session)
    texts = ["ångest varje dag", "ont i ryggen", "psykisk ohälsa", "mår dåligt", "trött"]
    rows = [await _answer(db_session, norra.id, t, ["halsa"], f"h{i}") for i, t in enumerate(texts)]
    other = await _answer(db_session, sodra.id, "ont i knät", ["halsa"], "o")
    before = await _state(db_session)
    edit = await edits.split(
        db_session,
        user=manager,
        key="halsa",
        parts=[{"label_sv": "Psykisk hälsa", "terms": ["ångest"]}, {"label_sv": "Fysisk hälsa", "terms": []}],
        assignments={rows[0].id: 0, rows[2].id: 0, rows[1].id: 1},
        now=NOW,
    )
    codebook = await decisions.current_codebook(db_session)
    assert {"psykisk_halsa", "fysisk_halsa", "halsa"} <= set(codebook.keys)  # the parent stays
    after = await _state(db_session)
    assert _keys(after, rows[0].id) == _keys(after, rows[2].id) == {"psykisk_halsa"}
    assert _keys(after, rows[1].id) == {"fysisk_halsa"}
    for row in (rows[3], rows[4], other):  # undecided and other units: still in the parent
        assert after[row.id] == before[row.id]
    assert edit.n_answers == 3
    with pytest.raises(InvalidInput):  # an answer of a unit the manager cannot see
        await edits.split(
            db_session,
            user=manager,
            key="halsa",
            parts=[{"label_sv": "A"}, {"label_sv": "B"}],
            assignments={other.id: 0},
            now=NOW,
        )
    await edits.undo(db_session, user=manager, edit_id=edit.id, now=NOW)
    assert await _state(db_session) == before
    assert "psykisk_halsa" not in (await decisions.current_codebook(db_session)).keys


async def test_undo_waits_for_a_later_edit_of_the_same_theme(db_session: AsyncSession) -> None:
    norra, _sodra, manager, _ = await _people(db_session)
    row = await _answer(db_session, norra.id, "text", ["halsa"], "x")
    await _answer(db_session, norra.id, "text 2", ["bemotande"], "y")
    first = await edits.retire(db_session, user=manager, key="halsa", scope="mine", now=NOW)
    later = await edits.move(
        db_session, user=manager, open_text_id=row.id, from_key="annat", to_key="bemotande", now=NOW
    )
    assert await edits.undo_refusal(db_session, first) is not None
    with pytest.raises(InvalidInput):
        await edits.undo(db_session, user=manager, edit_id=first.id, now=NOW)
    await edits.undo(db_session, user=manager, edit_id=later.id, now=NOW)
    await edits.undo(db_session, user=manager, edit_id=first.id, now=NOW)
    assert _keys(await _state(db_session), row.id) == {"halsa"}


# ---------------------------------------------------------------- the property
async def _fixed_people(session: AsyncSession) -> tuple[list[uuid.UUID], list[CurrentUser]]:
    """Two units with one manager each, made once and shared by every example."""
    users = list(await session.scalars(sa.select(User).where(User.role == Role.MANAGER).order_by(User.email)))
    if len(users) < 2:
        await _people(session)
        users = list(
            await session.scalars(sa.select(User).where(User.role == Role.MANAGER).order_by(User.email))
        )
    managers = [CurrentUser.from_user(u) for u in users[:2]]
    return [next(iter(m.unit_ids)) for m in managers], managers


async def _named(session: AsyncSession, edit: ThemeEdit) -> set[uuid.UUID]:
    return set(
        await session.scalars(
            sa.select(ThemeEditAnswer.open_text_id).where(ThemeEditAnswer.edit_id == edit.id)
        )
    )


answers_st = st.lists(
    st.tuples(st.integers(0, 1), st.sets(st.sampled_from(KEYS[:-1]), min_size=1, max_size=3)),
    min_size=3,
    max_size=14,
)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(
    max_examples=int(os.environ.get("THEME_EDIT_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # each example talks to a database: shrinking a failure would take minutes, so it is reported
    # as found (with the drawn edits in the failure message)
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(answers=answers_st, data=st.data())
async def test_every_edit_changes_only_the_answers_it_names(
    db_session: AsyncSession, answers: list[tuple[int, set[str]]], data: st.DataObject
) -> None:
    units, managers = await _fixed_people(db_session)
    await db_session.commit()
    try:
        ids: list[uuid.UUID] = []  # in creation order: draws must not depend on random uuids
        unit_of: dict[uuid.UUID, uuid.UUID] = {}
        for n, (unit, keys) in enumerate(answers):
            row = await _answer(db_session, units[unit], f"svar nummer {n}", sorted(keys), f"p{n}")
            ids.append(row.id)
            unit_of[row.id] = units[unit]
        history: dict[int, dict[uuid.UUID, tuple[Any, ...]]] = {}  # state before each edit
        now = NOW
        for _step in range(data.draw(st.integers(1, 6), label="steps")):
            now += timedelta(minutes=1)
            before = await _state(db_session)
            codebook = await decisions.current_codebook(db_session)
            active = [k for k in codebook.keys if k != "annat"]
            who = data.draw(st.integers(0, 1), label="manager")
            user = managers[who]
            kind = data.draw(
                st.sampled_from(["move", "rename", "merge", "retire", "split", "undo"]), label="kind"
            )
            mine = [i for i in ids if unit_of[i] in user.unit_ids]
            named: set[uuid.UUID]
            try:
                if kind == "move" and mine:
                    i = data.draw(st.sampled_from(mine), label="answer")
                    have = sorted(_keys(before, i))
                    src = data.draw(st.sampled_from(have), label="from")
                    dst = data.draw(st.sampled_from([k for k in codebook.keys if k != src]), label="to")
                    edit = await edits.move(
                        db_session, user=user, open_text_id=i, from_key=src, to_key=dst, now=now
                    )
                    named = {i}
                    moved = _keys(await _state(db_session), i)
                    # "annat" means "no other theme": moving there from one of several drops it
                    assert src not in moved and (dst in moved or (dst == "annat" and moved))
                elif kind == "rename" and active:
                    key = data.draw(st.sampled_from(active), label="key")
                    edit = await edits.rename(
                        db_session, user=user, key=key, label_sv=f"Namn {_step}", now=now
                    )
                    named = set()
                elif kind in ("merge", "retire") and len(active) >= 2:
                    key = data.draw(st.sampled_from(active), label="key")
                    scope = data.draw(st.sampled_from(["all", "mine"]), label="scope")
                    pool_ids = ids if scope == "all" else mine
                    named = {i for i in pool_ids if key in _keys(before, i)}
                    if kind == "merge":
                        into = data.draw(st.sampled_from([k for k in active if k != key]), label="into")
                        edit = await edits.merge(
                            db_session, user=user, key=key, into=into, scope=scope, now=now
                        )
                    else:
                        edit = await edits.retire(db_session, user=user, key=key, scope=scope, now=now)
                    after = await _state(db_session)
                    assert all(key not in _keys(after, i) for i in named)
                elif kind == "split" and active:
                    key = data.draw(st.sampled_from(active), label="key")
                    candidates = [i for i in mine if key in _keys(before, i)]
                    chosen = data.draw(
                        st.lists(st.sampled_from(candidates), unique=True) if candidates else st.just([])
                    )
                    assignments = {i: data.draw(st.integers(0, 1), label="part") for i in chosen}
                    parts = [{"label_sv": f"Del A {_step}"}, {"label_sv": f"Del B {_step}"}]
                    edit = await edits.split(
                        db_session, user=user, key=key, parts=parts, assignments=assignments, now=now
                    )
                    named = set(assignments)
                elif kind == "undo":
                    done = list(
                        await db_session.scalars(
                            sa.select(ThemeEdit).where(
                                ThemeEdit.kind != "undo", ThemeEdit.undone_at.is_(None)
                            )
                        )
                    )
                    if not done:
                        continue
                    target = data.draw(st.sampled_from(done), label="undo")
                    if await edits.undo_refusal(db_session, target) is not None:
                        continue
                    named = await _named(db_session, target)
                    edit = await edits.undo(
                        db_session,
                        user=managers[0] if target.scope == "all" else user,
                        edit_id=target.id,
                        now=now,
                    )
                    after = await _state(db_session)
                    # exactly the state before the undone edit, for the answers it named
                    assert {i: after[i] for i in named} == {i: history[target.id][i] for i in named}
                else:
                    continue
            except DomainError:
                # a refused edit (for instance an undo by a manager of other units) changes nothing
                assert await _state(db_session) == before
                continue
            after = await _state(db_session)
            assert named == await _named(db_session, edit) or edit.kind == "undo"
            unnamed_before = {i: v for i, v in before.items() if i not in named}
            unnamed_after = {i: v for i, v in after.items() if i not in named}
            assert unnamed_after == unnamed_before, (kind, edit.payload)
            assert all(after[i][0] for i in after)  # no answer is left without a theme
            history[edit.id] = before
    finally:
        await db_session.rollback()
