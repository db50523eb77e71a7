"""Twilio message statuses in order, so late or repeated callbacks never move a message backwards.

Callbacks travel over HTTP: they arrive late, twice, or out of order (``delivered`` before
``sent``). A status is applied only when its rank is higher than the stored one. The terminal
statuses share the top rank, so a late ``sent`` cannot undo ``delivered``, and
``undelivered``/``failed`` cannot be overwritten by anything but ``read``.
"""

from __future__ import annotations

RANK: dict[str, int] = {
    "scheduled": 0,
    "accepted": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 9,
    "undelivered": 9,
    "failed": 9,
    "canceled": 9,
    "read": 10,
}
TERMINAL = frozenset({"delivered", "undelivered", "failed", "canceled", "read"})
FAILED = frozenset({"undelivered", "failed"})


def is_known(status: str) -> bool:
    return status in RANK


def moves_forward(current: str | None, new: str) -> bool:
    """True when ``new`` may replace ``current`` (unknown current statuses never block)."""
    if new not in RANK:
        return False
    if current is None or current not in RANK:
        return True
    return RANK[new] > RANK[current]
