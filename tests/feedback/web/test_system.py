from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient

from feedback.web.app import create_app
from tests.conftest import make_settings


async def test_health_ok(client: AsyncTestClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_503_when_database_is_down(tmp_path: Path) -> None:
    settings = make_settings("postgresql+asyncpg://nobody@127.0.0.1:1/nothing", tmp_path)
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


async def test_openapi_schema_is_served(client: AsyncTestClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Uppföljning API"


async def test_metrics_exposed_to_loopback(client: AsyncTestClient) -> None:
    await client.get("/health")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "uppfoljning_requests_total" in response.text


async def test_unknown_api_path_is_problem_json(client: AsyncTestClient) -> None:
    response = await client.get("/api/does-not-exist")
    assert response.status_code in (401, 404)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_static_assets_are_local(client: AsyncTestClient) -> None:
    response = await client.get("/static/app.css")
    assert response.status_code == 200
    assert "skip-link" in response.text
