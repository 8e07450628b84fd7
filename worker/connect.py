"""One way to reach Temporal for the worker, the API and the CLI: the SDK's environment config."""

from __future__ import annotations

from collections.abc import Mapping

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.envconfig import ClientConfig


def data_converter() -> DataConverter:
    """Pydantic models in and out of every workflow, update, query and activity."""
    return pydantic_data_converter


async def connect(env: Mapping[str, str] | None = None, **overrides) -> Client:
    """TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS and profiles, as the SDK reads them."""
    config = ClientConfig.load_client_connect_config(override_env_vars=env)
    config.setdefault("target_host", "localhost:7233")
    config.update(overrides)
    return await Client.connect(**config, data_converter=data_converter())
