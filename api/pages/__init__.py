"""Server-rendered pages for the people in the handoff: sign-in, the handoff page, the CS leads' queue,
the leaders' scorecard, the customer's onboarding page, and the API's offline documentation."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.pages import (
    customer_page,
    docs_pages,
    handoff_page,
    home_page,
    queue_page,
    score_preview,
    scorecard_page,
    signin,
)  # fmt: skip
from api.pages.errors import PageError, page_error, sign_in_required
from api.pages.headers import SecurityHeaders
from api.pages.link_delivery import DirectLinkSender
from api.pages.rate_limit import SignInLimits
from api.pages.render import HERE
from api.pages.settings import PageSettings
from api.pages.viewer import SignInRequired


def install(app: FastAPI, settings: PageSettings | None = None) -> None:
    """Routes, static files and error pages; the hardening headers wrap every response of the app.
    Tests replace `app.state.link_sender` and `app.state.page_clock` (who receives links, what time it is)."""
    app.state.page_settings = settings or PageSettings()
    app.state.link_sender = DirectLinkSender(app.state.page_settings)
    app.state.sign_in_limits = SignInLimits()
    app.mount("/pages-static", StaticFiles(directory=HERE / "static"), name="pages-static")
    docs_pages.install(app)
    for module in (signin, home_page, handoff_page, score_preview, queue_page, scorecard_page, customer_page):
        app.include_router(module.router)
    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_middleware(SecurityHeaders, trust_proxy=lambda: app.state.page_settings.trust_proxy_headers)
