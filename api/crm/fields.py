"""Typed reads from untrusted JSON, so a malformed body fails as a PayloadError naming its field path
instead of a KeyError or TypeError deep in a parser."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from api.crm.errors import PayloadError
from domain.ids import check_deal_id

# Below this an epoch number is seconds (Pipedrive), above it milliseconds (HubSpot, Salesforce):
# 1e11 seconds is the year 5138, 1e11 milliseconds is 1973, so no real timestamp is ambiguous.
_EPOCH_SECONDS_BELOW = 1e11


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
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise PayloadError("body", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


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
    """Epoch numbers (seconds or milliseconds) or ISO 8601; a value without an offset is UTC, as
    Pipedrive v1 and Salesforce dates document theirs."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value if abs(value) < _EPOCH_SECONDS_BELOW else value / 1000
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise PayloadError(path, "timestamp out of range") from None
    if not isinstance(value, str):
        raise PayloadError(path, f"expected a timestamp, got {_kind(value)}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PayloadError(path, f"not an ISO 8601 date or time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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
