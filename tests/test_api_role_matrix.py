"""Who may call what: every endpoint x every role x no key, against the README's table.

The expected matrix is written out here rather than read from the routes, so changing a route's roles
(or adding a route) fails this test until the README's table and this copy are changed with it.
"""

from __future__ import annotations

import hashlib

import pytest

from tests.api_rig import KEYS, auth, running_api

pytestmark = pytest.mark.temporal

ROLES = ("crm", "ae", "cs_lead", "operator")
H = "/v1/handoffs/{crm}/{deal_id}"
PEOPLE = {"ae", "cs_lead", "operator"}
LEADS = {"cs_lead", "operator"}

# The README's "The API" tables (and DECISIONS.md "Security and delivery" for the reports).
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("POST", "/v1/events"): {"crm"},
    ("GET", "/v1/handoffs"): PEOPLE,
    ("GET", H): PEOPLE,
    ("PATCH", H + "/document"): PEOPLE,
    ("POST", H + "/csm"): LEADS,
    ("POST", H + "/intake-review"): {"cs_lead"},
    ("POST", H + "/intro"): {"ae", "cs_lead"},
    ("POST", H + "/first-touch"): {"cs_lead"},
    ("POST", H + "/kickoff"): {"cs_lead"},
    ("POST", H + "/milestones"): {"cs_lead"},
    ("POST", H + "/deadlines/{sla}"): LEADS,
    ("POST", H + "/ae-departure"): PEOPLE,
    ("POST", H + "/post-check"): {"cs_lead"},
    ("GET", "/v1/scorecard"): LEADS,
    ("GET", "/v1/at-risk"): LEADS,
    ("GET", "/v1/reports/churn"): LEADS,
}

# Not bearer-key endpoints: docs, health (unauthenticated), webhooks (each CRM's own scheme),
# metrics (internal network), the codec (its own operator/cookie check, tested with the codec) and the
# browser sign-in that issues the codec's cookie (it takes the key in a form, not as a bearer).
EXCLUDED_PREFIXES = ("/docs", "/redoc", "/openapi", "/healthz", "/readyz", "/webhooks", "/metrics", "/codec", "/auth/")
# The people's pages sign in by session cookie, not by key (tests/test_pages_*.py cover who may do what).
PAGE_PATHS = ("/signin", "/signout", "/me", "/h/", "/pages/", "/queue", "/scorecard", "/c/")
PATH_VALUES = {"{crm}": "hubspot", "{deal_id}": "4242424242", "{sla}": "csm_briefed"}


def _walk(routes):
    """(method, path) of every route, through included routers.

    FastAPI 0.16x keeps included routers as lazy `_IncludedRouter` entries in `app.routes`; older ones
    flatten them into `APIRoute`s. Both shapes are read so an upgrade does not silently empty the list."""
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                for method in getattr(context.original_route, "methods", None) or ():
                    yield method, context.path
        else:
            for method in getattr(route, "methods", None) or ():
                yield method, route.path


def endpoints(app) -> set[tuple[str, str]]:
    return {
        (method, path)
        for method, path in _walk(app.routes)
        if method != "HEAD" and not path.startswith(EXCLUDED_PREFIXES + PAGE_PATHS) and path != "/"
    }


def concrete(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace(name, value)
    return path


def test_the_keys_give_one_role_each():
    # The matrix relies on each test key holding exactly one role.
    assert set(KEYS) == set(ROLES)
    assert len({hashlib.sha256(k.encode()).hexdigest() for k in KEYS.values()}) == len(ROLES)


async def test_every_endpoint_answers_each_role_as_the_readme_says(rig_factory):
    async with rig_factory() as rig, running_api(rig, update_timeout_seconds=5) as api:
        assert endpoints(api.app) == set(EXPECTED), (
            "a route was added, removed or renamed: update the README and EXPECTED"
        )
        wrong: list[str] = []
        for (method, path), allowed in sorted(EXPECTED.items()):
            url = concrete(path)
            # An empty object: an allowed caller may get 404/409/422 for it, but never 401/403.
            body = {} if method in ("POST", "PATCH") else None
            answer = await api.http.request(method, url, json=body)
            if answer.status_code != 401:
                wrong.append(f"{method} {path} without a key: {answer.status_code}, expected 401")
            for role in ROLES:
                answer = await api.http.request(method, url, json=body, headers=auth(role))
                if role in allowed and answer.status_code in (401, 403):
                    wrong.append(f"{method} {path} as {role}: {answer.status_code}, expected to be let in")
                elif role not in allowed and answer.status_code != 403:
                    wrong.append(f"{method} {path} as {role}: {answer.status_code}, expected 403")
            bad_key = await api.http.request(method, url, json=body, headers={"Authorization": "Bearer not-a-key"})
            if bad_key.status_code != 401:
                wrong.append(f"{method} {path} with an unknown key: {bad_key.status_code}, expected 401")
        assert not wrong, "\n".join(wrong)
