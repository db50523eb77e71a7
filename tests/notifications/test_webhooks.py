"""Twilio webhooks through the real app: signatures, dedup, opt-out keywords, status order.

Runs on SQLite and PostgreSQL (``db_url`` fixture). Requests are signed with the same algorithm
the fake Twilio uses, against the configured public URL (``http://testserver.local``).
"""

from __future__ import annotations

import asyncio
import secrets
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from notifications.models import SmsInbound, SmsOptOutEvent, SmsOutbox, SmsStatusEvent
from notifications.phone import PhoneVault
from notifications.ports import DeliveryProblem, InboundSms
from notifications.testing.fake_twilio import sign

PUBLIC = "http://testserver.local"
PHONE = "+46701234567"


class RecordingHandler:
    def __init__(self) -> None:
        self.inbound: list[InboundSms] = []
        self.problems: list[DeliveryProblem] = []
        self.opt_outs: list[str] = []

    async def handle_inbound(self, session: AsyncSession, sms: InboundSms) -> None:
        self.inbound.append(sms)

    async def handle_delivery_problem(self, session: AsyncSession, problem: DeliveryProblem) -> None:
        self.problems.append(problem)

    async def handle_opt_out(self, session: AsyncSession, phone_index: str, at: datetime) -> None:
        self.opt_outs.append(phone_index)

    async def keyword_reply(
        self, session: AsyncSession, phone_index: str, keyword: str, wrote_in: str | None
    ) -> None:
        return None  # notifications' own Swedish/English confirmation


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def app(settings: Settings, handler: RecordingHandler) -> Litestar:
    return create_app(settings, Collaborators(inbound_handler=handler))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url=PUBLIC) as test_client:
        yield test_client


def inbound_params(
    body: str, *, sid: str | None = None, from_: str = PHONE, **extra: str
) -> list[tuple[str, str]]:
    sid = sid or "SM" + secrets.token_hex(16)
    params = [
        ("AccountSid", "AC" + "0" * 32),
        ("ApiVersion", "2010-04-01"),
        ("Body", body),
        ("From", from_),
        ("MessageSid", sid),
        ("NumMedia", "0"),
        ("SmsMessageSid", sid),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("To", "+46700000000"),
    ]
    return params + list(extra.items())


async def post_signed(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    path: str,
    params: list[tuple[str, str]],
    *,
    sign_url: str | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    url = sign_url or PUBLIC + path
    sig = signature if signature is not None else sign(settings.twilio_auth_token, url, params)
    return await client.post(
        path,
        content=urllib.parse.urlencode(params).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sig,
            **(headers or {}),
        },
    )


async def count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


# ------------------------------------------------------------------ authentication
@pytest.mark.parametrize(
    "forgery",
    ["unsigned", "wrong_token", "wrong_url", "wrong_scheme", "tampered_body", "internal_url"],
)
async def test_forged_inbound_is_403_and_nothing_is_stored(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, forgery: str
) -> None:
    path = "/webhooks/twilio/sms"
    params = inbound_params("4")
    kwargs: dict[str, Any] = {}
    if forgery == "unsigned":
        response = await client.post(path, data=dict(params))
    else:
        if forgery == "wrong_token":
            kwargs["signature"] = sign("not-the-token", PUBLIC + path, params)
        elif forgery == "wrong_url":
            kwargs["sign_url"] = PUBLIC + "/webhooks/twilio/other"
        elif forgery == "wrong_scheme":
            kwargs["sign_url"] = PUBLIC.replace("http:", "https:") + path
        elif forgery == "internal_url":
            kwargs["sign_url"] = "http://127.0.0.1:8000" + path
        elif forgery == "tampered_body":
            kwargs["signature"] = sign(settings.twilio_auth_token, PUBLIC + path, params)
            params = [(k, "STOPP" if k == "Body" else v) for k, v in params]
        response = await post_signed(client, settings, path, params, **kwargs)
    assert response.status_code == 403
    assert await count(db_session, SmsInbound) == 0
    assert await count(db_session, SmsOutbox) == 0


async def test_forged_status_callback_changes_nothing(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    params = [("MessageSid", "SM" + "a" * 32), ("MessageStatus", "delivered")]
    response = await post_signed(
        client, settings, "/webhooks/twilio/status?o=" + str(uuid.uuid4()), params, signature="x"
    )
    assert response.status_code == 403
    assert await count(db_session, SmsStatusEvent) == 0


async def test_query_string_is_part_of_the_signature(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    params = [("MessageSid", "SM" + "a" * 32), ("MessageStatus", "delivered")]
    signed_for = PUBLIC + f"/webhooks/twilio/status?o={uuid.uuid4()}"
    response = await post_signed(
        client, settings, f"/webhooks/twilio/status?o={uuid.uuid4()}", params, sign_url=signed_for
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"Body": "4"}', "application/json", 415),
        (b"Body=%FF%FE", "application/x-www-form-urlencoded", 400),
        (b"Body=" + b"a" * 70_000, "application/x-www-form-urlencoded", 413),
    ],
)
async def test_malformed_bodies_are_4xx_not_500(
    client: AsyncTestClient[Litestar], content: bytes, content_type: str, status: int
) -> None:
    response = await client.post(
        "/webhooks/twilio/sms",
        content=content,
        headers={"Content-Type": content_type, "X-Twilio-Signature": "x"},
    )
    assert response.status_code == status


async def test_signed_but_incomplete_inbound_is_400(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    response = await post_signed(client, settings, "/webhooks/twilio/sms", [("Body", "4"), ("From", PHONE)])
    assert response.status_code == 400
    assert await count(db_session, SmsInbound) == 0


# ------------------------------------------------------------------ inbound
async def test_valid_inbound_is_stored_encrypted_and_handed_on(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, handler: RecordingHandler
) -> None:
    response = await post_signed(
        client, settings, "/webhooks/twilio/sms", inbound_params("Det gick bra, tack")
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith("<Response/>")
    row = await db_session.scalar(sa.select(SmsInbound))
    assert row is not None
    vault = PhoneVault.from_settings(settings)
    assert PHONE not in str(row.from_encrypted) and vault.decrypt(row.from_encrypted) == PHONE
    assert vault.decrypt(row.body_encrypted) == "Det gick bra, tack"
    assert row.from_index == vault.blind_index(PHONE)
    [sms] = handler.inbound
    assert sms.body == "Det gick bra, tack" and sms.from_index == row.from_index


async def test_same_inbound_three_times_is_stored_once(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, handler: RecordingHandler
) -> None:
    params = inbound_params("3")
    for _ in range(3):
        response = await post_signed(client, settings, "/webhooks/twilio/sms", params)
        assert response.status_code == 200
    assert await count(db_session, SmsInbound) == 1
    assert len(handler.inbound) == 1


async def test_concurrent_duplicates_store_one_row(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, handler: RecordingHandler
) -> None:
    params = inbound_params("STOPP")
    responses = await asyncio.gather(
        *(post_signed(client, settings, "/webhooks/twilio/sms", params) for _ in range(5))
    )
    assert [r.status_code for r in responses] == [200] * 5
    assert await count(db_session, SmsInbound) == 1
    assert await count(db_session, SmsOptOutEvent) == 1
    assert await count(db_session, SmsOutbox) == 1  # exactly one confirmation


# ------------------------------------------------------------------ opt-out keywords
@pytest.mark.parametrize("body", ["STOPP", "stopp", " Stop ", "AVSLUTA", "sluta"])
async def test_stop_keywords_opt_out_with_one_confirmation(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    db_session: AsyncSession,
    handler: RecordingHandler,
    body: str,
) -> None:
    response = await post_signed(client, settings, "/webhooks/twilio/sms", inbound_params(body))
    assert response.status_code == 200
    index = PhoneVault.from_settings(settings).blind_index(PHONE)
    events = (await db_session.scalars(sa.select(SmsOptOutEvent))).all()
    assert [e.phone_index for e in events] == [index]
    assert handler.opt_outs == [index] and handler.inbound == []
    [confirmation] = (await db_session.scalars(sa.select(SmsOutbox))).all()
    assert confirmation.body.startswith("Du får inga fler sms")
    assert confirmation.body.index("You will not get") > confirmation.body.index("Du får")  # English second
    assert confirmation.ignore_opt_out and confirmation.status == "queued"


async def test_twilio_opt_out_type_counts_even_for_other_words(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    params = inbound_params("UNSUBSCRIBE", OptOutType="STOP")
    assert (await post_signed(client, settings, "/webhooks/twilio/sms", params)).status_code == 200
    assert await count(db_session, SmsOptOutEvent) == 1


async def test_start_opts_back_in_and_nothing_else_does(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, handler: RecordingHandler
) -> None:
    from notifications import optout

    index = PhoneVault.from_settings(settings).blind_index(PHONE)
    await post_signed(client, settings, "/webhooks/twilio/sms", inbound_params("STOPP"))
    await post_signed(client, settings, "/webhooks/twilio/sms", inbound_params("Hej, jag vill svara ändå"))
    db_session.expire_all()
    assert await optout.is_opted_out(db_session, index)
    assert len(handler.inbound) == 1  # the text is stored and handed on, but does not re-subscribe
    await post_signed(client, settings, "/webhooks/twilio/sms", inbound_params("START"))
    db_session.expire_all()
    assert not await optout.is_opted_out(db_session, index)
    bodies = (await db_session.scalars(sa.select(SmsOutbox.body))).all()
    assert sum(b.startswith("Du får sms från oss igen") for b in bodies) == 1


async def test_help_gets_help_text(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, handler: RecordingHandler
) -> None:
    for word in ("HJÄLP", "help"):
        await post_signed(client, settings, "/webhooks/twilio/sms", inbound_params(word))
    bodies = (await db_session.scalars(sa.select(SmsOutbox.body))).all()
    assert len(bodies) == 2 and all("STOPP" in b for b in bodies)
    assert handler.inbound == [] and await count(db_session, SmsOptOutEvent) == 0


# ------------------------------------------------------------------ status callbacks
async def make_outbox_row(session: AsyncSession, settings: Settings, **values: Any) -> SmsOutbox:
    from notifications import outbox

    row_id = await outbox.enqueue(
        session,
        idempotency_key=f"test:{uuid.uuid4()}",
        to_e164=PHONE,
        body="Hur går det? Svara 1-5.",
        kind="survey",
        now=datetime.now(UTC),
        owner_ref="conversation:test",
        settings=settings,
    )
    row = await session.get(SmsOutbox, row_id)
    assert row is not None
    for name, value in values.items():
        setattr(row, name, value)
    await session.commit()
    return row


async def post_status(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    outbox_id: Any,
    sid: str,
    status: str,
    code: int | None = None,
) -> Any:
    params = [
        ("AccountSid", "AC" + "0" * 32),
        ("MessageSid", sid),
        ("MessageStatus", status),
        ("SmsSid", sid),
    ]
    if code is not None:
        params.append(("ErrorCode", str(code)))
    return await post_signed(client, settings, f"/webhooks/twilio/status?o={outbox_id}", params)


async def test_status_duplicated_and_out_of_order_ends_delivered(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    sid = "SM" + secrets.token_hex(16)
    row = await make_outbox_row(
        db_session, settings, status="sent", provider_sid=sid, provider_status="queued"
    )
    for status in ("delivered", "sent", "delivered", "queued", "sent"):
        response = await post_status(client, settings, row.id, sid, status)
        assert response.status_code == 204
    row_id = row.id
    db_session.expire_all()
    row = await db_session.get(SmsOutbox, row_id)
    assert row.provider_status == "delivered" and row.status == "delivered"
    events = (await db_session.scalars(sa.select(SmsStatusEvent.status))).all()
    assert sorted(events) == ["delivered", "queued", "sent"]


async def test_callback_heals_an_unknown_outcome_and_learns_the_sid(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    row = await make_outbox_row(db_session, settings, status="unknown")
    sid = "SM" + secrets.token_hex(16)
    assert (await post_status(client, settings, row.id, sid, "sent")).status_code == 204
    row_id = row.id
    db_session.expire_all()
    row = await db_session.get(SmsOutbox, row_id)
    assert row.provider_sid == sid and row.status == "sent"


@pytest.mark.parametrize("code", [30003, 30005, 30006])
async def test_unreachable_codes_notify_the_owner(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    db_session: AsyncSession,
    handler: RecordingHandler,
    code: int,
) -> None:
    sid = "SM" + secrets.token_hex(16)
    row = await make_outbox_row(db_session, settings, status="sent", provider_sid=sid)
    await post_status(client, settings, row.id, sid, "sent")
    await post_status(client, settings, row.id, sid, "undelivered", code)
    await post_status(client, settings, row.id, sid, "undelivered", code)  # repeat: no second problem
    row_id = row.id
    db_session.expire_all()
    row = await db_session.get(SmsOutbox, row_id)
    assert row.status == "undelivered" and row.last_error_code == code and row.last_error_reason
    [problem] = handler.problems
    assert problem.kind == "unreachable" and problem.owner_ref == "conversation:test"
    assert problem.error_code == code and problem.reason_sv


async def test_21610_in_a_callback_opts_out(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, handler: RecordingHandler
) -> None:
    sid = "SM" + secrets.token_hex(16)
    row = await make_outbox_row(db_session, settings, status="sent", provider_sid=sid)
    await post_status(client, settings, row.id, sid, "failed", 21610)
    index = PhoneVault.from_settings(settings).blind_index(PHONE)
    assert [e.phone_index for e in (await db_session.scalars(sa.select(SmsOptOutEvent))).all()] == [index]
    assert handler.opt_outs == [index]


async def test_status_with_bad_values_is_400(client: AsyncTestClient[Litestar], settings: Settings) -> None:
    sid = "SM" + "b" * 32
    bad_status = [("MessageSid", sid), ("MessageStatus", "exploded")]
    assert (await post_signed(client, settings, "/webhooks/twilio/status?o=x", bad_status)).status_code == 400
    bad_code = [("MessageSid", sid), ("MessageStatus", "failed"), ("ErrorCode", "abc")]
    path = f"/webhooks/twilio/status?o={uuid.uuid4()}"
    assert (await post_signed(client, settings, path, bad_code)).status_code == 400
