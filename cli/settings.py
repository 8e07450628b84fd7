"""What the `baton` commands read from the environment, through one settings class.

The long-running commands (`baton worker`, `baton api`) read their own process's settings
(worker.settings, api.settings); these are for the commands that run and exit, and for `baton run`,
which decides what its children are given.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from infra.baton_settings import BatonSettings


class CliSettings(BatonSettings):
    demo_key: SecretStr = Field(default=SecretStr(""), description="an API key with the crm role, for `baton demo`")
    # `baton run` makes its own key, keyring and session secret on one machine unless these are configured.
    api_keys: SecretStr = SecretStr("")
    session_secret: SecretStr = SecretStr("")


def get_settings() -> CliSettings:
    return CliSettings()


def policy_path(given: str | None) -> str | None:
    """A command's --policy, else BATON_POLICY."""
    return given or get_settings().policy_file
