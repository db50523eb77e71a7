"""argon2id password hashing (argon2-cffi defaults follow RFC 9106's recommendations)."""

from __future__ import annotations

import functools
import re
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12


@functools.cache
def _dummy_hash() -> str:
    """A hash verified when the account does not exist, so response time does not reveal which
    e-mail addresses have accounts. Made on first use, not at import: one argon2 hash costs
    about a third of a second of CPU, which every process start (CLI, worker, tests) paid."""
    return _hasher.hash("not-a-real-password-used-for-timing")


def prepare() -> None:
    """Make the dummy hash now (the app does this in a thread at start-up, off the event loop),
    so the first login of an unknown address takes as long as any other."""
    _dummy_hash()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


_DECORATION = re.compile(r"[\d\W_]+$")  # "Sommar2024!" is "sommar" with a year and a sign


@cache
def common_passwords() -> frozenset[str]:
    """The blocklist shipped with the package (``common_passwords.txt``), lower case."""
    text = resources.files("feedback.auth").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    lowered = password.lower()
    stems = {lowered, _DECORATION.sub("", lowered), _DECORATION.sub("", lowered[::-1])[::-1]}
    return bool(stems & common_passwords())


def password_problem(password: str) -> str | None:
    """Return a Swedish reason when a new password is too weak, else None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken."
    if password.strip() != password:
        return "Lösenordet får inte börja eller sluta med mellanslag."
    if len(set(password)) < 5:
        return "Lösenordet är för enkelt. Välj ett längre eller mer varierat."
    if is_common(password):
        return "Lösenordet är för vanligt och lätt att gissa. Välj något som inte är ett vanligt ord med siffror."
    return None
