"""Process start-up: how long until the app is imported, serving, and the CLI answers.

Every e2e server, worker process, spawn pool and CLI call pays the start-up, so it is measured
on its own (issue 19). Each figure is the median of ``--repeat`` fresh processes, next to the
same-run baseline ``python -c "import litestar"`` (the framework alone), so a busy machine shows
as a slow baseline rather than as a regression. CPU seconds (user + system of the child) are
printed as well: they change much less with load than the wall clock.

Figure lines (contract): ``import_litestar_s`` (baseline), ``import_app_s``
(``import feedback.web.app``), ``serve_ready_s`` (``feedback serve`` started → ``/health`` 200,
SQLite), ``cli_help_s`` (``feedback --help``), each with ``…_cpu_s`` and ``…_vs_litestar_ratio``,
plus ``loadavg_1m`` before and after. Targets on a quiet 2-core machine: ``import_app_s`` ≤ 1.5 s,
``serve_ready_s`` ≤ 5 s.

    .venv/bin/python -m benchmarks.startup [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY_DEADLINE_S = 300.0


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _loadavg() -> float:
    return os.getloadavg()[0]


def _timed(run: Callable[[], None]) -> tuple[float, float]:
    cpu, wall = _children_cpu_s(), time.perf_counter()
    run()
    return time.perf_counter() - wall, _children_cpu_s() - cpu


def _python(code: str, env: dict[str, str]) -> Callable[[], None]:
    def run() -> None:
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)

    return run


def _cli_help(env: dict[str, str]) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(
            [sys.executable, "-m", "feedback", "--help"], cwd=ROOT, env=env, check=True, capture_output=True
        )

    return run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _serve_ready(env: dict[str, str]) -> Callable[[], None]:
    def run() -> None:
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "feedback", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + READY_DEADLINE_S
            while not _healthy(f"http://127.0.0.1:{port}/health"):
                if process.poll() is not None:
                    raise RuntimeError(f"feedback serve exited with {process.returncode}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"feedback serve not healthy after {READY_DEADLINE_S} s")
                time.sleep(0.02)
        finally:
            process.terminate()
            process.wait(timeout=30)

    return run


def _measure(name: str, run: Callable[[], None], repeat: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = _timed(run)
        walls.append(wall)
        cpus.append(cpu)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"{name}_s {wall:.2f}")
    print(f"{name}_cpu_s {cpu:.2f}")
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"loadavg_1m_before {_loadavg():.2f}")
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        env = {
            **os.environ,
            "FEEDBACK_ENV": "development",
            "FEEDBACK_DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            "FEEDBACK_MODEL_DIR": str(Path(tmp) / "models"),
            "FEEDBACK_SMS_GATEWAY": "console",
            "FEEDBACK_LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "-m", "feedback", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        base_wall, base_cpu = _measure("import_litestar", _python("import litestar", env), args.repeat)
        figures = {
            "import_app": _measure("import_app", _python("import feedback.web.app", env), args.repeat),
            "serve_ready": _measure("serve_ready", _serve_ready(env), args.repeat),
            "cli_help": _measure("cli_help", _cli_help(env), args.repeat),
        }
    for name, (wall, cpu) in figures.items():
        print(f"{name}_vs_litestar_ratio {wall / base_wall:.2f}")
        print(f"{name}_cpu_vs_litestar_ratio {cpu / base_cpu:.2f}")
    print(f"loadavg_1m_after {_loadavg():.2f}")


if __name__ == "__main__":
    main()
