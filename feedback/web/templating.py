"""Jinja environment: filters shared by every page (Stockholm time, masking)."""

from __future__ import annotations

from datetime import datetime

from litestar.plugins.jinja import JinjaTemplateEngine

from feedback.core.clock import STOCKHOLM
from feedback.core.logs import mask_phone
from feedback.web.security_headers import csp_nonce


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Times are stored in UTC and shown in Europe/Stockholm."""
    if value is None:
        return ""
    return value.astimezone(STOCKHOLM).strftime(fmt)


def configure_environment(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["local_time"] = local_time
    engine.engine.filters["mask_phone"] = mask_phone
    engine.engine.globals["csp_nonce"] = csp_nonce  # the print views' one <style> block
    engine.engine.autoescape = True
