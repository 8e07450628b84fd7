"""Links to Baton's pages, for anything that tells a person about a handoff (notifications, the CLI).

Here rather than in api/ so the worker can build the same link without importing the API. The base is
`BATON_PUBLIC_URL` (the address people reach the API at, behind its TLS proxy); on one machine, the
API's loopback address.
"""

from __future__ import annotations

import os
from urllib.parse import quote

PUBLIC_URL_ENV = "BATON_PUBLIC_URL"
LOCAL_URL = "http://127.0.0.1:8000"


def handoff_path(crm: str, deal_id: str) -> str:
    """The handoff page's path; deal ids are quoted, since a CRM's ids are not all URL-safe."""
    return f"/h/{quote(crm, safe='')}/{quote(deal_id, safe='')}"


def public_base(base_url: str | None = None) -> str:
    base = base_url or os.environ.get(PUBLIC_URL_ENV, "").strip() or LOCAL_URL
    return base.rstrip("/")


def handoff_page_url(crm: str, deal_id: str, base_url: str | None = None) -> str:
    """The absolute link every notification about this deal's handoff carries."""
    return public_base(base_url) + handoff_path(crm, deal_id)
