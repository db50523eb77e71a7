"""Fixtures shared by the survey-flow tests."""

from tests.surveys.world import world  # noqa: F401
