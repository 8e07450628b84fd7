"""The FastAPI application: CRM webhooks, the generic event endpoint and the handoff API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.trace import Tracer
from temporalio.client import Client

from api import errors, limits, metrics, pages, session, tracing
from api.routes import (
    codec,
    events,
    handoff_messages,
    handoffs,
    health,
    reports,
    webhooks_hubspot,
    webhooks_pipedrive,
    webhooks_salesforce,
)  # fmt: skip
from api.settings import ApiSettings, get_settings
from infra.log_format import configure_logging_from_settings, redact_logged_urls
from infra.policy_file import read_policy
from infra.temporal_client import connect
from infra.tracing import flush_traces, tracer_from_settings, tracing_interceptors
from store.engine import make_engine

DESCRIPTION = """Baton's ingestion and handoff API.

Webhooks authenticate by each CRM's own scheme; every other endpoint takes a bearer API key whose
roles (`crm`, `ae`, `cs_lead`, `operator`) are configured as hashes in `BATON_API_KEYS`. Each
endpoint's description names the roles it accepts. Health checks are unauthenticated."""


SERVICE_NAME = "baton-api"


def create_app(
    settings: ApiSettings | None = None, client: Client | None = None, tracer: Tracer | None = None
) -> FastAPI:
    """`settings` default to the environment's (api.settings), read here, when the app is made;
    `tracer` to the settings' (none unless an OTLP endpoint is set); a `client` passed in brings its own
    interceptors."""
    settings = settings or get_settings()
    tracer = tracer if tracer is not None else tracer_from_settings(settings, SERVICE_NAME)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        # Lazy: the API starts (and /readyz says why it is not ready) while Temporal is still down.
        app.state.client = client or await connect(settings.codec, lazy=True, interceptors=tracing_interceptors(tracer))
        app.state.policy = read_policy(settings.policy_file)
        app.state.engine = make_engine(settings.database_url)
        try:
            yield
        finally:
            app.state.engine.dispose()
            flush_traces()

    # /docs and /redoc come from api.pages: Baton serves their scripts itself, so they render offline.
    app = FastAPI(
        title="Baton", version="0.1.0", description=DESCRIPTION, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    errors.install(app)
    limits.install(app, settings.max_body_bytes)  # 413 before a route reads the body
    for module in (
        health,
        webhooks_hubspot,
        webhooks_salesforce,
        webhooks_pipedrive,
        events,
        handoffs,
        handoff_messages,
    ):
        app.include_router(module.router)
    app.include_router(reports.router)
    codec.install(app, settings.ui_origin)  # /codec/encode, /codec/decode and their CORS for the Temporal UI
    app.include_router(session.router)  # browser sign-in, so the UI reaches the codec with a cookie
    pages.install(app)  # the people's pages, their sign-in, /docs; hardening headers on every response
    metrics.install(app)  # /metrics (unauthenticated) and the per-route request metrics
    tracing.install(app, tracer)  # outermost: the request's span covers everything else
    configure_logging_from_settings(settings)  # JSON lines when BATON_LOG_FORMAT=json
    redact_logged_urls()  # ?token= (Salesforce Outbound Messages) never reaches a log
    return app
