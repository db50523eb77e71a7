"""Migrations: upgrade → check (no drift) → downgrade → upgrade on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback.core import db, migrate

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("feedback", "surveys", "nlp", "notifications")


def _roundtrip(url: str) -> None:
    migrate.upgrade(url)
    migrate.check(url)
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
    migrate.check(url)


def test_roundtrip_sqlite(tmp_path: Path) -> None:
    _roundtrip(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_roundtrip_postgres(postgres_template: str) -> None:
    from tests.conftest import create_pg_database, drop_pg_database

    name, url = create_pg_database()
    try:
        _roundtrip(url)
    finally:
        drop_pg_database(name)


def test_every_models_module_is_listed() -> None:
    found = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for package in PACKAGES
        for path in (ROOT / package).rglob("models.py")
    )
    assert found, "expected at least one models.py"
    missing = set(found) - set(db.MODEL_MODULES)
    assert not missing, f"add these to feedback.core.db.MODEL_MODULES: {sorted(missing)}"


def test_migrations_have_exactly_one_head() -> None:
    """Two heads make ``alembic upgrade head`` fail: every new migration continues the one chain."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"merge these heads (alembic merge heads): {heads}"
