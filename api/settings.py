"""The API's configuration: one class, built by `get_settings()` when the app is created (never at
import), from the BATON_* variables every process shares (infra.baton_settings) and the API's own.

The Temporal connection is not here: it comes from the SDK's own env config (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, profiles) through `infra.temporal_client`.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from infra.baton_settings import BatonSettings

ROLES = frozenset({"crm", "ae", "cs_lead", "operator"})
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def parse_api_keys(text: str) -> dict[str, frozenset[str]]:
    """`<sha256 hex>:<role>[+<role>...]`, comma-separated. Only hashes are configured, so a leaked
    environment does not leak usable keys."""
    keys: dict[str, frozenset[str]] = {}
    for position, entry in enumerate(part.strip() for part in text.split(",")):
        if not entry:
            continue
        digest, sep, roles_text = entry.partition(":")
        digest = digest.strip().lower()
        roles = frozenset(role.strip() for role in roles_text.split("+") if role.strip())
        # The entry itself is never echoed: it is a credential hash.
        if not sep or not _SHA256_HEX.match(digest):
            raise ValueError(f"BATON_API_KEYS entry {position + 1}: expected <sha256 hex>:<role>[+<role>...]")
        unknown = roles - ROLES
        if not roles or unknown:
            raise ValueError(
                f"BATON_API_KEYS entry {position + 1}: roles must be among {', '.join(sorted(ROLES))}"
                + (f" (unknown: {', '.join(sorted(unknown))})" if unknown else "")
            )
        keys[digest] = keys.get(digest, frozenset()) | roles
    return keys


class ApiSettings(BatonSettings):
    public_url: str | None = Field(default=None, description="the scheme and host CRMs call, behind a proxy")

    hubspot_client_secret: SecretStr = SecretStr("")
    salesforce_org_id: str = ""
    salesforce_webhook_token: SecretStr = SecretStr("")
    pipedrive_user: str = ""
    pipedrive_password: SecretStr = SecretStr("")
    api_keys: SecretStr = Field(
        default=SecretStr(""), description="<sha256 hex of key>:<role>[+<role>...], comma-separated"
    )

    session_secret: SecretStr = Field(
        default=SecretStr(""), description="signs browser sessions; random per process when unset"
    )

    # A person waits for an update; past this the API answers 503 rather than hanging on a missing worker.
    update_timeout_seconds: float = Field(default=30.0, gt=0)
    rpc_timeout_seconds: float = Field(default=10.0, gt=0)

    # 1 MiB: a HubSpot batch of 100 events is ~40 KiB, a Salesforce Outbound Message of 100
    # notifications a few hundred KiB (api.limits says why there is a limit at all).
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # NoDecode: a comma-separated list, not the JSON pydantic-settings expects for a list. `make run`
    # prints the UI as 127.0.0.1 and browsers treat that and localhost as different origins.
    ui_origin: Annotated[list[str], NoDecode] = Field(
        default=["http://localhost:8233", "http://127.0.0.1:8233"],
        description="origins of the Temporal UI allowed to call /codec with credentials",
    )

    @field_validator("ui_origin", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _keys_parse(cls, value: SecretStr) -> SecretStr:
        parse_api_keys(value.get_secret_value())
        return value

    @cached_property
    def key_roles(self) -> dict[str, frozenset[str]]:
        return parse_api_keys(self.api_keys.get_secret_value())


def get_settings() -> ApiSettings:
    return ApiSettings()
