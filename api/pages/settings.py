"""The pages' settings: sign-in delivery, the TLS proxy, and where the Temporal UI is.

Separate from ApiSettings so the integration API's settings stay what they were; read from the same
BATON_* environment. The SMTP variables are the ones the worker's e-mail notifications use.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BATON_", extra="ignore", populate_by_name=True)

    directory: str | None = Field(default=None, description="the people directory file (BATON_DIRECTORY)")

    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str = ""
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    slack_bot_token: SecretStr = Field(default=SecretStr(""), description="a bot token (xoxb-...) for Slack DMs")
    slack_api_url: str = "https://slack.com/api"

    trust_proxy_headers: bool = Field(
        default=False,
        description="trust X-Forwarded-Proto/-For from the TLS proxy in front (only when nothing else reaches the API)",
    )
    sign_in_link_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    customer_link_days: int = Field(default=30, ge=1, le=365)

    temporal_ui_url: str = Field(default="http://127.0.0.1:8233", description="for the queue's links to each run")
    temporal_namespace: str = Field(
        default="default", validation_alias=AliasChoices("temporal_namespace", "TEMPORAL_NAMESPACE")
    )

    @property
    def email_configured(self) -> bool:
        return bool(self.smtp_host and self.smtp_from)
