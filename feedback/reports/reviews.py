"""Reviews (översyn): frozen report snapshots, findings, actions and "ni sa – vi gjorde".

A review freezes the theme report of one unit and period as JSON (immutable: no function here
updates it, and its SHA-256 is stored beside it). Findings link themes and approved quotes
(redacted answers whose writer consented to quoting); actions have an owner, a due date and a
status, and can be published to the unit's panel page and, optionally, sent as an SMS to the
unit's respondents who consented to contact. SMS go through ``notifications.outbox.enqueue`` with
one idempotency key per action and client, so publishing twice sends nothing twice; the outbox
stores opted-out numbers as skipped and the dispatcher checks opt-out again before sending.

Editing. Findings and actions can be edited with the same checks as when they were added, and
every edit is audited (ids and changed field names only). Editing is also allowed after an action
is published: the review and the panel page then show an "uppdaterad" date, and no SMS is sent
again (the SMS went out once, at publication; a correction is not news worth a second message).

"Vi gjorde" only for finished work. A published action is headed "Vi gjorde" only while its status
is "klar"; otherwise "Vi arbetar med" (``published_label``). The panel item's ``done`` flag follows
the action's status on every change, and an SMS for an unfinished action may not claim it is done.

Overdue: an action whose due date has passed (Swedish calendar day of the injected clock) and
that is not "klar" (``is_overdue``), flagged on the review page, in the review list and in the PDF.

Every function takes the caller's session and a ``CurrentUser``; the caller commits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, Unit
from feedback.auth.scope import ensure_unit_access
from feedback.core import audit
from feedback.core.clock import STOCKHOLM
from feedback.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from feedback.panel.models import PublishedItem
from feedback.reports.filters import ReportFilters
from feedback.reports.models import ActionStatus, Finding, Review, ReviewAction, published_label
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


async def _finding_fields(
    session: AsyncSession,
    review: Review,
    text: str,
    theme_keys: Sequence[str],
    quote_ids: Sequence[uuid.UUID],
) -> tuple[str, list[str], list[dict[str, str]]]:
    """A finding's checked text, theme keys and quotes: one set of rules for adding and editing."""
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
    quotes = [{"open_text_id": str(q), "text": allowed[q].text_redacted} for q in dict.fromkeys(quote_ids)]
    return text, keys, quotes


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
    text, keys, quotes = await _finding_fields(session, review, text, theme_keys, quote_ids)
    finding = Finding(review_id=review.id, text=text, theme_keys=keys, quotes=quotes, created_at=now)
    session.add(finding)
    await session.flush()
    return finding


async def _action_fields(
    session: AsyncSession, review: Review, title: str, owner: str, finding_id: uuid.UUID | None
) -> tuple[str, str]:
    """An action's checked title and owner, and a finding of the same review (adding and editing)."""
    title = _text(title, "title", "Skriv vad som ska göras.", 300)
    owner = _text(owner, "owner", "Skriv vem som är ansvarig.", 200)
    if finding_id is not None:
        finding = await session.get(Finding, finding_id)
        if finding is None or finding.review_id != review.id:
            raise InvalidInput("Välj ett fynd i den här översynen.", field="finding_id")
    return title, owner


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
    title, owner = await _action_fields(session, review, title, owner, finding_id)
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


def _status(value: str | ActionStatus) -> ActionStatus:
    try:
        return ActionStatus(value)
    except ValueError as exc:
        raise InvalidInput("Välj en status ur listan.", field="status") from exc


async def set_status(
    session: AsyncSession,
    *,
    user: CurrentUser,
    action_id: uuid.UUID,
    status: str,
    now: datetime | None = None,
) -> ReviewAction:
    """Change only the status (the quick form in the action table); audited, panel kept in step."""
    action, _ = await get_action(session, user, action_id)
    new = _status(status)
    if new is not action.status:
        action.status = new
        if now is not None:
            action.updated_at = now
        await _sync_published(session, action)
        await audit.record(
            session,
            actor_id=user.id,
            action="review.action.status",
            subject_type="review_action",
            subject_id=action.id,
            detail={"review_id": str(action.review_id), "status": new.value},
        )
    await session.flush()
    return action


# ---------------------------------------------------------------- editing
async def get_finding(
    session: AsyncSession, user: CurrentUser, finding_id: uuid.UUID
) -> tuple[Finding, Review]:
    finding = await session.get(Finding, finding_id)
    if finding is None:
        raise NotFound("Fyndet finns inte.")
    review = await get_review(session, user=user, review_id=finding.review_id)
    return finding, review


async def update_finding(
    session: AsyncSession,
    *,
    user: CurrentUser,
    finding_id: uuid.UUID,
    text: str,
    theme_keys: Sequence[str],
    quote_ids: Sequence[uuid.UUID],
    now: datetime,
) -> Finding:
    """Edit a finding with the rules of ``add_finding``; audited with the names of changed fields.

    Quotes are copied again from the answers, so a quote whose writer has since withdrawn consent
    cannot be kept by re-saving: it is no longer offered and is refused if posted.
    """
    finding, review = await get_finding(session, user, finding_id)
    text, keys, quotes = await _finding_fields(session, review, text, theme_keys, quote_ids)
    new = {"text": text, "theme_keys": keys, "quotes": quotes}
    changed = [name for name, value in new.items() if getattr(finding, name) != value]
    if changed:
        finding.text, finding.theme_keys, finding.quotes = text, keys, quotes
        finding.updated_at = now
        await audit.record(
            session,
            actor_id=user.id,
            action="review.finding.update",
            subject_type="review_finding",
            subject_id=finding.id,
            detail={"review_id": str(review.id), "changed": changed},
        )
    await session.flush()
    return finding


async def update_action(
    session: AsyncSession,
    *,
    user: CurrentUser,
    action_id: uuid.UUID,
    title: str,
    owner: str,
    due_on: date | None,
    finding_id: uuid.UUID | None,
    status: str | ActionStatus,
    now: datetime,
    you_said: str | None = None,
    we_did: str | None = None,
) -> ReviewAction:
    """Edit an action with the rules of ``add_action``; audited, and never sends an SMS.

    For a published action, ``you_said``/``we_did`` (when given) correct the panel item with the
    rules of ``publish_action``; the item then shows "uppdaterad". Its "Vi gjorde"/"Vi arbetar
    med" heading follows the new status.
    """
    action, review = await get_action(session, user, action_id)
    title, owner = await _action_fields(session, review, title, owner, finding_id)
    new_status = _status(status)
    new: dict[str, Any] = {
        "title": title,
        "owner": owner,
        "due_on": due_on,
        "finding_id": finding_id,
        "status": new_status,
    }
    changed = [name for name, value in new.items() if getattr(action, name) != value]
    item = await session.get(PublishedItem, action.published_item_id) if action.published_item_id else None
    item_changed: list[str] = []
    if item is not None:
        texts = {
            "you_said": None if you_said is None else _you_said(you_said),
            "we_did": None if we_did is None else _we_did(we_did),
        }
        for name, value in texts.items():
            if value is not None and getattr(item, name) != value:
                setattr(item, name, value)
                item_changed.append(name)
        if item_changed:
            item.updated_at = now
    if changed:
        for name in changed:
            setattr(action, name, new[name])
        action.updated_at = now
    if changed or item_changed:
        await _sync_published(session, action)
        await audit.record(
            session,
            actor_id=user.id,
            action="review.action.update",
            subject_type="review_action",
            subject_id=action.id,
            detail={"review_id": str(review.id), "changed": changed + item_changed},
        )
    await session.flush()
    return action


async def _sync_published(session: AsyncSession, action: ReviewAction) -> None:
    """The panel item says "Vi gjorde" exactly while the action is "klar"."""
    if action.published_item_id is None:
        return
    item = await session.get(PublishedItem, action.published_item_id)
    if item is not None:
        item.done = action.status is ActionStatus.DONE


def is_overdue(action: ReviewAction, today: date) -> bool:
    """Past its due date (a Swedish calendar day) and not "klar"; due today is not yet overdue."""
    return action.due_on is not None and action.due_on < today and action.status is not ActionStatus.DONE


async def overdue_counts(
    session: AsyncSession, review_ids: Sequence[uuid.UUID], today: date
) -> dict[uuid.UUID, int]:
    """Overdue actions per review (only reviews with at least one appear)."""
    if not review_ids:
        return {}
    rows = await session.execute(
        sa.select(ReviewAction.review_id, sa.func.count())
        .where(
            ReviewAction.review_id.in_(list(review_ids)),
            ReviewAction.due_on.is_not(None),
            ReviewAction.due_on < today,
            ReviewAction.status != ActionStatus.DONE,
        )
        .group_by(ReviewAction.review_id)
    )
    return {review_id: count for review_id, count in rows}


# ---------------------------------------------------------------- "ni sa – vi gjorde"
def _you_said(text: str) -> str:
    return _text(text, "you_said", "Skriv vad ni fick höra (ni sa).", 1000)


def _we_did(text: str) -> str:
    return _text(text, "we_did", "Skriv vad ni gjorde eller arbetar med.", 1000)


@dataclasses.dataclass(frozen=True)
class Publication:
    """What publishing an action will do: shown on the confirm step, then carried out unchanged."""

    action: ReviewAction
    review: Review
    you_said: str
    we_did: str
    label: str  # "Vi gjorde" or "Vi arbetar med"
    sms_text: str | None
    sms_reach: int  # consenting respondents who are not opted out: who will get the SMS
    # the other languages the SMS goes out in: (language used, how many, text), shown on confirm
    sms_translations: tuple[tuple[str, int, str, str], ...] = ()


async def prepare_publication(
    session: AsyncSession,
    *,
    user: CurrentUser,
    action_id: uuid.UUID,
    you_said: str,
    we_did: str,
    sms_text: str | None,
    settings: Any,
) -> Publication:
    """Check everything publishing needs, without writing: the confirm step shows the result."""
    action, review = await get_action(session, user, action_id)
    if action.published_item_id is not None:
        raise Conflict("Åtgärden är redan publicerad.")
    you_said, we_did = _you_said(you_said), _we_did(we_did)
    reach = 0
    translations: tuple[tuple[str, int, str, str], ...] = ()
    if sms_text is not None:
        sms_text = _check_sms(sms_text, done=action.status is ActionStatus.DONE)
        reach = await sms_reach(session, review.unit_id, settings)
        translations = await _sms_translations(session, review, action, sms_text, settings)
    return Publication(
        action=action,
        review=review,
        you_said=you_said,
        we_did=we_did,
        label=published_label(action.status),
        sms_text=sms_text,
        sms_reach=reach,
        sms_translations=translations,
    )


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
    """Publish the action on the unit's panel page; with ``sms_text``, also SMS consenting respondents.

    Once per action: a second call is a ``Conflict``, and the SMS idempotency keys make even a
    repeated send queue nothing new.
    """
    plan = await prepare_publication(
        session,
        user=user,
        action_id=action_id,
        you_said=you_said,
        we_did=we_did,
        sms_text=sms_text,
        settings=settings,
    )
    action, review = plan.action, plan.review
    item = PublishedItem(
        unit_id=review.unit_id,
        you_said=plan.you_said,
        we_did=plan.we_did,
        action_id=action.id,
        published_at=now,
        published_by_id=user.id,
        done=action.status is ActionStatus.DONE,
    )
    session.add(item)
    await session.flush()
    action.published_item_id = item.id
    if plan.sms_text is not None:
        action.sms_queued = await _send_sms(session, review, action, plan.sms_text, settings, now)
    await audit.record(
        session,
        actor_id=user.id,
        action="review.action.publish",
        subject_type="review_action",
        subject_id=action.id,
        detail={"review_id": str(review.id), "done": item.done, "sms_queued": action.sms_queued},
    )
    await session.flush()
    return item


# An SMS about unfinished work may not say it is done ("vi gjorde", "nu har vi ändrat" …).
_DONE_CLAIM = re.compile(
    r"\b(vi\s+(har\s+)?(gjort|gjorde|ändrat|ändrade|infört|införde|fixat|fixade)"
    r"|har\s+vi\s+(gjort|ändrat|infört|fixat))\b",
    re.IGNORECASE,
)


def default_sms_text(action: ReviewAction) -> str:
    """The SMS offered on the publish form, worded by status ("har ändrat" only when klar)."""
    if action.status is ActionStatus.DONE:
        return f"Tack för dina svar! Ni sa att vi kunde bli bättre. Nu har vi ändrat: {action.title}. Svara STOPP om du inte vill ha sms."
    return f"Tack för dina svar! Ni sa att vi kunde bli bättre. Nu arbetar vi med: {action.title}. Svara STOPP om du inte vill ha sms."


def _check_sms(text: str, *, done: bool = True) -> str:
    from surveys.questionnaires.texts import indiscreet_words

    text = _text(text, "sms_text", "Skriv sms-texten, eller välj att inte skicka sms.", MAX_SMS)
    words = indiscreet_words(text)
    if words:
        raise InvalidInput(
            "Sms:et får inte nämna stödet eller socialtjänsten, eftersom telefoner delas: "
            + ", ".join(words),
            field="sms_text",
        )
    if not done and _DONE_CLAIM.search(text):
        raise InvalidInput(
            "Åtgärden är inte klar, så sms:et kan inte säga att ni har gjort den. "
            "Skriv vad ni arbetar med, eller ändra statusen till Klar först.",
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


async def sms_reach(session: AsyncSession, unit_id: uuid.UUID, settings: Any) -> int:
    """How many people an SMS would reach now: recipients whose number is not opted out (STOPP)."""
    from notifications.optout import is_opted_out

    return sum(
        [
            not await is_opted_out(session, c.phone_index)
            for c in await sms_recipients(session, unit_id, settings)
        ]
    )


def sms_in_language(
    catalogue: Any, action: ReviewAction, manager_text: str, language: str | None
) -> tuple[str, str, str]:
    """The "ni sa – vi gjorde" SMS for one person: (body, language actually used, text status).

    The manager writes the SMS in Swedish; a person whose language is Swedish (or whose language
    has no text at all, so Swedish is the fallback) gets exactly that. Everyone else gets the
    catalogue's ``review.sms_done``/``review.sms_working`` in their language with the action's
    title put in as written (the title itself is not translated; the publish form says so).
    """
    from surveys.texts.shipped import SOURCE

    key = "review.sms_done" if action.status is ActionStatus.DONE else "review.sms_working"
    resolved = catalogue.resolve(key, language)
    if resolved.language == SOURCE:
        return manager_text, SOURCE, "granskad"  # the manager wrote and checked it
    return resolved.body.replace("{title}", action.title), resolved.language, resolved.status


async def _sms_translations(
    session: AsyncSession, review: Review, action: ReviewAction, manager_text: str, settings: Any
) -> tuple[tuple[str, int, str, str], ...]:
    """The non-Swedish versions the reached people will get, checked for discretion like the
    manager's text (the title goes into every language), for the confirm step."""
    from notifications.optout import is_opted_out
    from surveys.questionnaires.texts import indiscreet_words
    from surveys.texts.service import load
    from surveys.texts.shipped import SOURCE

    catalogue = await load(session)
    counts: dict[tuple[str, str, str], int] = {}
    for client in await sms_recipients(session, review.unit_id, settings):
        if await is_opted_out(session, client.phone_index):
            continue
        body, used, status = sms_in_language(catalogue, action, manager_text, str(client.language))
        if used != SOURCE:
            counts[(used, body, status)] = counts.get((used, body, status), 0) + 1
    bad = sorted({w for (_, body, _) in counts for w in indiscreet_words(body)})
    if bad:
        raise InvalidInput(
            "Åtgärdens rubrik skickas i sms:et på andra språk och får inte nämna stödet eller "
            "socialtjänsten: " + ", ".join(bad),
            field="sms_text",
        )
    return tuple((lang, n, body, status) for (lang, body, status), n in sorted(counts.items()))


async def _send_sms(
    session: AsyncSession, review: Review, action: ReviewAction, body: str, settings: Any, now: datetime
) -> int:
    """Queue one SMS per recipient in their language (``sms_in_language``), the language used on
    the outbox row; one idempotency key per action and client, so nothing is queued twice."""
    from notifications.outbox import enqueue
    from notifications.phone import PhoneVault
    from surveys.texts.service import load

    vault = PhoneVault.from_settings(settings)
    unit = await session.get(Unit, review.unit_id)
    catalogue = await load(session)
    queued = 0
    for client in await sms_recipients(session, review.unit_id, settings):
        text, used, _status = sms_in_language(catalogue, action, body, str(client.language))
        await enqueue(
            session,
            idempotency_key=f"review-action:{action.id}:client:{client.id}",
            to_e164=vault.decrypt(client.phone_ciphertext),
            body=text,
            vault=vault,
            owner_ref=f"review_action:{action.id}",
            unit_id=unit.id if unit else None,
            now=now,
            kind="loop",
            language=used,
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
