"""The pure conversation state machine: every path a person can take through an SMS survey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from surveys.conversations import machine as m
from surveys.questionnaires.answers import Choice, QuestionKind, QuestionSpec

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
QUESTIONS = (
    QuestionSpec(
        "status",
        QuestionKind.CHOICE,
        choices=tuple(
            Choice(i, v) for i, v in enumerate(("working", "studying", "both", "neither"), start=1)
        ),
    ),
    QuestionSpec("satisfaction", QuestionKind.SCALE),
    QuestionSpec("influence", QuestionKind.YES_NO),
    QuestionSpec("improve", QuestionKind.FREE_TEXT, allow_skip=True),
)
CONFIG = m.MachineConfig()


def _walk(replies: list[str]) -> tuple[m.State, list[m.Effect]]:
    outcome = m.start(QUESTIONS, T0)
    effects = list(outcome.effects)
    state = outcome.state
    for i, text in enumerate(replies, start=1):
        outcome = m.on_reply(state, QUESTIONS, text, T0 + timedelta(minutes=i))
        state = outcome.state
        effects += outcome.effects
    return state, effects


def test_start_sends_intro_then_question_one() -> None:
    outcome = m.start(QUESTIONS, T0)
    assert outcome.effects == (m.Send("intro", -1), m.Send("question:status", 0))
    assert outcome.state.is_open and outcome.state.step == 0


def test_happy_path_records_every_answer_and_thanks() -> None:
    state, effects = _walk(["1", "5", "ja", "Snabba svar", "ja"])
    records = [e for e in effects if isinstance(e, m.Record)]
    assert [(r.question_key, r.parsed.value) for r in records] == [
        ("status", "working"), ("satisfaction", "5"), ("influence", "yes"), ("improve", "text")
    ]  # fmt: skip
    sends = [e.text_key for e in effects if isinstance(e, m.Send)]
    assert sends == ["intro", "question:status", "question:satisfaction", "question:influence",
                     "question:improve", "quote_consent", "thanks"]  # fmt: skip
    assert [e for e in effects if isinstance(e, m.QuoteConsent)] == [m.QuoteConsent("improve", True, True)]
    assert effects[-1] == m.Finish(m.Disposition.COMPLETE, phone_fallback=False)
    assert not state.is_open and state.disposition is m.Disposition.COMPLETE and state.answered == 4


def test_invalid_reply_reprompts_twice_then_skips() -> None:
    outcome = m.start(QUESTIONS, T0)
    state = outcome.state
    first = m.on_reply(state, QUESTIONS, "kanske", T0)
    assert first.effects == (m.Send("reprompt:status", 0, 1),)
    second = m.on_reply(first.state, QUESTIONS, "vet inte riktigt", T0)
    assert second.effects == (m.Send("reprompt:status", 0, 2),)
    third = m.on_reply(second.state, QUESTIONS, "hmm", T0)
    record, send = third.effects
    assert isinstance(record, m.Record) and record.parsed.skipped and record.question_key == "status"
    assert send == m.Send("question:satisfaction", 1)
    assert third.state.step == 1 and third.state.reprompts == 0 and third.state.skipped == 1


def test_a_valid_reply_after_a_reprompt_is_accepted_and_resets_the_count() -> None:
    state, effects = _walk(["x", "2", "x", "x", "4"])
    records = [e for e in effects if isinstance(e, m.Record)]
    assert [(r.question_key, r.parsed.value) for r in records] == [
        ("status", "studying"),
        ("satisfaction", "4"),
    ]
    assert state.step == 2 and state.reprompts == 0


def test_a_skipped_question_makes_the_end_partial() -> None:
    state, effects = _walk(["x", "x", "x", "3", "nej", "0"])
    assert state.disposition is m.Disposition.PARTIAL
    assert m.Send("thanks", 4) in effects


def test_explicit_skip_of_free_text_still_counts_as_complete() -> None:
    state, _ = _walk(["1", "3", "nej", "0"])
    assert state.disposition is m.Disposition.COMPLETE


def test_refusal_before_any_answer_closes_as_refused_without_more_texts() -> None:
    outcome = m.on_reply(m.start(QUESTIONS, T0).state, QUESTIONS, "Nej tack, vill inte", T0)
    assert outcome.effects == (m.Finish(m.Disposition.REFUSED, phone_fallback=False),)
    assert outcome.state.disposition is m.Disposition.REFUSED


def test_reminder_waits_for_the_actual_send_time() -> None:
    state = m.start(QUESTIONS, T0).state
    # Still queued (quiet hours): no reminder however long we wait.
    assert m.on_tick(state, T0 + timedelta(days=3), None).effects == ()
    sent = T0 + timedelta(hours=20)  # left the outbox the next morning
    assert m.on_tick(state, sent + timedelta(hours=47), sent).effects == ()
    due = m.on_tick(state, sent + timedelta(hours=48), sent)
    assert due.effects == (m.Send("reminder", 0),) and due.state.reminder_sent


def test_only_one_reminder_per_conversation() -> None:
    state = m.start(QUESTIONS, T0).state
    reminded = m.on_tick(state, T0 + timedelta(hours=49), T0).state
    answered = m.on_reply(reminded, QUESTIONS, "1", T0 + timedelta(hours=50)).state
    later = T0 + timedelta(hours=51)
    assert m.on_tick(answered, later + timedelta(hours=49), later).effects == ()


def test_no_reminder_when_the_person_replied_after_the_prompt() -> None:
    state = m.start(QUESTIONS, T0).state
    replied = m.on_reply(state, QUESTIONS, "x", T0 + timedelta(hours=1)).state  # re-prompt queued
    # The re-prompt has not been sent yet; the question was sent before the reply.
    assert m.on_tick(replied, T0 + timedelta(hours=60), T0).effects == ()


def test_expiry_without_answers_is_no_response_with_phone_fallback() -> None:
    state = m.start(QUESTIONS, T0).state
    assert m.on_tick(state, T0 + timedelta(days=7) - timedelta(seconds=1), None).state.is_open
    expired = m.on_tick(state, T0 + timedelta(days=7), None)
    assert expired.effects == (m.Finish(m.Disposition.NO_RESPONSE, phone_fallback=True),)
    assert expired.state.closed_at == T0 + timedelta(days=7)


def test_expiry_after_some_answers_is_partial_without_fallback() -> None:
    state, _ = _walk(["1", "4"])
    expired = m.on_tick(state, T0 + timedelta(days=8), T0)
    assert expired.effects == (m.Finish(m.Disposition.PARTIAL, phone_fallback=False),)


def test_opt_out_ends_at_once_and_sends_nothing() -> None:
    state, _ = _walk(["1"])
    outcome = m.on_opt_out(state, T0 + timedelta(hours=1))
    assert outcome.effects == (m.Finish(m.Disposition.OPTED_OUT, phone_fallback=False),)
    assert m.on_reply(outcome.state, QUESTIONS, "5", T0).effects == ()
    assert m.on_tick(outcome.state, T0 + timedelta(days=30), T0).effects == ()


@pytest.mark.parametrize(("replies", "disposition", "fallback"), [
    ([], m.Disposition.UNREACHABLE, True), (["1"], m.Disposition.PARTIAL, False)])  # fmt: skip
def test_delivery_failure(replies: list[str], disposition: m.Disposition, fallback: bool) -> None:
    state, _ = _walk(replies)
    outcome = m.on_delivery_failed(state, T0 + timedelta(hours=2))
    assert outcome.effects == (m.Finish(disposition, phone_fallback=fallback),)


def test_closed_conversation_ignores_everything() -> None:
    state, _ = _walk(["1", "5", "ja", "bra", "nej"])
    assert not state.is_open
    assert m.on_reply(state, QUESTIONS, "1", T0).effects == ()
    assert m.on_opt_out(state, T0).effects == ()
    assert m.on_delivery_failed(state, T0).effects == ()
    assert m.on_tick(state, T0 + timedelta(days=9), T0).effects == ()


def test_a_configurable_reprompt_limit() -> None:
    config = m.MachineConfig(max_reprompts=0)
    outcome = m.on_reply(m.start(QUESTIONS, T0).state, QUESTIONS, "x", T0, config)
    assert isinstance(outcome.effects[0], m.Record) and outcome.effects[0].parsed.skipped


def test_single_question_status_survey() -> None:
    outcome = m.start(QUESTIONS[:1], T0)
    done = m.on_reply(outcome.state, QUESTIONS[:1], "٢", T0)
    assert [type(e) for e in done.effects] == [m.Record, m.Send, m.Finish]
    assert done.effects[1] == m.Send("thanks", 1)


# ------------------------------------------------------------------ the quoting question
@pytest.mark.parametrize(
    ("reply", "given", "understood"),
    [
        ("ja", True, True), ("JA!", True, True), ("Ja gärna", True, True), ("yes", True, True),
        ("1", True, True), ("نعم", True, True), ("haa", True, True),
        ("nej", False, True), ("NEJ TACK", False, True), ("no", False, True), ("2", False, True),
        ("لا", False, True), ("maya", False, True), ("ta bort mitt citat", False, True),
        ("kanske", False, False), ("ja eller nej", False, False), ("3", False, False), ("", False, False),
        ("Jag vet inte vad ni menar", False, False),
    ],
)  # fmt: skip
def test_the_quoting_question_is_asked_after_an_open_answer_and_never_reprompted(
    reply: str, given: bool, understood: bool
) -> None:
    asked, effects = _walk(["1", "5", "ja", "Snabba svar"])
    assert effects[-1] == m.Send("quote_consent", 3) and asked.awaiting_quote_consent and asked.is_open
    outcome = m.on_reply(asked, QUESTIONS, reply, T0 + timedelta(hours=1))
    assert outcome.effects[0] == m.QuoteConsent("improve", given, understood)
    assert outcome.effects[1] == m.Send("thanks", 4)  # the survey goes on whatever the reply
    assert not outcome.state.awaiting_quote_consent and outcome.state.disposition is m.Disposition.COMPLETE


def test_no_quoting_question_after_a_skipped_open_answer_or_when_switched_off() -> None:
    _, skipped = _walk(["1", "5", "ja", "0"])
    assert "quote_consent" not in [e.text_key for e in skipped if isinstance(e, m.Send)]
    state = m.start(QUESTIONS[3:], T0).state
    off = m.on_reply(state, QUESTIONS[3:], "Snabba svar", T0, m.MachineConfig(ask_quote_consent=False))
    assert [e for e in off.effects if isinstance(e, m.Send)] == [m.Send("thanks", 1)]


def test_a_conversation_waiting_for_the_quoting_answer_expires_as_complete_without_consent() -> None:
    asked, _ = _walk(["1", "5", "ja", "Snabba svar"])
    expired = m.on_tick(asked, T0 + timedelta(days=8), T0)
    assert expired.state.disposition is m.Disposition.PARTIAL and not expired.state.is_open
    assert not any(isinstance(e, m.QuoteConsent) for e in expired.effects)
