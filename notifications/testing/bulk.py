"""Bulk outbox rows for process-level tests and the dispatch benchmark.

Why not ``outbox.enqueue``: it checks opt-out and normalises one number per call, which is right
for the application but makes 100 000 rows take minutes. These rows are what ``enqueue`` would
store (encrypted number, blind index, segment count), inserted in chunks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import encoding
from notifications.models import OutboxStatus, SmsOutbox
from notifications.phone import PhoneVault


def sample_number(i: int) -> str:
    """A Swedish mobile number in E.164 (070-1xx xx xx range)."""
    return f"+4670{1_000_000 + i % 9_000_000:07d}"


def outbox_rows(
    vault: PhoneVault,
    count: int,
    *,
    now: datetime,
    not_before: datetime,
    prefix: str,
    distinct_numbers: int = 500,
    conversation_exempt: bool = False,
) -> Iterator[dict[str, Any]]:
    """``count`` queued rows, each with a unique body ``"{prefix} #{i}"`` (for counting at the fake)."""
    numbers = [sample_number(i) for i in range(min(count, distinct_numbers) or 1)]
    encrypted = [(vault.encrypt(n), vault.blind_index(n)) for n in numbers]
    for i in range(count):
        body = f"Hej! Testmeddelande {prefix} #{i}."
        info = encoding.segment_info(body)
        to_encrypted, to_index = encrypted[i % len(encrypted)]
        yield {
            "id": uuid.uuid4(),
            "idempotency_key": f"{prefix}:{i}",
            "kind": "message",
            "to_encrypted": to_encrypted,
            "to_index": to_index,
            "body": body,
            "segments": info.segments,
            "encoding": info.encoding,
            "status": OutboxStatus.QUEUED,
            "attempts": 0,
            "max_attempts": 5,
            "not_before": not_before,
            "conversation_exempt": conversation_exempt,
            "ignore_opt_out": False,
            "reconcile_checks": 0,
            "created_at": now,
            "updated_at": now,
        }


async def insert_rows(session: AsyncSession, rows: Iterator[dict[str, Any]], chunk: int = 2000) -> int:
    """Insert in chunks (executemany); no commit."""
    total = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            await session.execute(sa.insert(SmsOutbox), batch)
            total += len(batch)
            batch = []
    if batch:
        await session.execute(sa.insert(SmsOutbox), batch)
        total += len(batch)
    return total
