"""The webhook benchmark's same-app baseline answers like the webhook (not a CSRF 403)."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from feedback.core.settings import Settings
from feedback.web.app import create_app


async def test_bare_endpoint_only_with_the_flag_and_answers_twiml(settings: Settings) -> None:
    form = {"Body": "4", "From": "+46701234567"}
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        assert (await client.post("/bench/bare", data=form)).status_code in (403, 404, 405)
    app = create_app(settings.with_overrides(bench_bare_endpoint=True))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        response = await client.post("/bench/bare", data=form)
    assert response.status_code == 200 and "<Response" in response.text
