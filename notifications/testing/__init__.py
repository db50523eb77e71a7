"""Test and demo helpers that play external services locally (never the internet)."""
