"""Every response carries the hardening headers; pages have a CSP with no inline script; /docs and
/redoc load only files Baton serves itself (from the pinned bundle)."""

from __future__ import annotations

import re

import pytest

from api.pages.headers import DOCS_POLICY, PAGE_POLICY
from tests.test_pages_signin import app_without_temporal

HARDENING = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


@pytest.mark.parametrize("path", ["/signin", "/healthz", "/openapi.json", "/c/not-a-token", "/pages-static/baton.css"])
async def test_every_response_is_hardened(tmp_path, path):
    async with app_without_temporal(tmp_path) as (http, _, _):
        answer = await http.get(path)
        for header, value in HARDENING.items():
            assert answer.headers[header] == value, header
        policy = answer.headers["content-security-policy"]
        assert policy == PAGE_POLICY and "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy


async def test_pages_have_no_inline_script(tmp_path):
    async with app_without_temporal(tmp_path) as (http, _, _):
        for path in ("/signin", "/auth/login", "/docs", "/redoc"):
            html = (await http.get(path)).text
            scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
            assert all('src="/' in attributes and not body.strip() for attributes, body in scripts), path
            assert "style=" not in html, path


async def test_docs_are_served_from_baton_itself(tmp_path):
    async with app_without_temporal(tmp_path) as (http, _, _):
        for path in ("/docs", "/redoc"):
            answer = await http.get(path)
            assert answer.status_code == 200 and answer.headers["content-security-policy"] == DOCS_POLICY
            assert "cdn" not in answer.text.lower() and "https://" not in answer.text
            for asset in re.findall(r'(?:src|href)="(/[^"]+)"', answer.text):
                fetched = await http.get(asset)
                assert fetched.status_code == 200 and len(fetched.content) > 100, asset
        assert (await http.get("/openapi.json")).json()["info"]["title"] == "Baton"
