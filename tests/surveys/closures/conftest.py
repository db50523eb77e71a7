"""Fixtures shared by the closure tests."""

from tests.surveys.world import world  # noqa: F401
