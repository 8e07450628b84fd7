"""`baton score FILE.json`: score a handoff document as the workflow would."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from cli.errors import UsageError, describe_validation_error
from cli.settings import policy_path
from domain.document import FieldName, HandoffDocument
from domain.scoring import check_overrides, score_document
from infra.policy_file import read_policy


class DealTimes(BaseModel):
    model_config = ConfigDict(extra="ignore")

    created_at: datetime
    closed_at: datetime

    @model_validator(mode="after")
    def _order(self) -> DealTimes:
        if (self.created_at.tzinfo is None) != (self.closed_at.tzinfo is None):
            raise ValueError("created_at and closed_at must both have a UTC offset or neither")
        if self.closed_at < self.created_at:
            raise ValueError("closed_at is before created_at")
        return self


class ScoreInput(HandoffDocument):
    model_config = ConfigDict(extra="forbid")

    deal: DealTimes | None = None
    overrides: dict[FieldName, float] = {}

    @field_validator("overrides")
    @classmethod
    def _overrides(cls, value: dict[FieldName, float]) -> dict[FieldName, float]:
        check_overrides(value)
        return value


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("score", help="score a handoff document (JSON) and print the result")
    parser.add_argument("file", help="handoff document as JSON; '-' reads standard input")
    parser.add_argument("--policy", help="policy file (YAML); default $BATON_POLICY or built-in")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    text = Path("/dev/stdin").read_text() if args.file == "-" else _read(args.file)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"{args.file}: not JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{args.file}: expected a JSON object of handoff fields")
    try:
        request = ScoreInput.model_validate(data)
    except ValidationError as err:
        raise UsageError(describe_validation_error(err, args.file)) from None
    policy = read_policy(policy_path(args.policy))
    cycle = request.deal.closed_at - request.deal.created_at if request.deal else None
    document = HandoffDocument.model_validate(request.model_dump(exclude={"deal", "overrides"}))
    report = score_document(document, policy, sales_cycle=cycle, overrides=request.overrides)
    output = {
        "score": report.score,
        "tier": report.tier.value,
        "rapid_close": report.rapid_close,
        "fields": {
            name.value: field.model_dump(exclude={"overridden"} if not field.overridden else set())
            for name, field in report.fields.items()
        },
    }
    print(json.dumps(output, indent=2))
    return 0


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
