"""``feedback texts export``: every key Swedish has, in every other language, with status and cost."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from feedback.cli.texts import texts
from feedback.core.settings import Settings

ARABIC = re.compile("[\u0600-\u06ff]")


def _export(settings: Settings, *args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(texts, ["export", *args], obj=settings)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_every_language_lists_every_swedish_key_with_a_text(settings: Settings) -> None:
    rows = _export(settings)
    assert all(set(r) == {"key", "language", "text", "status", "segments", "encoding"} for r in rows)
    sv_keys = [r["key"] for r in rows if r["language"] == "sv"]
    assert len(sv_keys) > 50 and "default_followup.intro" in sv_keys and "signal.opt_out_confirm" in sv_keys
    for language in ("sv-easy", "en", "ar", "so"):
        mine = {r["key"]: r for r in rows if r["language"] == language}
        assert list(mine) == sv_keys, language
        assert all(isinstance(r["text"], str) and r["text"] for r in mine.values()), language
        assert all(r["status"] in {"utkast", "granskad"} for r in mine.values())
    by = {(r["language"], r["key"]): r for r in rows}
    # Arabic is written in Arabic, costs UCS-2; the drafts are marked as drafts
    intro_ar = by[("ar", "default_followup.intro")]
    assert ARABIC.search(str(intro_ar["text"])) and intro_ar["encoding"] == "UCS-2"
    assert intro_ar["status"] == "utkast" and by[("so", "default_followup.intro")]["status"] == "utkast"
    assert by[("sv-easy", "default_followup.intro")]["status"] == "utkast"
    assert by[("sv", "default_followup.intro")]["status"] == "granskad"
    assert by[("so", "default_followup.intro")]["encoding"] == "GSM-7"
    # segments are counted the way carriers do: UCS-2 70 single / 67 per part
    text = str(intro_ar["text"])
    assert intro_ar["segments"] == (1 if len(text) <= 70 else -(-len(text) // 67))


def test_one_language_and_an_unknown_one(settings: Settings) -> None:
    rows = _export(settings, "--language", "so")
    assert rows and {r["language"] for r in rows} == {"so"}
    result = CliRunner().invoke(texts, ["export", "--language", "xx"], obj=settings)
    assert result.exit_code != 0 and "Okänt språk" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("language", ["en", "ar", "so"])  # lätt svenska may keep a plain sentence
def test_no_shipped_text_is_an_untranslated_copy_of_the_swedish(settings: Settings, language: str) -> None:
    sv = {r["key"]: r["text"] for r in _export(settings, "--language", "sv")}
    mine = {r["key"]: r["text"] for r in _export(settings, "--language", language)}
    copies = [k for k, text in mine.items() if text == sv[k] and len(str(text)) > 20]
    assert copies == []
