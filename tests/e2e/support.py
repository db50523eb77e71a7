"""End-to-end plumbing: a live uvicorn server on 127.0.0.1 and browser helpers (login, axe-core).

Why a subprocess running the real ``feedback serve`` command: the browser then talks to exactly
what a municipality runs (CLI → settings from the environment → uvicorn → app), and a crash or a
hang in the server cannot take the test process down with it.

Feature tests import the helpers from here (or from ``tests.e2e.conftest``, which re-exports them)::

    from tests.e2e.support import assert_no_axe_violations, login
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
STARTUP_TIMEOUT_S = 60.0

# Settings every live server gets unless a test module overrides them.
BASE_ENV: dict[str, str] = {
    "FEEDBACK_ENV": "development",
    "FEEDBACK_SMS_GATEWAY": "fake",
    "FEEDBACK_DEV_TOOLS": "1",
    "FEEDBACK_WORKER_IN_APP": "0",
    "FEEDBACK_LOG_LEVEL": "WARNING",
    "FEEDBACK_LOG_JSON": "0",
    "FEEDBACK_COOKIE_SECURE": "0",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_demo_database(path: Path) -> str:
    """Migrate a fresh SQLite file and seed the demo data with the real CLI commands.

    Run as subprocesses, not in-process: Playwright's sync API keeps an event loop running in the
    test thread, so ``asyncio.run`` is not available once a browser has started.
    """
    url = f"sqlite+aiosqlite:///{path}"
    env = {
        **os.environ,
        **BASE_ENV,
        "FEEDBACK_DATABASE_URL": url,
        "FEEDBACK_MODEL_DIR": str(path.parent / "models"),
    }
    for command in (["migrate"], ["seed-demo"]):
        result = subprocess.run(
            [sys.executable, "-m", "feedback", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=2400,  # seeding the demo year takes minutes on a busy CI machine
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"feedback {command[0]} failed:\n{result.stdout}\n{result.stderr}")
    return url


@dataclass
class LiveServer:
    """A running ``feedback serve`` process; ``env`` is the exact environment it was started with."""

    base_url: str
    database_url: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _wait_until_healthy(server: LiveServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last_error = ""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"live server exited with {server.process.returncode}:\n{server.log_text()[-4000:]}"
            )
        try:
            with urllib.request.urlopen(server.url("/health"), timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(
        f"live server not healthy after {timeout_s}s ({last_error}):\n{server.log_text()[-4000:]}"
    )


def start_live_server(workdir: Path, template_db: Path, **env: str) -> LiveServer:
    """Copy the demo database into ``workdir`` and start the app on a free port.

    ``env`` adds or overrides FEEDBACK_*/TWILIO_* variables (for example the fake Twilio URL).
    The server's database is the caller's to inspect: ``LiveServer.database_url``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "live.db"
    shutil.copyfile(template_db, db_path)
    database_url = f"sqlite+aiosqlite:///{db_path}"
    port = free_port()
    server_env = {
        **os.environ,
        **BASE_ENV,
        "FEEDBACK_DATABASE_URL": database_url,
        "FEEDBACK_MODEL_DIR": str(workdir / "models"),
        "FEEDBACK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **env,
    }
    log_path = workdir / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "feedback", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=server_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = LiveServer(
        base_url=f"http://127.0.0.1:{port}",
        database_url=database_url,
        env={k: v for k, v in server_env.items() if k.startswith(("FEEDBACK_", "TWILIO_"))},
        log_path=log_path,
        process=process,
    )
    _wait_until_healthy(server, STARTUP_TIMEOUT_S)
    return server


# ---------------------------------------------------------------- browser helpers
def login(page: Any, email: str, password: str, *, base_url: str | None = None) -> None:
    """Sign in through the real login form (as a person would: labels, not CSS selectors)."""
    page.goto((base_url or "") + "/login")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord", exact=True).fill(password)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state("domcontentloaded")


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation['help']} <{violation.get('helpUrl')}>"
        )
        for node in violation.get("nodes", [])[:5]:
            lines.append(
                f"    at {', '.join(map(str, node.get('target', [])))}: {node.get('html', '')[:160]}"
            )
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def axe_violations(page: Any, tags: tuple[str, ...] = WCAG_TAGS) -> list[dict[str, Any]]:
    """Run axe-core (vendored, injected from disk – no CDN) on the current page."""
    if not AXE_JS.exists():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `make e2e-deps` (vendors axe-core from npm)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern (an
        # injected <script> tag would be refused: the app allows no inline script).
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await window.axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        list(tags),
    )
    return list(result["violations"])


def watch_csp_violations(page: Any) -> list[str]:
    """Collect the Content-Security-Policy violations Chromium reports on ``page`` (console)."""
    seen: list[str] = []

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            seen.append(message.text[:300])

    page.on("console", on_console)
    return seen


def assert_no_axe_violations(page: Any, tags: tuple[str, ...] = WCAG_TAGS) -> None:
    """Fail with a readable list when axe-core finds WCAG 2.1 A/AA violations on the page."""
    violations = axe_violations(page, tags)
    if violations:
        import pytest

        pytest.fail(
            f"axe-core found {len(violations)} WCAG violation(s) on {page.url}:\n{format_violations(violations)}",
            pytrace=False,
        )
