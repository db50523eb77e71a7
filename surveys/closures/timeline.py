"""The client page's read model: one timeline of everything that happened with a client.

Why one place: a caseworker must see in one view what the person was sent, whether it arrived
(and, if not, why in plain Swedish), what they answered, which calls and cases there were, and
whether they said no. The facts are spread over eight tables in three packages; assembling them
here keeps the web layer to parse-and-render and lets service tests check the assembly on both
databases. Framework-free.

Privacy: phone numbers are never decrypted here (the stored mask only); free text is shown only
in its redacted form (``open_text.text_redacted``, ``inbox_item.text_redacted``, case events);
the raw inbound body is never read. Messages a caseworker wrote (inbox replies) are redacted
again on display, our own survey texts are shown as sent.

Newest first: the page answers "what is the situation now?" — the latest failure, answer or
opt-out is what decides the next step, and a client with a year of follow-ups has a long
history that nobody should have to scroll through to reach today.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.clock import STOCKHOLM
from feedback.core.models import AuditEvent
from notifications.models import (
    OptOutAction,
    OptOutSource,
    OutboxStatus,
    SmsInbound,
    SmsOptOutEvent,
    SmsOutbox,
)
from surveys.answers.models import Answer, AnswerMode, OpenText
from surveys.cases.models import (
    PRIORITY_LABELS_SV,
    TRIGGER_LABELS_SV,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseStatus,
)
from surveys.closures.models import REASON_LABELS_SV, Client, Closure
from surveys.conversations.machine import DISPOSITION_LABELS_SV, Disposition
from surveys.conversations.models import Conversation
from surveys.inbox.models import InboxItem
from surveys.phone.models import (
    OUTCOME_LABELS_SV,
    CallAttempt,
    CallOutcome,
    CallStatus,
    CallTask,
)
from surveys.plans.models import FollowUp, FollowUpStatus, StepChannel
from surveys.questionnaires.models import Question
from surveys.redaction import redact_text

# Our own texts (shown as sent) vs. texts a person wrote (redacted on display).
WRITTEN_BY_STAFF = frozenset({"inbox_reply"})
SMS_KIND_LABELS_SV = {
    "survey": "Sms-enkät",
    "crisis_ack": "Svar på ett oroande sms (hjälplinjer)",
    "call_me_confirmation": "Bekräftelse: vi ringer upp",
    "optout_confirmation": "Bekräftelse: inga fler sms",
    "optin_confirmation": "Bekräftelse: sms igen",
    "help": "Hjälptext",
    "inbox_reply": "Svar från handläggare",
    "loop": "Ni sa – vi gjorde",
}
OUTBOX_STATUS_SV = {
    OutboxStatus.QUEUED: "Väntar på att skickas",
    OutboxStatus.SENDING: "Skickas",
    OutboxStatus.RETRY: "Försöker igen",
    OutboxStatus.SENT: "Skickat",
    OutboxStatus.DELIVERED: "Levererat",
    OutboxStatus.UNDELIVERED: "Kom inte fram",
    OutboxStatus.FAILED: "Misslyckades",
    OutboxStatus.UNKNOWN: "Okänt om det skickades",
    OutboxStatus.NEEDS_REVIEW: "Kontrolleras",
    OutboxStatus.SKIPPED: "Skickades inte",
    OutboxStatus.CANCELED: "Stoppat",
    OutboxStatus.DEAD: "Gav upp",
}
PROBLEM_STATUSES = frozenset(
    {
        OutboxStatus.UNDELIVERED,
        OutboxStatus.FAILED,
        OutboxStatus.DEAD,
        OutboxStatus.SKIPPED,
        OutboxStatus.CANCELED,
        OutboxStatus.NEEDS_REVIEW,
    }
)
FAILED_STATUSES = frozenset({OutboxStatus.UNDELIVERED, OutboxStatus.FAILED, OutboxStatus.DEAD})
INBOUND_OUTCOMES_SV = {
    "stop": "Personen skrev STOPP",
    "start": "Personen skrev START",
    "help": "Personen bad om hjälptext",
    "answer": "Svar i enkäten",
    "inbox": "Till inkorgen",
    "case_timeline": "Lagt till i ärendet",
    "handed_on": "Mottaget",
}
# Language-neutral stored values (surveys.questionnaires.answers) in the caseworker's Swedish.
ANSWER_VALUES_SV = {"yes": "Ja", "no": "Nej", "dont_know": "Vet inte"}
OPT_OUT_SOURCES_SV = {
    OptOutSource.KEYWORD: "i ett sms",
    OptOutSource.TWILIO_21610: "hos sms-operatören",
    OptOutSource.OPT_OUT_TYPE: "hos sms-operatören",
    OptOutSource.ADMIN: "registrerat av handläggare",
}
AUDIT_ACTIONS_SV = {
    "contact.change": "Kontaktuppgifter ändrade",
    "contact.do_not_contact": "Kontakta ej",
    "contact.consent_withdrawn": "Samtycket återkallat",
}
CHANGED_FIELDS_SV = {
    "phone": "mobilnummer",
    "language": "språk",
    "protected_identity": "skyddad identitet",
    "do_not_contact": "kontakta ej",
}
STOP_REASONS_SV = {
    "do_not_contact": "Stoppad: kontakta ej",
    "consent_withdrawn": "Stoppad: samtycket återkallat",
    "protected_identity": "Stoppad: skyddad identitet",
    "opted_out": "Stoppad: personen har tackat nej till sms (STOPP)",
    "erased": "Stoppad: kontaktuppgifterna är raderade",
    "case_reopened": "Stoppad: återaktualiserad",
    "returned": "Stoppad: återaktualiserad",
    "wrong_number": "Stoppad: fel nummer",
    "not_followed_up": "Följs inte upp (avslutsorsak)",
    "window_passed": "Hoppades över: tidsfönstret hade passerat",
    "fatigue_cap": "Hoppades över: för tätt inpå en annan kontakt",
}
OPEN_WAVE_SV = {
    FollowUpStatus.SCHEDULED: "Planerad",
    FollowUpStatus.DUE: "Lämnad till utskick",
    FollowUpStatus.STARTED: "Pågår",
}


@dataclass(frozen=True)
class Entry:
    """One line of the timeline; ``problem`` is a plain-Swedish failure reason when there is one."""

    at: datetime
    kind: str
    title: str
    detail: str = ""
    status: str = ""
    problem: str = ""
    case_id: uuid.UUID | None = None
    failed: bool = False
    language: str | None = None  # an SMS of ours: the language it was actually written in


@dataclass(frozen=True)
class WaveState:
    """A follow-up wave with a state that tells the truth (not just the row's status)."""

    follow_up: FollowUp
    label: str
    stopped: bool = False
    failed: bool = False


@dataclass
class ClientTimeline:
    entries: list[Entry] = field(default_factory=list)
    waves: list[WaveState] = field(default_factory=list)
    opted_out: bool = False
    # language code → how many of our SMS were written in it (the catalogue's choice after any
    # fallback): the page says which language the person actually got, not just the registered one
    sms_languages: dict[str, int] = field(default_factory=dict)


def _local_noon(day: date) -> datetime:
    """A date-only fact (closure day, consent day) placed on the timeline at local noon."""
    return datetime.combine(day, time(12, 0), tzinfo=STOCKHOLM)


def _sentence(reason: str) -> str:
    """'Telefonen går inte att nå (…).' → 'telefonen går inte att nå (…)' for use after a colon."""
    text = reason.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text else text


def wave_label(
    follow_up: FollowUp,
    client: Client,
    closure: Closure,
    *,
    opted_out: bool,
    conversation: Conversation | None,
    failure_reason: str | None,
    last_call: CallTask | None,
) -> WaveState:
    """The state a caseworker should read for one wave (pure; the loaded facts are passed in).

    An open wave of a person marked "kontakta ej", without consent, with skyddad identitet, who
    opted out or was erased will not be contacted: it says "Stoppad: …", never "Planerad". A
    finished wave whose SMS never arrived says "Misslyckades: <reason>", never "Klar".
    """
    status = follow_up.status
    if status in OPEN_WAVE_SV:
        stop = None
        if client.erased_at is not None:
            stop = "erased"
        elif closure.returned_on is not None:
            stop = "returned"
        elif client.do_not_contact:
            stop = "do_not_contact"
        elif client.consent_withdrawn_at is not None:
            stop = "consent_withdrawn"
        elif client.protected_identity:
            stop = "protected_identity"
        elif opted_out and follow_up.channel is not StepChannel.PHONE:
            stop = "opted_out"
        if stop is not None:
            return WaveState(follow_up, STOP_REASONS_SV[stop], stopped=True)
        return WaveState(follow_up, OPEN_WAVE_SV[status])
    if status in (FollowUpStatus.SKIPPED, FollowUpStatus.CANCELLED):
        reason = follow_up.skip_reason or ""
        label = STOP_REASONS_SV.get(reason) or (
            "Hoppades över" if status is FollowUpStatus.SKIPPED else "Avbruten"
        )
        return WaveState(follow_up, label, stopped=True)
    # DONE: say how it ended; an SMS that never arrived is said, whatever came after it.
    sms_failed = conversation is not None and conversation.disposition is Disposition.UNREACHABLE
    why = _sentence(failure_reason) if failure_reason else "sms:et kom inte fram"
    if last_call is not None and last_call.status is CallStatus.UNREACHABLE:
        if last_call.last_outcome is CallOutcome.WRONG_NUMBER:
            return WaveState(follow_up, "Misslyckades: fel nummer", failed=True)
        return WaveState(follow_up, "Misslyckades: personen svarade inte på samtalen", failed=True)
    if last_call is not None and last_call.status is CallStatus.DONE and last_call.last_outcome:
        label = f"Klar: {OUTCOME_LABELS_SV[last_call.last_outcome].lower()}"
        if sms_failed:
            label += f" (i telefon, sms:et misslyckades: {why})"
        return WaveState(follow_up, label)
    if sms_failed:
        queued = last_call is not None and last_call.status in (CallStatus.OPEN, CallStatus.CLAIMED)
        return WaveState(follow_up, f"Misslyckades: {why}" + (" – ett samtal ligger i kön" if queued else ""),
                         failed=True)  # fmt: skip
    if conversation is not None and conversation.disposition is not None:
        disposition = conversation.disposition
        if disposition is Disposition.OPTED_OUT:
            return WaveState(follow_up, STOP_REASONS_SV["opted_out"], stopped=True)
        return WaveState(follow_up, f"Klar: {DISPOSITION_LABELS_SV[disposition].lower()}")
    return WaveState(follow_up, "Klar")


async def _phone_indexes(
    session: AsyncSession, client: Client, conversations: Iterable[Conversation]
) -> set[str]:
    """Every number the person was texted on: the current one and those of past conversations."""
    indexes = {c.phone_index for c in conversations if c.phone_index}
    if client.phone_index:
        indexes.add(client.phone_index)
    return indexes


async def build_timeline(session: AsyncSession, closure: Closure, client: Client) -> ClientTimeline:
    """Everything about one client's closure, newest first, plus the truthful wave states.

    The caller has checked the user's unit; everything read here is scoped to this closure, or
    to this client's numbers within the closure's unit.
    """
    entries: list[Entry] = []
    follow_ups = list(
        await session.scalars(
            sa.select(FollowUp)
            .where(FollowUp.closure_id == closure.id)
            .order_by(FollowUp.wave_days)
            .execution_options(populate_existing=True)
        )
    )
    conversations = list(
        await session.scalars(
            sa.select(Conversation)
            .where(Conversation.closure_id == closure.id)
            .execution_options(populate_existing=True)
        )
    )
    indexes = await _phone_indexes(session, client, conversations)
    owner_refs = [f"conversation:{c.id}" for c in conversations]

    # ---- closure, consent, return
    entries.append(
        Entry(
            _local_noon(closure.closed_on),
            "closure",
            "Ärendet avslutades",
            f"Orsak: {REASON_LABELS_SV[closure.reason].lower()}",
        )
    )
    if client.consent_on is not None:
        entries.append(Entry(_local_noon(client.consent_on), "consent", "Samtycke registrerat"))
    if closure.returned_on is not None:
        entries.append(Entry(_local_noon(closure.returned_on), "closure", "Återaktualiserad"))
    if client.erased_at is not None:
        entries.append(Entry(client.erased_at, "erasure", "Kontaktuppgifterna raderade"))

    # ---- SMS out
    out_where: list[sa.ColumnElement[bool]] = []
    if owner_refs:
        out_where.append(SmsOutbox.owner_ref.in_(owner_refs))
    if indexes:
        out_where.append(
            sa.and_(
                SmsOutbox.to_index.in_(indexes),
                sa.or_(SmsOutbox.unit_id == closure.unit_id, SmsOutbox.unit_id.is_(None)),
            )
        )
    failure_by_owner: dict[str, str] = {}
    sms_languages: dict[str, int] = {}
    if out_where:
        outbox = list(await session.scalars(sa.select(SmsOutbox).where(sa.or_(*out_where))))
        for row in outbox:
            status = OutboxStatus(row.status)
            body = redact_text(row.body) if row.kind in WRITTEN_BY_STAFF else row.body
            problem = row.last_error_reason or "" if status in PROBLEM_STATUSES else ""
            failed = status in FAILED_STATUSES
            if failed and row.owner_ref and problem:
                failure_by_owner.setdefault(row.owner_ref, problem)
            entries.append(
                Entry(
                    row.sent_at or row.created_at,
                    "sms_out",
                    "Sms till personen: " + SMS_KIND_LABELS_SV.get(row.kind, "Sms"),
                    body[:480],
                    status=OUTBOX_STATUS_SV.get(status, str(status)),
                    problem=problem,
                    failed=failed,
                    language=row.language,
                )
            )
            if row.language:
                sms_languages[row.language] = sms_languages.get(row.language, 0) + 1

    # ---- SMS in (the raw body is never read; redacted text from the inbox or a case event)
    if indexes:
        inbound = list(await session.scalars(sa.select(SmsInbound).where(SmsInbound.from_index.in_(indexes))))
        ids = [m.id for m in inbound]
        texts: dict[uuid.UUID, str] = {}
        if ids:
            for inbound_id, text in await session.execute(
                sa.select(InboxItem.inbound_id, InboxItem.text_redacted).where(
                    InboxItem.inbound_id.in_(ids),
                    sa.or_(InboxItem.unit_id == closure.unit_id, InboxItem.closure_id == closure.id),
                )
            ):
                texts[inbound_id] = text
            for case_inbound_id, text in await session.execute(
                sa.select(CaseEvent.inbound_id, CaseEvent.text_redacted)
                .join(Case, Case.id == CaseEvent.case_id)
                .where(CaseEvent.inbound_id.in_(ids), Case.closure_id == closure.id)
            ):
                if case_inbound_id is not None:
                    texts.setdefault(case_inbound_id, text)
        for msg in inbound:
            outcome = msg.outcome or "handed_on"
            label = (
                "Signal: " + outcome.split(":", 1)[1].replace("crisis", "kris").replace("call_me", "ring mig")
                .replace("opt_out", "vill inte ha sms")
                if outcome.startswith("signals:")
                else INBOUND_OUTCOMES_SV.get(outcome, "Mottaget")
            )  # fmt: skip
            detail = texts.get(msg.id, "")  # a survey answer is its own entry ("Svar …")
            entries.append(Entry(msg.received_at, "sms_in", "Sms från personen", detail, status=label))

    # ---- answers (free text only in its redacted form)
    answers = list(
        await session.execute(
            sa.select(Answer, OpenText.text_redacted)
            .outerjoin(OpenText, OpenText.id == Answer.open_text_id)
            .where(Answer.closure_id == closure.id)
        )
    )
    prompts: dict[tuple[uuid.UUID, str], str] = {}
    choice_labels: dict[tuple[uuid.UUID, str, str], str] = {}
    if answers:
        q_ids = {a.questionnaire_id for a, _ in answers}
        for q in await session.scalars(sa.select(Question).where(Question.questionnaire_id.in_(q_ids))):
            prompts[(q.questionnaire_id, q.key)] = q.phone_prompt or q.key
            for choice in q.choices or []:
                if isinstance(choice, dict) and choice.get("value") and choice.get("label_sv"):
                    label = f"{choice.get('key')} = {choice['label_sv']}"
                    choice_labels[(q.questionnaire_id, q.key, str(choice["value"]))] = label
    for answer, text in answers:
        if answer.skipped:
            shown = "Hoppade över frågan"
        elif answer.dont_know:
            shown = "Vet inte"
        elif text is not None:
            shown = text
        else:
            value = answer.value or (str(answer.numeric) if answer.numeric is not None else "")
            shown = choice_labels.get(
                (answer.questionnaire_id, answer.question_key, value)
            ) or ANSWER_VALUES_SV.get(value, value)
        how = "sms" if answer.mode is AnswerMode.SMS else "telefon"
        entries.append(
            Entry(
                answer.answered_at,
                "answer",
                f"Svar ({how}, {answer.wave_days} dagar): "
                + prompts.get((answer.questionnaire_id, answer.question_key), answer.question_key),
                shown,
            )
        )

    # ---- calls
    tasks = list(
        await session.scalars(
            sa.select(CallTask)
            .where(CallTask.closure_id == closure.id)
            .execution_options(populate_existing=True)
        )
    )
    task_by_id = {t.id: t for t in tasks}
    if tasks:
        attempts = list(
            await session.execute(
                sa.select(CallAttempt, OpenText.text_redacted)
                .outerjoin(OpenText, OpenText.id == CallAttempt.note_open_text_id)
                .where(CallAttempt.task_id.in_(list(task_by_id)))
            )
        )
        for attempt, note in attempts:
            task = task_by_id[attempt.task_id]
            entries.append(
                Entry(
                    attempt.at,
                    "call",
                    f"Samtal ({task.wave_days} dagar): {OUTCOME_LABELS_SV[attempt.outcome]}",
                    note or "",
                    problem="Fel nummer" if attempt.outcome is CallOutcome.WRONG_NUMBER else "",
                    case_id=attempt.case_id,
                    failed=attempt.outcome is CallOutcome.WRONG_NUMBER,
                )
            )

    # ---- cases
    for case in await session.scalars(sa.select(Case).where(Case.closure_id == closure.id)):
        state = "öppet" if case.status is CaseStatus.OPEN else "stängt"
        entries.append(
            Entry(
                case.opened_at,
                "case",
                f"Ärende ({PRIORITY_LABELS_SV[case.priority].lower()}, {state}): "
                + TRIGGER_LABELS_SV.get(case.trigger, str(case.trigger)),
                case.summary,
                case_id=case.id,
            )
        )
        if case.closed_at is not None:
            entries.append(
                Entry(case.closed_at, "case", "Ärendet stängt", case.action_note or "", case_id=case.id)
            )
        # A later reason joined to the open case (one call, one case): shown, never swallowed.
        for added in await session.scalars(
            sa.select(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.kind == CaseEventKind.REASON_ADDED)
            .order_by(CaseEvent.at)
        ):
            entries.append(
                Entry(added.at, "case", "Ny anledning i ärendet", added.text_redacted, case_id=case.id)
            )

    # ---- opt-out ledger for the person's numbers
    opted_out = False
    if indexes:
        events = list(
            await session.scalars(
                sa.select(SmsOptOutEvent)
                .where(SmsOptOutEvent.phone_index.in_(indexes))
                .order_by(SmsOptOutEvent.at, SmsOptOutEvent.id)
            )
        )
        latest: dict[str, OptOutAction] = {}
        for event in events:
            action = OptOutAction(event.action)
            latest[event.phone_index] = action
            title = (
                "Tackade nej till sms (STOPP)"
                if action is OptOutAction.OPT_OUT
                else "Vill ha sms igen (START)"
            )
            entries.append(
                Entry(event.at, "opt_out", title, OPT_OUT_SOURCES_SV.get(OptOutSource(event.source), ""))
            )
        if client.phone_index:
            opted_out = latest.get(client.phone_index) is OptOutAction.OPT_OUT

    # ---- contact changes and stops recorded by caseworkers (the audit log; reasons are redacted)
    for audited in await session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.subject_type == "client",
            AuditEvent.subject_id == str(client.id),
            AuditEvent.action.in_(list(AUDIT_ACTIONS_SV)),
        )
    ):
        fields = [CHANGED_FIELDS_SV.get(f, f) for f in (audited.detail or {}).get("fields", [])]
        title = AUDIT_ACTIONS_SV[audited.action]
        if audited.action == "contact.do_not_contact":
            title = (
                "Markerad: kontakta ej"
                if (audited.detail or {}).get("value")
                else "Markeringen kontakta ej borttagen"
            )
        elif fields:
            title += ": " + ", ".join(fields)
        entries.append(
            Entry(audited.at, "contact", title, f"Skäl: {audited.reason}" if audited.reason else "")
        )

    if client.consent_withdrawn_at is not None and not any(
        e.title == "Samtycket återkallat" for e in entries
    ):
        entries.append(Entry(client.consent_withdrawn_at, "consent", "Samtycket återkallat"))

    # ---- truthful wave states
    by_follow_up = {c.follow_up_id: c for c in conversations}
    last_call: dict[uuid.UUID, CallTask] = {}
    for task in sorted(tasks, key=lambda t: t.created_at):
        last_call[task.follow_up_id] = task
    waves = []
    for fu in follow_ups:
        conv = by_follow_up.get(fu.id)
        waves.append(
            wave_label(
                fu,
                client,
                closure,
                opted_out=opted_out,
                conversation=conv,
                failure_reason=failure_by_owner.get(f"conversation:{conv.id}") if conv else None,
                last_call=last_call.get(fu.id),
            )
        )

    order = {id(e): i for i, e in enumerate(entries)}
    entries.sort(key=lambda e: (_utc(e.at), order[id(e)]), reverse=True)
    return ClientTimeline(entries=entries, waves=waves, opted_out=opted_out, sms_languages=sms_languages)


def _utc(at: datetime) -> datetime:
    """Stored datetimes are aware UTC (``feedback.core.db``); date facts are Stockholm noon."""
    return at if at.tzinfo is not None else at.replace(tzinfo=STOCKHOLM)
