"""Registering Baton's search attributes on a namespace (dev server, test server or a real cluster)."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from workflows import search_attributes


async def register_search_attributes(client: Client) -> list[str]:
    """Add the attributes the namespace lacks and return their names; present ones are left alone.

    The time-skipping test server cannot list attributes, so there every attribute is added at once.
    """
    wanted = {key.name: IndexedValueType.ValueType(int(key.indexed_value_type)) for key in search_attributes.ALL}
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        missing = {name: kind for name, kind in wanted.items() if name not in existing.custom_attributes}
    except RPCError as err:
        if err.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
        missing = wanted
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    return sorted(missing)
