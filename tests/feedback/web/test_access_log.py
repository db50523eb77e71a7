"""The access log of a running server never shows an invitation token, a secret or a session id.

Why a live ``feedback serve`` process: the leak this guards against came from start-up order
(the web framework replaced the scrubbing log handler after the CLI had installed it), which no
in-process test client exercises. The log is read exactly as an operator would see it.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tests.e2e.support import BASE_ENV, ROOT, start_live_server


def _migrated_database(path: Path) -> Path:
    env = {**os.environ, **BASE_ENV, "FEEDBACK_DATABASE_URL": f"sqlite+aiosqlite:///{path}"}
    subprocess.run(
        [sys.executable, "-m", "feedback", "migrate"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return path


def _get(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_access_log_of_a_running_server_hides_tokens_and_session_ids(tmp_path: Path) -> None:
    template = _migrated_database(tmp_path / "template.db")
    server = start_live_server(tmp_path / "live", template, FEEDBACK_LOG_LEVEL="INFO")
    invitation_token = secrets.token_urlsafe(24)
    query_token = secrets.token_urlsafe(18)
    session_id = secrets.token_urlsafe(24)
    try:
        assert _get(server.url(f"/invitation/{invitation_token}")) < 500
        assert _get(server.url(f"/login?token={query_token}&next=/")) < 500
        assert _get(server.url("/"), headers={"Cookie": f"session={session_id}"}) < 500
    finally:
        server.stop()
    log = server.log_text()
    # The requests were logged (so the check below is about scrubbing, not about silence) ...
    assert "/invitation/***" in log, log[-2000:]
    assert "/login?token=***" in log, log[-2000:]
    # ... and none of the secrets appears in any line.
    for secret in (invitation_token, query_token, session_id):
        assert secret not in log
