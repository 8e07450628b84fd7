"""Log format for the API and the worker: JSON lines when BATON_LOG_FORMAT=json, plain text otherwise
(BATON_LOG_LEVEL sets the level; both read through the process's settings).

Each line carries workflow_id, crm and deal_id when the code that logs knows which handoff it serves:
the API binds them per request or per ingested event (a contextvar, so concurrent requests never mix),
and inside an activity they come from the activity's own info.

Only an allowlist of record fields is written. `extra=` values and arguments are not dumped wholesale:
a log call that passes a document or a request body along must not put contact data or a credential
into the log store.
"""

from __future__ import annotations

import contextvars
import json as jsonlib
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType

from opentelemetry import trace

from infra.baton_settings import BatonSettings

CONTEXT_FIELDS = ("workflow_id", "crm", "deal_id")

# An immutable default: the context is only ever replaced (bind_log_context), never changed in place.
_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("baton_log_context", default=_EMPTY)
_WORKFLOW_ID = re.compile(r"^baton-([a-z][a-z0-9_]*)-(.+)$")


def bind_log_context(**values: str | None) -> contextvars.Token:
    """Add fields to the current context; pass the token to `reset_log_context` when done."""
    merged = {**_context.get(), **{k: str(v) for k, v in values.items() if v and k in CONTEXT_FIELDS}}
    return _context.set(merged)


def reset_log_context(token: contextvars.Token) -> None:
    _context.reset(token)


def current_log_context() -> dict[str, str]:
    found = dict(_context.get())
    if "workflow_id" not in found:
        found.update(_from_activity())
    return found


def _from_activity() -> dict[str, str]:
    # Worker side: an activity knows its workflow, and a handoff's id names its CRM and deal.
    try:
        from temporalio import activity

        if not activity.in_activity():
            return {}
        workflow_id = activity.info().workflow_id or ""
    except Exception:  # no SDK context here; logging must never fail because of it
        return {}
    found = {"workflow_id": workflow_id} if workflow_id else {}
    if matched := _WORKFLOW_ID.match(workflow_id):
        found.update(crm=matched.group(1), deal_id=matched.group(2).split("-onboarding")[0].split("-post-check")[0])
    return found


class ContextFilter(logging.Filter):
    """Puts the handoff context on every record (as attributes), so either format can show it, and
    the current trace's id when tracing is on (infra.tracing), so a log line leads to its trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current_log_context().items():
            if not getattr(record, key, None):
                setattr(record, key, value)
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            record.trace_id = format(span.trace_id, "032x")
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in (*CONTEXT_FIELDS, "trace_id"):
            value = getattr(record, key, None)
            if value:
                line[key] = str(value)
        if record.exc_info:
            # Type and traceback only: frames show code, and the message already went through the caller.
            line["exception"] = self.formatException(record.exc_info)
        return jsonlib.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        known = [f"{key}={getattr(record, key)}" for key in CONTEXT_FIELDS if getattr(record, key, None)]
        return f"{text} [{' '.join(known)}]" if known else text


# Query parameters that carry a credential: Salesforce Outbound Messages cannot send headers, so their
# shared token travels as `?token=`, and an access log line would otherwise keep it in clear.
_SECRET_QUERY = re.compile(
    r"(?i)([?&](?:token|api_token|apikey|api_key|key|secret|password|signature|access_token|code)=)[^&#\s\"']*"
)
REDACTED = "[redacted]"
# The loggers that write request URLs: uvicorn's access log, and httpx's line per outgoing request.
URL_LOGGERS = ("uvicorn.access", "httpx")


def redact_url(text: str) -> str:
    return _SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, text)


class RedactUrls(logging.Filter):
    """Rewrites the record's message arguments (uvicorn passes the path as one) before any handler
    formats them, so every handler and format sees the redacted URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            # httpx passes an httpx.URL, uvicorn a str; numbers (status codes) stay numbers for %d.
            record.args = tuple(
                arg if isinstance(arg, (int, float)) or "=" not in str(arg) else redact_url(str(arg))
                for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        return True


def redact_logged_urls() -> None:
    """Idempotent: the API calls it on every app it creates."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactUrls) for f in logger.filters):
            logger.addFilter(RedactUrls())


class _BatonHandler(logging.StreamHandler):
    """Marked, so configuring twice replaces ours and leaves anyone else's handlers alone."""


def configure_logging(json: bool, level: str | int = "INFO", stream=None) -> logging.Handler:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _BatonHandler)]:
        root.removeHandler(handler)
    handler = _BatonHandler(stream)
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    return handler


def configure_logging_from_settings(settings: BatonSettings) -> logging.Handler | None:
    """Only when BATON_LOG_FORMAT is set: an embedding process (tests, uvicorn's own config) keeps its
    logging untouched otherwise."""
    if settings.log_format is None:
        return None
    return configure_logging(json=settings.log_format == "json", level=settings.log_level)
