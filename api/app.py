"""The FastAPI application: CRM webhooks, the generic event endpoint and the handoff API."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.trace import Tracer
from temporalio.client import Client

from api import errors, limits, logging_setup, metrics, pages, session, tracing
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
from cli.policy_file import read_policy
from store.engine import make_engine
from worker.connect import connect
from worker.tracing import flush_traces, tracer_from_env, tracing_interceptors

DESCRIPTION = """Baton's ingestion and handoff API.

Webhooks authenticate by each CRM's own scheme; every other endpoint takes a bearer API key whose
roles (`crm`, `ae`, `cs_lead`, `operator`) are configured as hashes in `BATON_API_KEYS`. Each
endpoint's description names the roles it accepts. Health checks are unauthenticated."""


def create_app(
    settings: ApiSettings | None = None, client: Client | None = None, tracer: Tracer | None = None
) -> FastAPI:
    """`tracer` defaults to the environment's (worker.tracing: none unless an OTLP endpoint is set);
    a `client` passed in brings its own interceptors."""
    tracer = tracer if tracer is not None else tracer_from_env(os.environ, "baton-api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings or get_settings()
        # Lazy: the API starts (and /readyz says why it is not ready) while Temporal is still down.
        app.state.client = client or await connect(lazy=True, interceptors=tracing_interceptors(tracer))
        app.state.policy = read_policy(app.state.settings.policy_file)
        app.state.engine = make_engine(app.state.settings.database_url)
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
    limits.install(app)  # BATON_MAX_BODY_BYTES: 413 before a route reads the body
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
    codec.install(app)  # /codec/encode, /codec/decode and their CORS for the Temporal UI
    app.include_router(session.router)  # browser sign-in, so the UI reaches the codec with a cookie
    pages.install(app)  # the people's pages, their sign-in, /docs; hardening headers on every response
    metrics.install(app)  # /metrics (unauthenticated) and the per-route request metrics
    tracing.install(app, tracer)  # outermost: the request's span covers everything else
    logging_setup.configure_logging_from_env()  # JSON lines when BATON_LOG_FORMAT=json
    return app
