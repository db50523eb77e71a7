"""Reviews (översyn): frozen report snapshots, findings, actions and "ni sa – vi gjorde".

A review freezes the theme report of one unit and period as JSON (immutable: no function here
updates it, and its SHA-256 is stored beside it). Findings link themes and approved quotes
(redacted answers whose writer consented to quoting); actions have an owner, a due date and a
status, and can be published to the unit's panel page and, optionally, sent as an SMS to the
unit's respondents who consented to contact. SMS go through ``notifications.outbox.enqueue`` with
one idempotency key per action and client, so publishing twice sends nothing twice; the outbox
stores opted-out numbers as skipped and the dispatcher checks opt-out again before sending.

Every function takes the caller's session and a ``CurrentUser``; the caller commits.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, Unit
from feedback.auth.scope import ensure_unit_access
from feedback.core.clock import STOCKHOLM
from feedback.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from feedback.panel.models import PublishedItem
from feedback.reports.filters import ReportFilters
from feedback.reports.models import ActionStatus, Finding, Review, ReviewAction
from feedback.reports.queries import build_theme_report
from feedback.themes.decisions import current_codebook
from feedback.themes.models import OpenTextTheme
from nlp.redact import redact
from surveys.answers.models import OpenText
from surveys.answers.service import closure_respondent_key

MAX_TEXT = 4000
MAX_SMS = 320
SnapshotBuilder = Callable[
    [AsyncSession, CurrentUser, uuid.UUID, date, date, datetime], Awaitable[dict[str, Any]]
]


def require_manager(user: CurrentUser) -> None:
    if user.role not in (Role.MANAGER, Role.ADMIN):
        raise Forbidden("Bara enhetschefer kan arbeta med översyner.")


def _text(value: str, field: str, message: str, limit: int = MAX_TEXT) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(message, field=field)
    if len(value) > limit:
        raise InvalidInput(f"Texten får vara högst {limit} tecken.", field=field)
    return value


# ---------------------------------------------------------------- snapshots
async def theme_snapshot(
    session: AsyncSession,
    user: CurrentUser,
    unit_id: uuid.UUID,
    period_from: date,
    period_to: date,
    now: datetime,
) -> dict[str, Any]:
    """The unit's theme table for the period, suppressed as on screen (< 5 people → hidden).

    Uses the report page's ``build_theme_report``, so the snapshot is exactly the report the
    manager looked at.
    """
    filters = ReportFilters(date_from=period_from, date_to=period_to, unit_ids=(unit_id,))
    report = await build_theme_report(session, filters, frozenset({unit_id}), now=now)
    return {"kind": "theme_report", **json.loads(json.dumps(report.to_dict(), default=str))}


def _bounds(period_from: date, period_to: date) -> tuple[datetime, datetime]:
    """Local (Stockholm) midnights: the period's first day up to the day after its last."""
    return (
        datetime.combine(period_from, time(), STOCKHOLM),
        datetime.combine(period_to + timedelta(days=1), time(), STOCKHOLM),
    )


def snapshot_digest(snapshot: dict[str, Any]) -> str:
    canon = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canon.encode()).hexdigest()


# ---------------------------------------------------------------- reviews
async def create_review(
    session: AsyncSession,
    *,
    user: CurrentUser,
    unit_id: uuid.UUID,
    title: str,
    period_from: date,
    period_to: date,
    now: datetime,
    build: SnapshotBuilder | None = None,
) -> Review:
    require_manager(user)
    ensure_unit_access(user, unit_id)
    title = _text(title, "title", "Skriv en rubrik för översynen.", 200)
    if period_to < period_from:
        raise InvalidInput("Periodens slut kan inte vara före dess början.", field="period_to")
    snapshot = await (build or theme_snapshot)(session, user, unit_id, period_from, period_to, now)
    review = Review(
        unit_id=unit_id,
        title=title,
        period_from=period_from,
        period_to=period_to,
        snapshot=snapshot,
        snapshot_sha256=snapshot_digest(snapshot),
        created_by_id=user.id,
        created_at=now,
    )
    session.add(review)
    await session.flush()
    return review


async def reviews_for(session: AsyncSession, user: CurrentUser) -> list[Review]:
    require_manager(user)
    query = sa.select(Review).order_by(Review.created_at.desc())
    if not user.is_admin:
        query = query.where(Review.unit_id.in_(user.unit_ids))
    return list(await session.scalars(query))


async def get_review(session: AsyncSession, *, user: CurrentUser, review_id: uuid.UUID) -> Review:
    require_manager(user)
    review = await session.get(Review, review_id)
    if review is None or not user.can_access_unit(review.unit_id):
        raise NotFound("Översynen finns inte.")
    return review


async def findings_of(session: AsyncSession, review: Review) -> list[Finding]:
    return list(
        await session.scalars(
            sa.select(Finding).where(Finding.review_id == review.id).order_by(Finding.created_at)
        )
    )


async def actions_of(session: AsyncSession, review: Review) -> list[ReviewAction]:
    return list(
        await session.scalars(
            sa.select(ReviewAction)
            .where(ReviewAction.review_id == review.id)
            .order_by(ReviewAction.created_at)
        )
    )


async def quotable(
    session: AsyncSession, review: Review, theme_keys: Sequence[str] = (), limit: int = 50
) -> list[OpenText]:
    """Approved quotes for the review's unit and period: redacted, and the writer consented."""
    query = (
        sa.select(OpenText)
        .where(
            OpenText.unit_id == review.unit_id,
            OpenText.quote_consent.is_(True),
            OpenText.received_at >= _bounds(review.period_from, review.period_to)[0],
            OpenText.received_at < _bounds(review.period_from, review.period_to)[1],
        )
        .order_by(OpenText.received_at.desc())
        .limit(limit)
    )
    if theme_keys:
        query = query.where(
            OpenText.id.in_(
                sa.select(OpenTextTheme.open_text_id).where(OpenTextTheme.theme_key.in_(theme_keys))
            )
        )
    return list(await session.scalars(query))


async def add_finding(
    session: AsyncSession,
    *,
    user: CurrentUser,
    review_id: uuid.UUID,
    text: str,
    theme_keys: Sequence[str],
    quote_ids: Sequence[uuid.UUID],
    now: datetime,
) -> Finding:
    review = await get_review(session, user=user, review_id=review_id)
    # Stored redacted: a finding is read by everyone in the review and may quote what a client
    # said, so names, numbers, addresses and personnummer never reach the table.
    text = redact(_text(text, "text", "Skriv vad ni kom fram till."))
    codebook = await current_codebook(session)
    keys = list(dict.fromkeys(theme_keys))
    if any(k not in codebook.themes for k in keys):
        raise InvalidInput("Välj teman ur listan.", field="theme_keys")
    allowed = {q.id: q for q in await quotable(session, review, limit=10_000)} if quote_ids else {}
    if any(q not in allowed for q in quote_ids):
        raise InvalidInput("Bara godkända citat (med samtycke) kan kopplas till ett fynd.", field="quote_ids")
    finding = Finding(
        review_id=review.id,
        text=text,
        theme_keys=keys,
        quotes=[{"open_text_id": str(q), "text": allowed[q].text_redacted} for q in dict.fromkeys(quote_ids)],
        created_at=now,
    )
    session.add(finding)
    await session.flush()
    return finding


async def add_action(
    session: AsyncSession,
    *,
    user: CurrentUser,
    review_id: uuid.UUID,
    title: str,
    owner: str,
    due_on: date | None,
    finding_id: uuid.UUID | None,
    now: datetime,
) -> ReviewAction:
    review = await get_review(session, user=user, review_id=review_id)
    title = _text(title, "title", "Skriv vad som ska göras.", 300)
    owner = _text(owner, "owner", "Skriv vem som är ansvarig.", 200)
    if finding_id is not None:
        finding = await session.get(Finding, finding_id)
        if finding is None or finding.review_id != review.id:
            raise InvalidInput("Välj ett fynd i den här översynen.", field="finding_id")
    action = ReviewAction(
        review_id=review.id, finding_id=finding_id, title=title, owner=owner, due_on=due_on, created_at=now
    )
    session.add(action)
    await session.flush()
    return action


async def get_action(
    session: AsyncSession, user: CurrentUser, action_id: uuid.UUID
) -> tuple[ReviewAction, Review]:
    action = await session.get(ReviewAction, action_id)
    if action is None:
        raise NotFound("Åtgärden finns inte.")
    review = await get_review(session, user=user, review_id=action.review_id)
    return action, review


async def set_status(
    session: AsyncSession, *, user: CurrentUser, action_id: uuid.UUID, status: str
) -> ReviewAction:
    action, _ = await get_action(session, user, action_id)
    try:
        action.status = ActionStatus(status)
    except ValueError as exc:
        raise InvalidInput("Välj en status ur listan.", field="status") from exc
    await session.flush()
    return action


# ---------------------------------------------------------------- "ni sa – vi gjorde"
async def publish_action(
    session: AsyncSession,
    *,
    user: CurrentUser,
    action_id: uuid.UUID,
    you_said: str,
    we_did: str,
    sms_text: str | None,
    settings: Any,
    now: datetime,
) -> PublishedItem:
    """Publish the action on the unit's panel page; with ``sms_text``, also SMS consenting respondents."""
    action, review = await get_action(session, user, action_id)
    if action.published_item_id is not None:
        raise Conflict("Åtgärden är redan publicerad.")
    you_said = _text(you_said, "you_said", "Skriv vad ni fick höra (ni sa).", 1000)
    we_did = _text(we_did, "we_did", "Skriv vad ni gjorde (vi gjorde).", 1000)
    if sms_text is not None:
        sms_text = _check_sms(sms_text)
    item = PublishedItem(
        unit_id=review.unit_id,
        you_said=you_said,
        we_did=we_did,
        action_id=action.id,
        published_at=now,
        published_by_id=user.id,
    )
    session.add(item)
    await session.flush()
    action.published_item_id = item.id
    if sms_text is not None:
        action.sms_queued = await _send_sms(session, review, action, sms_text, settings, now)
    await session.flush()
    return item


def _check_sms(text: str) -> str:
    from surveys.questionnaires.texts import indiscreet_words

    text = _text(text, "sms_text", "Skriv sms-texten, eller välj att inte skicka sms.", MAX_SMS)
    words = indiscreet_words(text)
    if words:
        raise InvalidInput(
            "Sms:et får inte nämna stödet eller socialtjänsten, eftersom telefoner delas: "
            + ", ".join(words),
            field="sms_text",
        )
    return text


async def sms_recipients(session: AsyncSession, unit_id: uuid.UUID, settings: Any) -> list[Any]:
    """Clients of the unit who answered a follow-up and consented to contact (and may be contacted)."""
    from surveys.closures.models import Client, Closure

    answered = set(
        await session.scalars(
            sa.select(OpenText.respondent_key).where(OpenText.unit_id == unit_id).distinct()
        )
    )
    rows = await session.execute(
        sa.select(Client, Closure.id)
        .join(Closure, Closure.client_id == Client.id)
        .where(
            Client.unit_id == unit_id,
            Client.consent_on.is_not(None),
            Client.consent_withdrawn_at.is_(None),
            Client.do_not_contact.is_(False),
            Client.protected_identity.is_(False),
            Client.erased_at.is_(None),
            Client.phone_ciphertext.is_not(None),
        )
    )
    out: dict[uuid.UUID, Any] = {}
    for client, closure_id in rows:
        if closure_respondent_key(settings.secret_key, closure_id) in answered:
            out[client.id] = client
    return list(out.values())


async def _send_sms(
    session: AsyncSession, review: Review, action: ReviewAction, body: str, settings: Any, now: datetime
) -> int:
    from notifications.outbox import enqueue
    from notifications.phone import PhoneVault

    vault = PhoneVault.from_settings(settings)
    unit = await session.get(Unit, review.unit_id)
    queued = 0
    for client in await sms_recipients(session, review.unit_id, settings):
        await enqueue(
            session,
            idempotency_key=f"review-action:{action.id}:client:{client.id}",
            to_e164=vault.decrypt(client.phone_ciphertext),
            body=body,
            vault=vault,
            owner_ref=f"review_action:{action.id}",
            unit_id=unit.id if unit else None,
            now=now,
            kind="loop",
        )
        queued += 1
    return queued


# ---------------------------------------------------------------- withdrawn quoting consent
WITHDRAWN_QUOTE_SV = "Citatet är borttaget: personen har dragit tillbaka sitt samtycke."


async def mark_withdrawn_quotes(
    session: AsyncSession, open_text_ids: Sequence[uuid.UUID] | None = None
) -> int:
    """Replace quotes whose writer withdrew consent (or whose text is gone) in review findings.

    Why here and at read time as well: consent is withdrawn in the survey and panel layers,
    which cannot import reports; the wiring (SMS) and the web layer (call page, case page,
    panel) call this in the same transaction, and the review page calls it before showing
    findings, so a withdrawal that came any other way (erasure, a script) is caught too. The
    text is overwritten, not hidden, so no export of the review can carry it; the entry keeps
    its ``open_text_id`` and gets ``"withdrawn": true`` so the page can say what happened.
    ``open_text_ids`` narrows the check to those texts; ``None`` checks every finding.
    Returns how many quotes were marked.
    """
    findings = list(await session.scalars(sa.select(Finding)))
    wanted = {str(i) for i in open_text_ids} if open_text_ids is not None else None
    holding: list[tuple[Finding, set[str]]] = []
    for finding in findings:
        ids = {
            str(q.get("open_text_id"))
            for q in finding.quotes or []
            if isinstance(q, dict)
            and not q.get("withdrawn")
            and (wanted is None or str(q.get("open_text_id")) in wanted)
        }
        if ids:
            holding.append((finding, ids))
    if not holding:
        return 0
    all_ids = {i for _, ids in holding for i in ids}
    parsed = {i: _uuid_or_none(i) for i in all_ids}
    consenting = {
        str(i)
        for i in await session.scalars(
            sa.select(OpenText.id).where(
                OpenText.id.in_([u for u in parsed.values() if u is not None]),
                OpenText.quote_consent.is_(True),
            )
        )
    }
    marked = 0
    for finding, ids in holding:
        gone = ids - consenting
        if not gone:
            continue
        quotes = []
        for q in finding.quotes:
            if isinstance(q, dict) and str(q.get("open_text_id")) in gone and not q.get("withdrawn"):
                q = {"open_text_id": q.get("open_text_id"), "text": WITHDRAWN_QUOTE_SV, "withdrawn": True}
                marked += 1
            quotes.append(q)
        finding.quotes = quotes  # a new list: the JSON column sees the change
    await session.flush()
    return marked


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
