"""One way to reach Temporal for the worker, the API and the CLI: the SDK's environment config."""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec
from temporalio.envconfig import ClientConfig

DEFAULT_ADDRESS = "localhost:7233"


def data_converter(codec: PayloadCodec | None = None) -> DataConverter:
    """Pydantic models in and out of every workflow, update, query and activity; encrypted by `codec`
    (the settings' `codec`, see infra.payload_codec) when one is configured.

    The codec sits under the converter, so workflow and timer summaries (user metadata) are encrypted
    too; search attributes are not, which is why they never carry contact data."""
    if codec is None:
        return pydantic_data_converter
    # Failure messages and stack traces go through the codec too: an activity's or a validator's
    # message can quote what it refused (pydantic's do), which may be a contact's data.
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(codec: PayloadCodec | None = None, **overrides: Any) -> Client:
    """TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS and profiles, as the SDK reads them;
    `overrides` are `Client.connect` arguments (lazy, interceptors, runtime)."""
    # A plain dict: the overrides and the data converter are `Client.connect` arguments beyond the
    # SDK's ClientConnectConfig TypedDict.
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    config.setdefault("target_host", DEFAULT_ADDRESS)
    config.update(overrides)
    config.setdefault("data_converter", data_converter(codec))
    return await Client.connect(**config)
