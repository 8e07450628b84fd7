"""Deals for `baton backtest` from a file: JSON lines (one `RecordedHandoff` a line), or CSV (one deal a
row: the deal's facts by name, `status.<field>` columns, `messages` as a JSON array).

A line that does not fit is refused with its line number and the field, before anything is replayed.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cli.errors import UsageError
from domain.backtest.recorded import DealRecord, RecordedHandoff

_TOP = {"won_at", "submitted", "active_users"}
_LISTS = {"products"}
_BOOLEANS = {"submitted"} | {
    name for name, field in DealRecord.model_fields.items() if field.annotation in (bool, "bool")
}


def read_deals(path: str) -> list[RecordedHandoff]:
    try:
        with Path(path).open(encoding="utf-8", newline="") as file:
            if path.lower().endswith(".csv"):
                rows = [(number, _from_csv(row)) for number, row in enumerate(csv.DictReader(file), start=2)]
            else:
                rows = [
                    (number, _from_json(line, path, number))
                    for number, line in enumerate(file, start=1)
                    if line.strip()
                ]
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    deals = []
    for number, data in rows:
        try:
            deals.append(RecordedHandoff.model_validate(data))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(the line)"
            raise UsageError(f"{path}:{number}: {where}: {first['msg']}") from None
    return deals


def _from_json(line: str, path: str, number: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        raise UsageError(f"{path}:{number}: not JSON ({err.msg})") from None


def _from_csv(row: dict[str, str | None]) -> dict[str, Any]:
    deal: dict[str, Any] = {}
    found: dict[str, Any] = {"deal": deal, "statuses": {}}
    for column, raw in row.items():
        if column is None or raw is None or raw.strip() == "":
            continue
        value: Any = raw.strip()
        if column in _BOOLEANS:
            value = value.lower() in ("true", "yes", "1")
        elif column in _LISTS:
            value = [item.strip() for item in value.split(";") if item.strip()]
        if column.startswith("status."):
            found["statuses"][column.removeprefix("status.")] = value
        elif column == "messages":
            try:
                found["messages"] = json.loads(value)
            except json.JSONDecodeError as err:
                found["messages"] = f"not a JSON array ({err.msg})"
        elif column in _TOP:
            found[column] = value
        else:
            deal[column] = value
    return found
