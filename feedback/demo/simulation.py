"""Walk through the past year, day by day, with the real services and an injected clock.

Each simulated day (Stockholm time): 08:30 caseworkers register the day's closures and returns to
assistance; 08:45 the scheduler hands due waves over; 09:05 the dispatcher sends (the office
window decides what waits for Monday); from 09:30 clients reply through the real inbound path,
and the dispatcher sends the next question after each round; 13:00 caseworkers work the phone
queue; 15:00 they close cases with a note; 18:00 the conversation tick sends reminders and
expires old conversations. The last days are left unworked on purpose, so the demo has open
conversations, calls in the queue and cases waiting, as on any working day.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.core.clock import STOCKHOLM, FrozenClock
from feedback.core.settings import Settings
from feedback.demo import answers, texts
from feedback.demo.cast import EAGER, PARTIAL, REFUSES, SILENT, SLOW, STOPS, UNREACHABLE, DemoClient
from feedback.reports.reviews import mark_withdrawn_quotes
from notifications.dispatcher import DispatchConfig, Dispatcher, due_select
from notifications.errors import PermanentSendError
from notifications.inbound import InboundFields, receive
from notifications.models import SmsOutbox
from notifications.phone import PhoneVault
from notifications.ports import OutboundSms, SendResult, SmsGateway
from surveys.cases.models import Case, CaseStatus
from surveys.cases.service import close_case
from surveys.closures import service as closures
from surveys.closures.contact import VaultPhoneProtector
from surveys.conversations import service as conversations
from surveys.conversations.models import Conversation
from surveys.conversations.service import SurveyInboundHandler
from surveys.phone import service as phone
from surveys.phone.models import CallOutcome, CallTask
from surveys.plans.scheduler import ChannelStarter, run_due
from surveys.questionnaires import service as questionnaires
from surveys.questionnaires.models import Questionnaire

log = logging.getLogger(__name__)
# The last days are not worked yet: calls wait in the queue and cases wait (some past their SLA).
QUIET_CALL_DAYS = 3
QUIET_CASE_DAYS = 9
PROVIDER_NUMBER = "+46700000000"


class DemoGateway:
    """Stands in for the SMS provider during the simulation: accepts every message, except to
    numbers the simulation made unreachable for a wave (Twilio 30003: the phone is off)."""

    def __init__(self) -> None:
        self.unreachable: set[str] = set()
        self.sent = 0

    async def send(self, message: OutboundSms) -> SendResult:
        if message.to_e164 in self.unreachable:
            raise PermanentSendError(30003, detail="demo: unreachable handset")
        self.sent += 1
        return SendResult(provider_sid="SM" + uuid.uuid4().hex, provider_status="sent")

    async def find_sent(
        self,
        *,
        to_e164: str,
        sent_after: datetime,
        outbox_id: uuid.UUID,
        body: str | None = None,
        exclude: Collection[str] = frozenset(),
    ) -> SendResult | None:
        return None


if TYPE_CHECKING:

    def _conforms(gateway: DemoGateway) -> SmsGateway:
        """mypy checks the gateway against the port: a drifting signature fails ``make lint``."""
        return gateway


@dataclass
class Script:
    """How one client behaves in one SMS conversation."""

    habit: str
    reply_from: datetime
    rng: random.Random
    stop_at: int = 0  # answered questions before going quiet (PARTIAL) or writing STOPP (STOPS)
    call_me: bool = False


@dataclass
class Tally:
    registered: int = 0
    returns: int = 0
    replies: int = 0
    calls: int = 0
    cases_closed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), STOCKHOLM).astimezone(UTC)


class YearSimulation:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        cast: list[DemoClient],
        *,
        units: dict[str, uuid.UUID],
        caseworkers: dict[str, uuid.UUID],
        seed: int = 2026,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.cast = cast
        self.units = units
        self.caseworkers = caseworkers
        self.seed = seed
        vault = PhoneVault.from_settings(settings)
        self.by_index = {vault.blind_index(c.phone): c for c in cast if c.phone}
        self.by_closure: dict[uuid.UUID, DemoClient] = {}
        self.closure_of: dict[str, uuid.UUID] = {}
        self.scripts: dict[uuid.UUID, Script] = {}
        self.questionnaires: dict[uuid.UUID, Questionnaire] = {}
        self.clock = FrozenClock(at(min(c.registered_on for c in cast), 8))
        self.gateway = DemoGateway()
        self.handler = SurveyInboundHandler(settings, on_quotes_withdrawn=mark_withdrawn_quotes)
        self.dispatcher = Dispatcher(
            sessionmaker=sessionmaker,
            gateway=self.gateway,
            handler=self.handler,
            vault=vault,
            config=DispatchConfig.from_settings(settings),
            clock=self.clock,
        )
        self.tally = Tally()
        self.open_conversations = 0
        self.today = date.max

    async def run(self, today: date, progress: Callable[[int, int], None] | None = None) -> Tally:
        """Simulate every day up to ``today``; ``progress(days_done, days_total)`` after each."""
        self.today = today
        first = day = min(c.registered_on for c in self.cast)
        total = (today - first).days
        while day < today:
            await self.simulate_day(day, days_left=(today - day).days)
            day += timedelta(days=1)
            if progress is not None:
                progress((day - first).days, total)
        self.tally.sent = self.gateway.sent
        return self.tally

    async def simulate_day(self, day: date, *, days_left: int) -> None:
        workday = day.weekday() < 5
        await self._register(day, at(day, 8, 30))
        await self._schedule(at(day, 8, 45))
        await self._dispatch(at(day, 9, 5))
        for round_no in range(10 if self.scripts_open else 0):
            moment = at(day, 9, 30) + timedelta(minutes=20 * round_no)
            if not await self._reply_round(moment):
                break
            await self._dispatch(moment + timedelta(minutes=2))
        if workday and days_left > QUIET_CALL_DAYS:
            await self._phone_shift(at(day, 13))
        if workday and days_left > QUIET_CASE_DAYS:
            await self._case_work(at(day, 15))
        await self._tick(at(day, 18))
        await self._dispatch(at(day, 18, 5))

    # -- steps -------------------------------------------------------------------------
    def _set(self, moment: datetime) -> datetime:
        self.clock.set(moment)
        return moment

    async def _register(self, day: date, moment: datetime) -> None:
        self._set(moment)
        todays = [c for c in self.cast if c.registered_on == day]
        returning = [c for c in self.cast if c.returns_on == day and c.ref in self.closure_of]
        if not todays and not returning:
            return
        protector = VaultPhoneProtector(self.settings)
        rng = self._rng("register", day)
        async with self.sessionmaker() as session:
            for client in todays:
                registration = await closures.register_closure(
                    session,
                    unit_id=self.units[client.unit_code],
                    data=closures.ClosureInput(
                        client_ref=client.ref,
                        closed_on=client.closed_on,
                        reason=client.reason,
                        phone=client.phone,
                        language=client.language,
                        consent_on=client.closed_on - timedelta(days=rng.randint(0, 20)),
                        consent_channel=rng.choice(("meeting", "meeting", "phone", "written")),
                        consent_given_by="client",
                    ),
                    phones=protector,
                    actor_id=self.caseworkers[client.unit_code],
                    now=moment,
                    min_gap_days=self.settings.contact_min_gap_days,
                )
                self.by_closure[registration.closure.id] = client
                self.closure_of[client.ref] = registration.closure.id
                self.tally.registered += 1
            for client in returning:
                await closures.register_return(
                    session,
                    self.closure_of[client.ref],
                    returned_on=day,
                    actor_id=self.caseworkers[client.unit_code],
                    now=moment,
                )
                self.tally.returns += 1
            await session.commit()

    async def _schedule(self, moment: datetime) -> None:
        self._set(moment)
        starter = ChannelStarter(self.settings)
        while True:
            async with self.sessionmaker() as session:
                result = await run_due(
                    session, now=moment, starter=starter, min_gap_days=self.settings.contact_min_gap_days
                )
                await session.commit()
            self.tally.failed += result.failed
            for reason, count in result.skipped.items():
                self.tally.skipped[reason] = self.tally.skipped.get(reason, 0) + count
            if result.handed_over + sum(result.skipped.values()) + result.deferred == 0:
                break
        await self._new_scripts(moment)

    @property
    def scripts_open(self) -> bool:
        return bool(self.open_conversations)

    async def _new_scripts(self, moment: datetime) -> None:
        async with self.sessionmaker() as session:
            self.open_conversations = (
                await session.execute(sa.select(sa.func.count()).where(Conversation.is_open.is_(True)))
            ).scalar_one()
            rows = await session.execute(
                sa.select(Conversation.id, Conversation.closure_id, Conversation.wave_days).where(
                    Conversation.is_open.is_(True)
                )
            )
            for conv_id, closure_id, wave_days in rows:
                if conv_id in self.scripts:
                    continue
                client = self.by_closure[closure_id]
                self.scripts[conv_id] = script = self._script_for(client, wave_days, moment)
                if script.habit == UNREACHABLE and client.phone:
                    self.gateway.unreachable.add(client.phone)

    def _rng(self, *parts: object) -> random.Random:
        """A generator per decision, so what a client does never depends on database order."""
        return random.Random("|".join(map(str, (self.seed, *parts))))

    def _script_for(self, client: DemoClient, wave_days: int, moment: datetime) -> Script:
        rng = self._rng("sms", client.ref, wave_days)
        habits, weights = zip(*client.habits, strict=True)
        habit = rng.choices(habits, weights=weights)[0]
        delay = timedelta(days=2, hours=3) if habit == SLOW else timedelta(minutes=rng.randint(0, 90))
        return Script(
            habit=habit,
            reply_from=moment + delay,
            rng=rng,
            stop_at=rng.randint(1, 4),
            call_me=habit in (EAGER, SLOW) and rng.random() < 0.06,
        )

    async def _dispatch(self, moment: datetime) -> None:
        """Run the dispatcher when something is due (the worker polls; the simulation asks)."""
        self._set(moment)
        while True:
            async with self.sessionmaker() as session:
                due = await session.scalar(due_select(moment, 1))
            if due is None or not (await self.dispatcher.run_once()).claimed:
                return

    async def _questionnaire(self, session: AsyncSession, questionnaire_id: uuid.UUID) -> Questionnaire:
        if questionnaire_id not in self.questionnaires:
            self.questionnaires[questionnaire_id] = await questionnaires.get(session, questionnaire_id)
        return self.questionnaires[questionnaire_id]

    async def _reply_round(self, moment: datetime) -> int:
        """Every client whose newest question has arrived (and who wants to) answers it."""
        self._set(moment)
        replied = 0
        async with self.sessionmaker() as session:
            waiting = (
                await session.execute(
                    sa.select(Conversation)
                    .join(SmsOutbox, SmsOutbox.id == Conversation.last_prompt_outbox_id)
                    .where(
                        Conversation.is_open.is_(True),
                        SmsOutbox.sent_at.is_not(None),
                        SmsOutbox.sent_at <= moment,
                        sa.or_(
                            Conversation.last_reply_at.is_(None),
                            Conversation.last_reply_at < SmsOutbox.sent_at,
                        ),
                    )
                    .order_by(Conversation.started_at)
                )
            ).scalars()
            for conv in list(waiting):
                text = await self._reply_text(session, conv, moment)
                if text is None:
                    continue
                script = self.scripts[conv.id]
                client = self.by_closure[conv.closure_id]
                await self._receive(session, client, text, moment)
                replied += 1
                if script.call_me and not await session.scalar(
                    sa.select(Conversation.is_open).where(Conversation.id == conv.id)
                ):
                    await self._receive(session, client, "Ring mig", moment + timedelta(minutes=5))
            await session.commit()
        self.tally.replies += replied
        return replied

    async def _reply_text(self, session: AsyncSession, conv: Conversation, moment: datetime) -> str | None:
        script = self.scripts.get(conv.id)
        if script is None or moment < script.reply_from or script.habit in (SILENT, UNREACHABLE):
            return None
        if script.habit == REFUSES:
            return script.rng.choice(("Nej tack", "Vill inte svara", "nej tack, inte intresserad"))
        if script.habit == STOPS and conv.answered >= script.stop_at:
            return script.rng.choice(("STOPP", "Stopp", "stop"))
        if script.habit == PARTIAL and conv.answered >= script.stop_at:
            return None
        client = self.by_closure[conv.closure_id]
        if conv.awaiting_quote_consent:
            return answers.quote_reply(client, script.rng)
        questionnaire = await self._questionnaire(session, conv.questionnaire_id)
        question = sorted(questionnaire.questions, key=lambda q: q.position)[conv.step]
        spec = questionnaires.question_spec(question)
        return answers.sms_reply(spec, client, script.rng, reprompts=conv.reprompts)

    async def _receive(self, session: AsyncSession, client: DemoClient, text: str, moment: datetime) -> None:
        assert client.phone is not None
        fields = InboundFields(
            message_sid="SM" + uuid.uuid4().hex,
            from_=client.phone,
            to=self.settings.twilio_from or PROVIDER_NUMBER,
            body=text,
            opt_out_type=None,
        )
        await receive(session, self.settings, self.handler, fields, now=moment)

    async def _phone_shift(self, moment: datetime) -> None:
        """Each unit's caseworker calls up to six people whose call has waited a day or more."""
        self._set(moment)
        async with self.sessionmaker() as session:
            for unit_code, unit_id in self.units.items():
                user_id = self.caseworkers[unit_code]
                tasks = await phone.due_calls(session, [unit_id], moment)
                for task in [t for t in tasks if _aware(t.due_at) <= moment - timedelta(days=1)][:6]:
                    if not await phone.claim(session, task.id, user_id=user_id, now=moment):
                        continue
                    await self._call(session, task, user_id, moment)
                    self.tally.calls += 1
            await session.commit()

    async def _call(
        self, session: AsyncSession, task: CallTask, user_id: uuid.UUID, moment: datetime
    ) -> None:
        client = self.by_closure[task.closure_id]
        rng = self._rng("call", client.ref, task.wave_days, task.attempts, task.last_outcome)
        roll = rng.random()
        if roll < client.answers_calls:
            outcome = CallOutcome.DECLINED if rng.random() < 0.1 else CallOutcome.COMPLETED
        else:
            outcome = rng.choices(
                (CallOutcome.NO_ANSWER, CallOutcome.BUSY, CallOutcome.CALL_BACK, CallOutcome.WRONG_NUMBER),
                weights=(0.7, 0.12, 0.12, 0.06),
            )[0]
        entries: dict[str, str] = {}
        quotable: set[str] = set()
        note = ""
        if outcome is CallOutcome.COMPLETED:
            questionnaire = await questionnaires.get_active(session, task.questionnaire_key)
            for question in questionnaire.questions:
                entries[question.key] = answers.phone_answer(
                    questionnaires.question_spec(question), client, rng
                )
                if (
                    question.kind == "free_text"
                    and entries[question.key]
                    and answers.phone_quote_consent(rng)
                ):
                    quotable.add(question.key)
            note = rng.choice(texts.CALL_NOTES) if rng.random() < 0.6 else ""
        worried = outcome is CallOutcome.COMPLETED and client.satisfaction <= 2 and rng.random() < 0.4
        await phone.log_call(
            session,
            task,
            phone.CallLog(
                outcome=outcome,
                consent=True if outcome is CallOutcome.COMPLETED else None,
                answers=entries,
                note=note,
                call_back_at=moment + timedelta(days=2) if outcome is CallOutcome.CALL_BACK else None,
                duration_min=rng.randint(4, 15) if outcome is CallOutcome.COMPLETED else None,
                open_case=worried,
                case_reason="Vill ha stöd med ekonomin efter att jobbet tog slut." if worried else "",
                quote_consent=frozenset(quotable),
            ),
            user_id=user_id,
            now=moment,
            secret=self.settings.secret_key,
        )

    async def _case_work(self, moment: datetime) -> None:
        """Most cases are closed within a few working days, with a note of what was done."""
        self._set(moment)
        async with self.sessionmaker() as session:
            cases = (
                await session.scalars(
                    sa.select(Case)
                    .where(Case.status == CaseStatus.OPEN, Case.opened_at <= moment - timedelta(days=1))
                    .order_by(Case.opened_at)
                )
            ).all()
            units = {v: k for k, v in self.units.items()}
            for case in cases:
                ref = self.by_closure[case.closure_id].ref
                recent = (self.today - _aware(case.opened_at).astimezone(STOCKHOLM).date()).days < 60
                if recent and self._rng("case-left-open", ref, case.trigger).random() < 0.35:
                    continue  # some recent cases wait past their SLA: the cases list has to show it
                rng = self._rng("case", ref, case.trigger, moment.date())
                if rng.random() < 0.45:
                    continue
                user_id = case.owner_id or self.caseworkers[units[case.unit_id]]
                note = rng.choice(texts.CASE_ACTIONS)
                await close_case(session, case, user_id=user_id, action_note=note, now=moment)
                self.tally.cases_closed += 1
            await session.commit()

    async def _tick(self, moment: datetime) -> None:
        self._set(moment)
        while True:
            async with self.sessionmaker() as session:
                changed = await conversations.tick(session, now=moment, settings=self.settings)
                await session.commit()
            if changed == 0:
                break
        waiting = {cid for cid, script in self.scripts.items() if script.habit == UNREACHABLE}
        if not waiting:
            return
        async with self.sessionmaker() as session:
            closed = await session.execute(
                sa.select(Conversation.id, Conversation.closure_id).where(
                    Conversation.id.in_(waiting), Conversation.is_open.is_(False)
                )
            )
            for conv_id, closure_id in closed:
                self.gateway.unreachable.discard(self.by_closure[closure_id].phone or "")
                self.scripts[conv_id].habit = SILENT


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
