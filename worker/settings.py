"""The worker's configuration: one class, built by `get_settings()` when the worker starts (never at
import), from the BATON_* variables shared by every process (infra.baton_settings) and the worker's own:
the worker's tuning, the CRMs it reads and writes, where notifications go and the usage source.

A half-configured outside system is an error that names the variables, not a silent no-op: a worker
that quietly skipped Salesforce or e-mail would look healthy while handoffs went unannounced.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from infra.crm_settings import CrmSettings

# A handoff works in short bursts (a few workflow tasks within a second of each event) and then waits
# hours or days for the next: a run kept in the worker's cache between events buys almost nothing, and
# each costs memory (about 300 KB), so the cache holds what is busy now, not every open handoff. A run
# that was evicted replays its history on its next event: milliseconds, hours later.
DEFAULT_CACHED_RUNS = 250
MIN_CACHED_RUNS = 100  # the SDK's default of concurrent workflow tasks, each of which needs a cached run


class WorkerSettings(CrmSettings):
    worker_max_cached_workflows: int = Field(default=DEFAULT_CACHED_RUNS, ge=MIN_CACHED_RUNS)
    worker_grace_seconds: float = Field(default=10.0, ge=0, description="in-flight activities' time to finish")
    worker_metrics_address: str | None = Field(default=None, description="host:port for the SDK's /metrics")

    # The CRMs' variables (BATON_HUBSPOT_TOKEN, BATON_SALESFORCE_*, BATON_PIPEDRIVE_*) come from CrmSettings.

    # A Slack incoming-webhook URL is itself the credential.
    slack_webhook_url: SecretStr = SecretStr("")
    smtp_host: str = ""
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_from: str = ""
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    # NoDecode: the variable is `role=address,...`, not the JSON pydantic-settings expects for a dict.
    # Deprecated: notices go to people (the directory); this addresses only notices that carry none (runs
    # started before the directory, the governance report's roles).
    notify_emails: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, description="role=address,... (deprecated)"
    )
    public_url: str = Field(default="", description="where people reach Baton: the base of every notice's link")
    webhook_url: str = ""
    webhook_secret: SecretStr = SecretStr("")

    # The folder of customer introduction templates (default: activities/templates/introductions/).
    templates_dir: str = ""

    usage_url: str = ""
    usage_token: SecretStr = SecretStr("")

    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        # A value pasted with a stray space or newline would otherwise pass as configured.
        return value.strip() if isinstance(value, str) else value

    @field_validator("notify_emails", mode="before")
    @classmethod
    def _role_addresses(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            role, sep, address = (part.strip() for part in item.partition("="))
            if not sep or not role or "@" not in address:
                raise ValueError(f"BATON_NOTIFY_EMAILS wants role=address pairs, got {item!r}")
            pairs[role] = address
        return pairs

    @model_validator(mode="after")
    def _whole_configurations(self) -> WorkerSettings:
        if self.webhook_url and not self.webhook_secret.get_secret_value():
            # An unsigned webhook would let anyone who finds the receiver forge handoff events.
            raise ValueError("BATON_WEBHOOK_URL is set but BATON_WEBHOOK_SECRET is not")
        if self.smtp_host and "@" not in self.smtp_from:
            raise ValueError("BATON_SMTP_HOST is set but BATON_SMTP_FROM is not an address")
        if bool(self.smtp_username) != bool(self.smtp_password.get_secret_value()):
            raise ValueError("BATON_SMTP_USERNAME and BATON_SMTP_PASSWORD must be set together")
        return self


def get_settings() -> WorkerSettings:
    return WorkerSettings()
