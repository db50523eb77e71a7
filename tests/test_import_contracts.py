"""The import contracts bite: one forbidden import in a copy of the tree makes ``lint-imports`` fail.

Why a test of the linter's configuration: a contract that forbids too little (indirect imports
allowed, a package without ``__init__.py`` that the linter cannot see) stays green while the
layering rots. Each case adds one import to a copy of the tree and names the contract that must
break; the untouched copy must pass, so a failure is the added import's doing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("feedback", "surveys", "notifications", "nlp")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

LAYERS = "layers: cli > demo > web"
LITESTAR = "litestar only in the web layer and the Twilio webhook"
WEBHOOK = "nothing below the web layer imports the Twilio webhook controller"
NLP = "nlp is a pure library"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "data"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def _lint(root: Path) -> tuple[int, str]:
    # the copy shadows the installed project; a wide terminal keeps each contract on one line
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "1000"}
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def _broken(output: str) -> set[str]:
    """Names of the contracts the summary lists as broken (one line each: ``<name> BROKEN …``)."""
    return {
        name
        for name in (LAYERS, LITESTAR, WEBHOOK, NLP)
        for line in output.splitlines()
        if line.startswith(name) and " BROKEN" in line[len(name) :]
    }


def test_the_untouched_tree_keeps_every_contract(tree: Path) -> None:
    code, output = _lint(tree)
    assert code == 0, output


CASES = [
    # a service below the web layer importing Litestar directly
    ("surveys/answers/service.py", "import litestar", {LITESTAR}),
    # …or reaching it indirectly through a module above it (the CLI starts the web app)
    ("surveys/answers/service.py", "import feedback.cli.main", {LITESTAR, LAYERS}),
    # the kernel reaching up into a feature package
    ("feedback/core/clock.py", "import surveys.closures.models", {LAYERS}),
    # siblings in one layer stay independent
    ("feedback/panel/service.py", "import feedback.themes.decisions", {LAYERS}),
    # the Twilio webhook controller is the web layer's entry point, not a library
    ("notifications/outbox.py", "import notifications.webhooks", {WEBHOOK}),
    # nlp stays free of the database and the app
    ("nlp/text.py", "import sqlalchemy", {NLP}),
]


@pytest.mark.parametrize(("path", "line", "expected"), CASES, ids=[c[1] + " in " + c[0] for c in CASES])
def test_one_forbidden_import_breaks_its_contract(
    tree: Path, path: str, line: str, expected: set[str]
) -> None:
    target = tree / path
    original = target.read_text()
    target.write_text(original + f"\n{line}  # added by the contract test\n")
    try:
        code, output = _lint(tree)
    finally:
        target.write_text(original)
    assert code != 0, output
    assert expected <= _broken(output), output
