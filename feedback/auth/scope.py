"""Unit scope for services: a user may act only on the units they belong to.

Why a service-level check besides the route guards: a guard sees only path parameters, while a
service sees the rows it is about to touch (a review's unit, a round's unit). Raises the domain
``Forbidden`` so the web layer answers 403 and the CLI prints the message.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from feedback.auth.identity import CurrentUser
from feedback.core.errors import Forbidden

FORBIDDEN_SV = "Du har inte behörighet till det här."


def ensure_unit_access(user: CurrentUser, unit_ids: uuid.UUID | Iterable[uuid.UUID]) -> None:
    """Raise ``Forbidden`` unless ``user`` may act on every unit in ``unit_ids``."""
    ids = [unit_ids] if isinstance(unit_ids, uuid.UUID) else list(unit_ids)
    if not all(user.can_access_unit(u) for u in ids):
        raise Forbidden(FORBIDDEN_SV)
