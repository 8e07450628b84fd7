"""Time arithmetic done by the database, alike on SQLite and PostgreSQL, so a report over many rows
reads numbers rather than turning every timestamp into a Python datetime.

SQLite keeps instants as naive UTC text (store.tables.UtcDateTime), PostgreSQL as timestamptz; each
expression below is compiled for the dialect it runs on.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class millis_between(FunctionElement):
    """Whole milliseconds from `earlier` to `later` (NULL when either is NULL). SQLite's julianday is
    exact to well under a millisecond at today's dates, so both dialects agree after rounding."""

    type = BigInteger()
    inherit_cache = True
    name = "millis_between"


class month_of(FunctionElement):
    """`YYYY-MM` of an instant, in UTC."""

    type = String()
    inherit_cache = True
    name = "month_of"


@compiles(millis_between, "sqlite")
def _millis_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(round((julianday({later}) - julianday({earlier})) * 86400000.0) AS INTEGER)"


@compiles(millis_between, "postgresql")
def _millis_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(round(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000) AS BIGINT)"


@compiles(month_of, "sqlite")
def _month_sqlite(element, compiler, **kw):
    (at,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"strftime('%Y-%m', {at})"


@compiles(month_of, "postgresql")
def _month_postgresql(element, compiler, **kw):
    (at,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"to_char({at} AT TIME ZONE 'UTC', 'YYYY-MM')"
