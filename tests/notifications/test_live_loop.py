"""The ``make run`` loop without a browser: ``feedback serve --with-worker`` in fake SMS mode.

An outbox row goes out through the real twilio client to the bundled fake (in the app process),
the fake pushes signed status callbacks back to the app's webhook (the row ends ``delivered``),
and a reply posted through the fake's inbound poster (what the dev phone page uses) arrives via
the signed webhook, is stored once and is handed to the survey layer's handler.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from feedback.core import migrate
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.devtools import clock as devclock
from notifications import outbox
from notifications.models import SmsInbound, SmsOutbox, SmsStatusEvent
from notifications.phone import PhoneVault
from tests.e2e.support import free_port

ROOT = Path(__file__).resolve().parents[2]
NUMBER = "+46701239876"


def wait_for(check: Callable[[], Any], what: str, timeout_s: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


def db(url: str, fn: Callable[[Any], Any]) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                result = await fn(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_outbox_to_fake_callbacks_back_and_reply_through_signed_webhook(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
    migrate.upgrade(url)
    settings = Settings(environment="development", database_url=url)
    vault = PhoneVault.from_settings(settings)
    # The app's clock: the next working day at 10:00 Stockholm, so the send window is open.
    real = datetime.now(UTC)
    offset = devclock.next_weekday_at(real) - real

    async def prepare(session: Any) -> Any:
        await devclock.save_offset(session, offset)
        return await outbox.enqueue(
            session,
            idempotency_key="live:1",
            to_e164=NUMBER,
            body="Hej! Hur nöjd är du med stödet? Svara 1-5.",
            vault=vault,
            now=real + offset,
        )

    message_id = db(url, prepare)
    app_port, fake_port = free_port(), free_port()
    env = {
        **os.environ,
        "FEEDBACK_ENV": "development",
        "FEEDBACK_DEV_TOOLS": "1",
        "FEEDBACK_DATABASE_URL": url,
        "FEEDBACK_SMS_GATEWAY": "fake",
        "FEEDBACK_FAKE_TWILIO_PORT": str(fake_port),
        "FEEDBACK_PUBLIC_URL": f"http://127.0.0.1:{app_port}",
        "FEEDBACK_MODEL_DIR": str(tmp_path / "models"),
        "FEEDBACK_LOG_LEVEL": "WARNING",
    }
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "FEEDBACK_TWILIO_API_BASE_URL"):
        env.pop(name, None)
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "feedback", "serve", "--port", str(app_port), "--with-worker"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    fake = f"http://127.0.0.1:{fake_port}"
    try:

        def row() -> SmsOutbox:
            return db(url, lambda s: s.get(SmsOutbox, message_id))

        def delivered() -> bool:
            assert server.poll() is None, log_path.read_text()[-3000:]
            return row().status == "delivered"

        wait_for(delivered, "the outbox row to be sent and the fake's callbacks to mark it delivered", 60)
        sent = row()
        with opener.open(f"{fake}/_fake/messages?{urllib.parse.urlencode({'number': NUMBER})}") as response:
            outgoing = [m for m in json.loads(response.read())["messages"] if m["direction"] == "out"]
        assert [(m["sid"], m["body"]) for m in outgoing] == [(sent.provider_sid, sent.body)]

        async def events(session: Any) -> list[str]:
            query = sa.select(SmsStatusEvent.status).where(SmsStatusEvent.outbox_id == message_id)
            return list(await session.scalars(query))

        assert sorted(db(url, events)) == ["delivered", "sent"]

        # A reply typed on the dev phone page: the fake signs it and posts it to the webhook.
        data = urllib.parse.urlencode({"From": NUMBER, "Body": "4"}).encode()
        request = urllib.request.Request(f"{fake}/_fake/inbound", data=data, method="POST")
        with opener.open(request, timeout=20) as response:
            assert json.loads(response.read())["app_status"] == 200

        async def replies(session: Any) -> list[SmsInbound]:
            return list(await session.scalars(sa.select(SmsInbound)))

        [reply] = db(url, replies)
        assert reply.from_index == vault.blind_index(NUMBER)
        # handed on to surveys.conversations.service.SurveyInboundHandler, which owns every message:
        # a number no client has goes to the admins' inbox
        assert reply.outcome == "inbox"
        assert vault.decrypt(reply.body_encrypted) == "4"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
