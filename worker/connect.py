"""One way to reach Temporal for the worker, the API and the CLI: the SDK's environment config."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.envconfig import ClientConfig

from worker.codec import codec_from_env


def data_converter(env: Mapping[str, str] | None = None) -> DataConverter:
    """Pydantic models in and out of every workflow, update, query and activity; encrypted by the
    payload codec when BATON_CODEC_KEYS or BATON_CODEC_KEY_FILE is set (see worker.codec).

    The codec sits under the converter, so workflow and timer summaries (user metadata) are encrypted
    too; search attributes are not, which is why they never carry contact data."""
    codec = codec_from_env(os.environ if env is None else env)
    if codec is None:
        return pydantic_data_converter
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)


async def connect(env: Mapping[str, str] | None = None, **overrides: Any) -> Client:
    """TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS and profiles, as the SDK reads them."""
    # A plain dict: the overrides and the data converter are `Client.connect` arguments beyond the
    # SDK's ClientConnectConfig TypedDict.
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config(override_env_vars=env))
    config.setdefault("target_host", "localhost:7233")
    config.update(overrides)
    # The same environment that names the server names the codec keys, so a worker started with an
    # explicit env (tests, `baton run`) never mixes its keys with the process's own.
    config.setdefault("data_converter", data_converter(env))
    return await Client.connect(**config)
