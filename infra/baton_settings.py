"""What every Baton process reads from its environment: the task queue, the policy file, the read
model, the payload codec's keys, the log format and where traces go.

Each process has one settings class built on this one (api.settings.ApiSettings,
worker.settings.WorkerSettings, cli.settings.CliSettings), made by its `get_settings()` when the
process starts, never at import. The Temporal connection is not here: the SDK's own env config reads
it (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles; see infra.temporal_client).

A variable set to the empty string counts as unset, as the shell's `VAR=` means to most people.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.payload_codec import EncryptionCodec, build_codec


class BatonSettings(BaseSettings):
    # hide_input_in_errors: a refused setting is named, never echoed (it may be a key or a password).
    model_config = SettingsConfigDict(
        env_prefix="BATON_", extra="ignore", populate_by_name=True, env_ignore_empty=True, hide_input_in_errors=True
    )

    task_queue: str = "baton"
    policy_file: str | None = Field(default=None, validation_alias=AliasChoices("policy_file", "BATON_POLICY"))
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("database_url", "BATON_DATABASE_URL", "DATABASE_URL")
    )

    codec_keys: SecretStr = Field(default=SecretStr(""), description="<id>:<base64 32-byte key>, comma-separated")
    codec_key_file: str | None = None
    codec_active_key: str | None = None

    log_format: Literal["text", "json"] | None = None
    log_level: str = "INFO"

    otel_traces_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("otel_traces_endpoint", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    otel_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("otel_endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    otel_service_name: str | None = Field(
        default=None, validation_alias=AliasChoices("otel_service_name", "OTEL_SERVICE_NAME")
    )

    _codec: EncryptionCodec | None = PrivateAttr(default=None)

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_in_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _codec_keys_parse(self) -> BatonSettings:
        # Here rather than at first use: a bad keyring stops the process at start, naming the variable,
        # instead of failing the first workflow task or the first codec request.
        self._codec = build_codec(self.codec_keys.get_secret_value(), self.codec_key_file, self.codec_active_key)
        return self

    @property
    def codec(self) -> EncryptionCodec | None:
        """The payload codec, or None when no keys are configured (payloads stay plain)."""
        return self._codec

    @property
    def traces_endpoint(self) -> str | None:
        """The OTLP/HTTP traces URL, or None when tracing is off: the traces endpoint as given, else
        `/v1/traces` under the base endpoint (the OpenTelemetry convention for these two variables)."""
        explicit = (self.otel_traces_endpoint or "").strip()
        if explicit:
            return explicit
        base = (self.otel_endpoint or "").strip()
        return base.rstrip("/") + "/v1/traces" if base else None
