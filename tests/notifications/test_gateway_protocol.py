"""mypy catches a gateway that drifts from the ``SmsGateway`` port.

The dispatcher once called ``find_sent(..., body=...)`` while the port and the demo gateway did not
take ``body``; nothing failed until the reconciler ran. Every gateway now states its conformance
(``def _conforms(gateway: X) -> SmsGateway``) and ``make lint`` runs mypy. This test runs mypy on a small
module holding the test doubles and one gateway that lacks ``body``, and expects exactly that one
error. SQLAlchemy and Twilio are not followed, so a cold run (cache in tmp) takes about a second.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
[mypy]
python_version = 3.11
check_untyped_defs = True
[mypy-sqlalchemy.*,twilio.*,requests.*]
follow_imports = skip
ignore_missing_imports = True
"""

MODULE = """\
from __future__ import annotations

import uuid
from datetime import datetime

from notifications.ports import OutboundSms, SendResult, SmsGateway
from tests.notifications.support import ScriptedGateway, TwilioClientGateway


class DriftedGateway:
    async def send(self, message: OutboundSms) -> SendResult:
        raise NotImplementedError

    async def find_sent(
        self, *, to_e164: str, sent_after: datetime, outbox_id: uuid.UUID
    ) -> SendResult | None:
        return None


def conforms(scripted: ScriptedGateway, client: TwilioClientGateway) -> list[SmsGateway]:
    return [scripted, client]


def drifts(gateway: DriftedGateway) -> SmsGateway:
    return gateway  # the one error
"""


def test_mypy_reports_a_gateway_that_drifts_from_the_port(tmp_path: Path) -> None:
    (tmp_path / "mypy.ini").write_text(CONFIG)
    module = tmp_path / "gateway_drift.py"
    module.write_text(textwrap.dedent(MODULE))
    line = next(n for n, text in enumerate(MODULE.splitlines(), 1) if text.endswith("# the one error"))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(tmp_path / "mypy.ini"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            "--show-error-codes",
            str(module),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    assert run.returncode == 1, run.stdout + run.stderr
    assert len(errors) == 1, run.stdout
    assert errors[0].startswith(f"{module}:{line}: error:"), run.stdout
    assert '(got "DriftedGateway", expected "SmsGateway")' in errors[0]
    # mypy's notes show the expected signature, with the parameter the gateway lacks
    assert "outbox_id: UUID, body: str | None = ..., exclude: Collection[str] = ...)" in run.stdout
