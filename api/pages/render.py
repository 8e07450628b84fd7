"""Rendering a page: one Jinja2 environment (autoescaped), the layout's shared values, and the filters
that show instants and statuses the same way on every page."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.pages.viewer import Viewer, csrf_token, set_csrf_cookie

HERE = Path(__file__).resolve().parent
_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
STATUS_WORDS = {1.0: "specific", 0.5: "generic", 0.0: "empty"}


def when(value: datetime | None, zone: str | None = None) -> str:
    """An instant in the reader's own zone, with the zone named, so nobody has to guess."""
    if value is None:
        return "-"
    try:
        tz = ZoneInfo(zone) if zone else None
    except (KeyError, ValueError):
        tz = None
    local = value.astimezone(tz) if tz else value
    return local.strftime("%a %d %b %Y %H:%M ") + (local.tzname() or "UTC")


def status_word(status: float) -> str:
    return STATUS_WORDS.get(status, "generic")


_env.filters["when"] = when
_env.filters["status_word"] = status_word


def render(
    request: Request, template: str, context: dict[str, Any], viewer: Viewer | None = None, status_code: int = 200
) -> HTMLResponse:
    page = _env.get_template(template).render(
        {**context, "viewer": viewer, "csrf": csrf_token(request), "zone": viewer.person.timezone if viewer else None}
    )
    response = HTMLResponse(page, status_code=status_code)
    # Pages show a person's deals: never kept by a shared cache or the browser's back-forward store.
    response.headers["Cache-Control"] = "no-store"
    set_csrf_cookie(request, response)
    return response


def render_fragment(template: str, context: dict[str, Any]) -> str:
    return _env.get_template(template).render(context)
