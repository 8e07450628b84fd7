"""Errors a command reports to its user (exit status 2), without a traceback."""

from pydantic import ValidationError


class UsageError(Exception):
    pass


def describe_validation_error(err: ValidationError, source: str) -> str:
    lines = []
    for error in err.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"{source}: {key}: {error['msg']}")
    return "\n".join(lines)
