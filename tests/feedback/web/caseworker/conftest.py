"""Fixtures for the caseworker page tests."""

from tests.surveys.world import world  # noqa: F401
