"""Serving the API with uvicorn (the `baton api` command calls `serve`)."""

from __future__ import annotations

import uvicorn

from api.app import create_app


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    # Proxy headers are not trusted here: HubSpot signatures use BATON_PUBLIC_URL instead.
    uvicorn.run(create_app(), host=host, port=port, proxy_headers=False)
