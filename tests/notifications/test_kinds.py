"""Every SMS kind is classified for the fatigue cap; an unclassified kind cannot be sent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notifications import outbox
from notifications.kinds import CONTACT_KINDS, SMS_KINDS, UnknownSmsKind

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_the_code_sends_is_classified() -> None:
    """A literal ``kind="…"`` in any module that queues SMS must be listed in ``SMS_KINDS``."""
    used: dict[str, str] = {}
    for package in ("feedback", "surveys", "notifications"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "enqueue" not in text:
                continue
            for kind in re.findall(r'\bkind="([a-z_]+)"', text):
                used.setdefault(kind, str(path.relative_to(ROOT)))
    assert {"loop", "survey", "crisis_ack"} <= used.keys()  # the scan does see the senders
    unclassified = {kind: where for kind, where in used.items() if kind not in SMS_KINDS}
    assert unclassified == {}, "classify these in notifications.kinds.SMS_KINDS"


def test_contacts_are_the_approaches_not_the_answers() -> None:
    assert CONTACT_KINDS == {"loop", "panel_invitation"}
    assert "survey" not in CONTACT_KINDS  # waves count through their follow-up; reminders never


async def test_an_unclassified_kind_is_refused_before_anything_is_stored() -> None:
    with pytest.raises(UnknownSmsKind, match="SMS_KINDS"):
        await outbox.enqueue(
            None,  # type: ignore[arg-type]  # refused before the session is used
            idempotency_key="k",
            to_e164="+46701234567",
            body="Hej",
            kind="newsletter",
        )
