"""The SMS conversation as a pure state machine: (state, event) → (new state, effects).

Why pure: every rule that decides what a person receives next (re-prompt or skip, remind or
wait, expire with which disposition) is tested here without a database, a clock or a gateway.
The service (``service.py``) loads the state from its row, feeds one event, persists the new
state and turns the effects into outbox rows and answers in the same transaction.

Rules (design/surveys.md, issue 4):
* start: the intro, then question 1;
* each reply is parsed against the current question; a valid one is recorded and the next
  question (or the thank-you after the last) is sent;
* an invalid reply gets a re-prompt, at most ``max_reprompts`` (2) times; the next invalid reply
  skips the question;
* one reminder per conversation, ``reminder_after`` after the current prompt was actually
  *sent* (the outbox's sent time, not when it was queued), only if no reply came since;
* after ``expire_after`` (7 days) an open conversation closes: partial if anything was answered,
  otherwise no response (→ the plan's phone fallback);
* STOPP is handled by notifications and reaches us as ``opt_out`` → closed as opted out;
  a permanent delivery failure → unreachable (→ phone fallback);
* an explicit refusal ("vill inte", "inte intresserad") before any answer → refused;
* after a valid, non-empty free-text answer the quoting question follows ("Får vi visa det du
  skrev som citat …?", ``Send("quote_consent")``); the next reply is its answer, never
  re-prompted: a clear yes gives consent (``QuoteConsent``), anything else counts as no, and the
  survey goes on with the next question;
* crisis words or "ring mig" → paused (``on_pause``): no next question, no reminder, no
  re-prompt; a caseworker takes over. A paused conversation closes silently at expiry, without
  the phone fallback (the case and its call task already own the person).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from surveys.questionnaires.answers import (
    Invalid,
    Parsed,
    QuestionKind,
    QuestionSpec,
    parse_answer,
    parse_quote_consent,
)


class Disposition(enum.StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    NO_RESPONSE = "no_response"
    REFUSED = "refused"
    OPTED_OUT = "opted_out"
    UNREACHABLE = "unreachable"


DISPOSITION_LABELS_SV = {
    Disposition.COMPLETE: "Alla frågor besvarade",
    Disposition.PARTIAL: "Delvis besvarad",
    Disposition.NO_RESPONSE: "Inget svar",
    Disposition.REFUSED: "Avböjde",
    Disposition.OPTED_OUT: "Avregistrerad (STOPP)",
    Disposition.UNREACHABLE: "Ej nåbar",
}

# Dispositions after which the plan's phone step takes over.
PHONE_FALLBACK = frozenset({Disposition.NO_RESPONSE, Disposition.UNREACHABLE})

_REFUSAL = re.compile(
    r"^(nej tack|vill inte|jag vill inte( svara)?|inte intresserad|svarar inte|no thanks|not interested)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class MachineConfig:
    max_reprompts: int = 2
    reminder_after: timedelta = timedelta(hours=48)
    expire_after: timedelta = timedelta(days=7)
    ask_quote_consent: bool = True


@dataclass(frozen=True)
class State:
    started_at: datetime
    step: int = 0  # index of the current question
    reprompts: int = 0  # re-prompts sent for the current question
    reminder_sent: bool = False
    answered: int = 0  # questions with a valid answer (including "vet inte" and an explicit skip)
    skipped: int = 0  # questions skipped after too many invalid replies
    last_reply_at: datetime | None = None
    closed_at: datetime | None = None
    disposition: Disposition | None = None
    paused_at: datetime | None = None
    # The quoting question about the current (free-text) question's answer awaits its reply.
    awaiting_quote_consent: bool = False

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


# ------------------------------------------------------------------ effects
@dataclass(frozen=True)
class Send:
    """Queue one SMS. ``(step, attempt, text_key)`` makes the outbox idempotency key."""

    text_key: str  # "intro", "question:<key>", "reprompt:<key>", "reminder", "thanks"
    step: int
    attempt: int = 0


@dataclass(frozen=True)
class Record:
    """Store the answer to question ``question_key`` (``parsed.skipped`` for a skipped one)."""

    question_key: str
    parsed: Parsed
    raw: str


@dataclass(frozen=True)
class QuoteConsent:
    """The reply to the quoting question about the answer to ``question_key``.

    ``given`` is True only for a clear yes; ``understood`` says whether the reply was a clear yes
    or no (an unclear one counts as no, and the service keeps the text in the inbox).
    """

    question_key: str
    given: bool
    understood: bool


@dataclass(frozen=True)
class Finish:
    disposition: Disposition
    phone_fallback: bool


Effect = Send | Record | QuoteConsent | Finish


@dataclass(frozen=True)
class Outcome:
    state: State
    effects: tuple[Effect, ...]

    def sends(self) -> list[Send]:
        return [e for e in self.effects if isinstance(e, Send)]


def _question_send(questions: Sequence[QuestionSpec], step: int) -> Send:
    return Send(f"question:{questions[step].key}", step)


def start(questions: Sequence[QuestionSpec], now: datetime) -> Outcome:
    if not questions:
        raise ValueError("a questionnaire needs at least one question")
    state = State(started_at=now)
    return Outcome(state, (Send("intro", -1), _question_send(questions, 0)))


def _finish(state: State, now: datetime, disposition: Disposition, *extra: Effect) -> Outcome:
    closed = replace(state, closed_at=now, disposition=disposition)
    return Outcome(closed, (*extra, Finish(disposition, disposition in PHONE_FALLBACK)))


def _advance(state: State, questions: Sequence[QuestionSpec], now: datetime, *effects: Effect) -> Outcome:
    nxt = replace(state, step=state.step + 1, reprompts=0)
    if nxt.step >= len(questions):
        disposition = Disposition.COMPLETE if nxt.skipped == 0 else Disposition.PARTIAL
        return _finish(nxt, now, disposition, *effects, Send("thanks", nxt.step))
    return Outcome(nxt, (*effects, _question_send(questions, nxt.step)))


def on_reply(
    state: State,
    questions: Sequence[QuestionSpec],
    text: str,
    now: datetime,
    config: MachineConfig = MachineConfig(),
) -> Outcome:
    """A reply arrived for the open conversation."""
    if not state.is_open or state.is_paused:
        return Outcome(state, ())
    state = replace(state, last_reply_at=now)
    question = questions[state.step]
    if state.awaiting_quote_consent:
        consent = parse_quote_consent(text)
        done = replace(state, awaiting_quote_consent=False)
        return _advance(
            done, questions, now, QuoteConsent(question.key, consent is True, consent is not None)
        )
    parsed = parse_answer(question, text)
    if isinstance(parsed, Parsed):
        answered = replace(state, answered=state.answered + 1)
        record = Record(question.key, parsed, text)
        if config.ask_quote_consent and question.kind is QuestionKind.FREE_TEXT and parsed.text:
            asking = replace(answered, awaiting_quote_consent=True, reprompts=0)
            return Outcome(asking, (record, Send("quote_consent", state.step)))
        return _advance(answered, questions, now, record)
    if state.answered == 0 and _REFUSAL.match(text.strip()):
        return _finish(state, now, Disposition.REFUSED)
    assert isinstance(parsed, Invalid)
    if state.reprompts < config.max_reprompts:
        attempt = state.reprompts + 1
        return Outcome(
            replace(state, reprompts=attempt), (Send(f"reprompt:{question.key}", state.step, attempt),)
        )
    skipped = replace(state, skipped=state.skipped + 1)
    return _advance(skipped, questions, now, Record(question.key, Parsed(value=None, skipped=True), text))


def on_tick(
    state: State, now: datetime, last_prompt_sent_at: datetime | None, config: MachineConfig = MachineConfig()
) -> Outcome:
    """Time passed: expire, or send the one reminder.

    ``last_prompt_sent_at`` is when the newest question/re-prompt actually left (outbox sent
    time); ``None`` while it is still queued (quiet hours, retries), so no reminder yet.
    """
    if not state.is_open:
        return Outcome(state, ())
    if now >= state.started_at + config.expire_after:
        disposition = Disposition.PARTIAL if state.answered else Disposition.NO_RESPONSE
        if state.is_paused:
            closed = replace(state, closed_at=now, disposition=disposition)
            return Outcome(closed, (Finish(disposition, phone_fallback=False),))
        return _finish(state, now, disposition)
    if state.is_paused:
        return Outcome(state, ())
    if state.reminder_sent or last_prompt_sent_at is None:
        return Outcome(state, ())
    if state.last_reply_at is not None and state.last_reply_at >= last_prompt_sent_at:
        return Outcome(state, ())
    if now >= last_prompt_sent_at + config.reminder_after:
        return Outcome(replace(state, reminder_sent=True), (Send("reminder", state.step),))
    return Outcome(state, ())


def on_pause(state: State, now: datetime) -> Outcome:
    """Crisis words or "ring mig": stop asking; nothing is sent by the survey from now on."""
    if not state.is_open or state.is_paused:
        return Outcome(state, ())
    return Outcome(replace(state, paused_at=now), ())


def on_opt_out(state: State, now: datetime) -> Outcome:
    """STOPP (handled and confirmed by notifications): end at once, nothing more is sent."""
    if not state.is_open:
        return Outcome(state, ())
    return _finish(state, now, Disposition.OPTED_OUT)


def on_delivery_failed(state: State, now: datetime) -> Outcome:
    """A message could not be delivered (invalid number, carrier failure): phone instead."""
    if not state.is_open:
        return Outcome(state, ())
    if state.answered:
        return _finish(state, now, Disposition.PARTIAL)
    return _finish(state, now, Disposition.UNREACHABLE)
