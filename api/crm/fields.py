"""Typed reads from untrusted JSON, so a malformed body fails as a PayloadError naming its field path
instead of a KeyError or TypeError deep in a parser."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

from api.crm.errors import PayloadError
from domain.crm_time import parse_close, parse_instant
from domain.ids import check_deal_id


def at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _refuse_constant(name: str) -> None:
    raise PayloadError("body", f"{name} is not valid JSON")


def load_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError("body", f"not UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise PayloadError("body", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    refuse_surrogates(data, "")
    return data


def refuse_surrogates(value: Any, path: str) -> None:
    """JSON may escape a lone surrogate (\\ud800), which no UTF-8 encoder accepts: the payload could
    not be stored, logged or sent to Temporal, so it is refused here with the field that holds it."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise PayloadError(path or "body", "a lone surrogate is not text") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_surrogates(key, path or "body")
            refuse_surrogates(item, at(path, key) if isinstance(key, str) else path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_surrogates(item, at(path, index))


def as_dict(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(path or "body", f"expected an object, got {_kind(value)}")
    return value


def as_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(path or "body", f"expected an array, got {_kind(value)}")
    return value


def require(obj: dict[str, Any], key: str, path: str) -> Any:
    if obj.get(key) is None:
        raise PayloadError(at(path, key), "missing")
    return obj[key]


def as_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise PayloadError(path, f"expected a string, got {_kind(value)}")
    return value


def as_int(value: Any, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise PayloadError(path, "not an integer")


def as_id(value: Any, path: str) -> str:
    """A deal id as text; CRMs send them as numbers or strings, and the workflow id needs a safe one."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PayloadError(path, f"expected an id, got {_kind(value)}")
    try:
        return check_deal_id(str(value).strip())
    except ValueError as exc:
        raise PayloadError(path, str(exc)) from None


def as_amount(value: Any, path: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise PayloadError(path, "not a number")
    try:
        amount = float(value)
    except (TypeError, ValueError):
        raise PayloadError(path, "not a number") from None
    if not math.isfinite(amount) or amount < 0:
        raise PayloadError(path, "must be a finite, non-negative number")
    return amount


def as_datetime(value: Any, path: str) -> datetime:
    try:
        return parse_instant(value)
    except TypeError:
        raise PayloadError(path, f"expected a timestamp, got {_kind(value)}") from None
    except ValueError as exc:
        raise PayloadError(path, str(exc)) from None


def put_close(fields: dict[str, Any], value: Any, path: str, *, midnight_utc_is_date: bool = False) -> date | None:
    """An instant goes into the deal's fields; a date-only close is returned for DealEvent.closed_on."""
    try:
        close = parse_close(value, midnight_utc_is_date=midnight_utc_is_date)
    except TypeError:
        raise PayloadError(path, f"expected a date or timestamp, got {_kind(value)}") from None
    except ValueError as exc:
        raise PayloadError(path, str(exc)) from None
    if isinstance(close, datetime):
        fields["closed_at"] = close.isoformat()
        return None
    return close


def iso_or_none(value: Any, path: str) -> str | None:
    """Deal fields travel as ISO text so they survive Temporal's JSON round trip unchanged."""
    if value is None or value == "":
        return None
    return as_datetime(value, path).isoformat()


def text_or_none(value: Any, path: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return as_str(value, path).strip() or None


def put(fields: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        fields[key] = value
