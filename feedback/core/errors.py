"""Domain errors: what a use-case raises when it refuses its input.

Services in every layer raise ``DomainError`` subclasses with a Swedish message that is safe to
show; ``feedback.web.errors`` alone maps them to HTTP (the ``status_code`` is a hint it reads).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A use-case refused its input. ``message`` is Swedish and safe to show to the user."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.detail = detail


class InvalidInput(DomainError):
    status_code = 400


class Unauthenticated(DomainError):
    """No valid credentials (an unknown or revoked API key)."""

    status_code = 401


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class Gone(DomainError):
    """Existed once but can no longer be used (a spent or expired invitation link)."""

    status_code = 410
