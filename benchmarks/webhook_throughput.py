"""Webhook throughput: signed inbound SMS vs a bare Litestar endpoint, same app, same run.

The app runs under uvicorn in a subprocess (``feedback serve``, as in production) with
``FEEDBACK_BENCH_BARE_ENDPOINT=1``, which adds ``POST /bench/bare``: it reads the body and
answers the same empty TwiML, so the ratio isolates what the webhook adds (signature check,
form parsing, encrypting the number and body, the unique insert, commit). The load generator is
a separate process (httpx async) with pre-signed requests, so signing costs nothing at run time.

Phases per database (SQLite file, then PostgreSQL when reachable):
1. bare endpoint, closed loop (``--concurrency`` in flight) for ``--seconds`` → ``bare_req_per_s``
2. webhook, closed loop, same settings → ``webhook_req_per_s``; ratio = 2 / 1
3. webhook, open loop at ``--rate`` req/s (default 200) → ``webhook_p99_ms`` (and p50)

Figure lines: ``name value db=<sqlite|postgresql>``. Targets: ratio ≥ 0.5, p99 < 50 ms at 200 req/s.
Run with ``nice``; ``--scale 0.2`` for a quick smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-auth-token-0123456789abcdef"
ACCOUNT = "AC" + "b" * 32
POSTGRES_URL = os.environ.get(
    "FEEDBACK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


# ---------------------------------------------------------------------------- load generator process
def _signed_inbound(base_url: str, n: int) -> list[tuple[bytes, dict[str, str]]]:
    from notifications.testing.fake_twilio import sign

    url = base_url + "/webhooks/twilio/sms"
    requests = []
    for i in range(n):
        sid = "SM" + secrets.token_hex(16)
        params = [
            ("AccountSid", ACCOUNT),
            ("ApiVersion", "2010-04-01"),
            ("Body", str(1 + i % 5)),
            ("From", f"+4670{1000000 + i % 5000:07d}"),
            ("MessageSid", sid),
            ("NumMedia", "0"),
            ("NumSegments", "1"),
            ("SmsMessageSid", sid),
            ("SmsSid", sid),
            ("SmsStatus", "received"),
            ("To", "+46700000000"),
        ]
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(TOKEN, url, params),
        }
        requests.append((urllib.parse.urlencode(params).encode(), headers))
    return requests


async def _closed_loop(base_url: str, path: str, bodies: list[Any], concurrency: int, seconds: float) -> dict:
    import httpx

    latencies: list[float] = []
    codes: dict[str, int] = {}
    errors = 0
    index = 0
    deadline = time.perf_counter() + seconds

    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30) as client:

        async def worker() -> None:
            nonlocal index, errors
            while time.perf_counter() < deadline and index < len(bodies):
                body, headers = bodies[index]
                index += 1
                started = time.perf_counter()
                try:
                    response = await client.post(path, content=body, headers=headers)
                except httpx.TransportError as exc:  # count it, keep measuring
                    errors += 1
                    codes[type(exc).__name__] = codes.get(type(exc).__name__, 0) + 1
                    continue
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors += 1
                    codes[str(response.status_code)] = codes.get(str(response.status_code), 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"n": len(latencies), "errors": errors, "elapsed": elapsed, "latencies": latencies, "codes": codes}


async def _open_loop(base_url: str, path: str, bodies: list[Any], rate: float, seconds: float) -> dict:
    import httpx

    latencies: list[float] = []
    codes: dict[str, int] = {}
    errors = 0
    total = min(len(bodies), int(rate * seconds))
    async with httpx.AsyncClient(
        base_url=base_url, trust_env=False, timeout=30, limits=httpx.Limits(max_connections=200)
    ) as client:

        async def one(i: int) -> None:
            nonlocal errors
            body, headers = bodies[i]
            started = time.perf_counter()
            try:
                response = await client.post(path, content=body, headers=headers)
            except httpx.TransportError as exc:  # count it, keep measuring
                errors += 1
                codes[type(exc).__name__] = codes.get(type(exc).__name__, 0) + 1
                return
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors += 1
                codes[str(response.status_code)] = codes.get(str(response.status_code), 0) + 1

        tasks = []
        started = time.perf_counter()
        for i in range(total):
            target = started + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return {"n": len(latencies), "errors": errors, "elapsed": elapsed, "latencies": latencies, "codes": codes}


def load_main(args: argparse.Namespace) -> None:
    """Runs in its own process; prints one JSON object."""
    need = int(max(args.rate, 2000) * args.seconds * 2) + 1000
    signed = _signed_inbound(args.base_url, need)
    bare_bodies = signed  # same bytes; the bare endpoint ignores the signature

    async def run() -> dict[str, Any]:
        # warm-up (connection pools, first inserts, JIT-free Python caches)
        await _closed_loop(args.base_url, "/bench/bare", bare_bodies[:50], 4, 2)
        warm = _signed_inbound(args.base_url, 50)
        await _closed_loop(args.base_url, "/webhooks/twilio/sms", warm, 4, 2)
        bare = await _closed_loop(args.base_url, "/bench/bare", bare_bodies, args.concurrency, args.seconds)
        hook = await _closed_loop(
            args.base_url, "/webhooks/twilio/sms", signed[: need // 2], args.concurrency, args.seconds
        )
        steady = await _open_loop(
            args.base_url, "/webhooks/twilio/sms", signed[need // 2 :], args.rate, args.seconds
        )
        return {"bare": bare, "webhook": hook, "steady": steady}

    result = asyncio.run(run())
    print(json.dumps(result))


# ---------------------------------------------------------------------------- orchestration
def _feedback(env: dict[str, str], *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedback", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
        **kwargs,
    )


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the app exited during start-up")
        try:
            with opener.open(base_url + "/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the app did not become healthy")


def _pg_execute(sql: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)

    async def go() -> None:
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(go())


def _postgres_database() -> tuple[str, str] | None:
    from sqlalchemy.engine import make_url

    try:
        _pg_execute("SELECT 1")
    except Exception as exc:
        print(f"# PostgreSQL unreachable ({type(exc).__name__}): skipped", file=sys.stderr)
        return None
    name = f"uppf_bench_{uuid.uuid4().hex[:8]}"
    _pg_execute(f'CREATE DATABASE "{name}"')
    return name, make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def run_for(db: str, database_url: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FEEDBACK_ENV": "development",
        "FEEDBACK_DATABASE_URL": database_url,
        "FEEDBACK_PUBLIC_URL": base_url,
        "FEEDBACK_SMS_GATEWAY": "console",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "FEEDBACK_BENCH_BARE_ENDPOINT": "1",
        "FEEDBACK_LOG_LEVEL": "WARNING",
        "FEEDBACK_MODEL_DIR": str(workdir / "models"),
    }
    _feedback(env, "migrate")
    log_path = workdir / f"server-{db}.log"
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "feedback", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(base_url, server)
        load = subprocess.run(
            [
                sys.executable,
                __file__,
                "--load",
                "--base-url",
                base_url,
                "--seconds",
                str(args.seconds),
                "--rate",
                str(args.rate),
                "--concurrency",
                str(args.concurrency),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if load.returncode != 0:
            raise RuntimeError(f"load generator failed:\n{load.stderr[-3000:]}")
        return json.loads(load.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def report(db: str, result: dict[str, Any], rate: float) -> None:
    bare, hook, steady = result["bare"], result["webhook"], result["steady"]
    bare_rps = bare["n"] / bare["elapsed"]
    hook_rps = hook["n"] / hook["elapsed"]
    steady_ms = [x * 1000 for x in steady["latencies"]]
    print(f"bare_req_per_s {bare_rps:.1f} db={db}")
    print(f"webhook_req_per_s {hook_rps:.1f} db={db}")
    print(f"webhook_vs_bare_ratio {hook_rps / bare_rps:.3f} db={db}")
    print(f"bare_p50_ms {percentile([x * 1000 for x in bare['latencies']], 50):.2f} db={db}")
    print(f"webhook_p50_ms {statistics.median(steady_ms):.2f} db={db} rate={rate:g}")
    print(f"webhook_p99_ms {percentile(steady_ms, 99):.2f} db={db} rate={rate:g}")
    achieved = steady["n"] / steady["elapsed"]
    print(f"webhook_offered_rate_achieved {achieved:.1f} db={db}")
    errors = bare["errors"] + hook["errors"] + steady["errors"]
    codes = {
        phase: result[phase].get("codes")
        for phase in ("bare", "webhook", "steady")
        if result[phase].get("codes")
    }
    print(f"errors {errors} db={db}" + (f" by_status={json.dumps(codes)}" if codes else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the phase durations")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        load_main(args)
        return
    args.seconds = max(1.0, args.seconds * args.scale)
    with tempfile.TemporaryDirectory(prefix="uppf-bench-") as tmp:
        workdir = Path(tmp)
        if args.db in ("sqlite", "both"):
            url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
            report("sqlite", run_for("sqlite", url, args, workdir), args.rate)
        if args.db in ("postgresql", "both"):
            created = _postgres_database()
            if created is None:
                return
            name, url = created
            try:
                report("postgresql", run_for("postgresql", url, args, workdir), args.rate)
            finally:
                _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
