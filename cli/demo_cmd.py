"""`baton demo`: post a realistic set of deal events to a running API so a new user sees handoffs at once.

The events go through the public `/v1/events` endpoint with a `crm` key, as any CRM integration
would, so the demo exercises exactly what production does (no back door into Temporal or the store).
Deal ids are fixed: running the demo again reports duplicates instead of piling up copies.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from cli.settings import get_settings

KEY_ENV = "BATON_DEMO_KEY"
DEFAULT_URL = "http://127.0.0.1:8000"
SOURCE = "demo"

HOW_TO_SET_A_KEY = f"""baton demo needs an API key with the `crm` role (pass --crm-key or set {KEY_ENV}).
The API only knows hashes of its keys (BATON_API_KEYS); to make one for the demo:

  export {KEY_ENV}=$(python -c 'import secrets; print(secrets.token_urlsafe(24))')
  export BATON_API_KEYS="${{BATON_API_KEYS:+$BATON_API_KEYS,}}$(printf %s "${KEY_ENV}" | sha256sum | cut -d' ' -f1):crm"

then restart `baton run` (it passes BATON_API_KEYS to the API) and run `baton demo` again."""


class DemoError(Exception):
    """The API refused or failed an event; the message says what to do."""


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="post demo deal events to a running API so handoffs show up at once")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the API's base URL (default {DEFAULT_URL})")
    parser.add_argument("--crm-key", default=None, help=f"an API key with the crm role (default ${KEY_ENV})")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    key = args.crm_key or get_settings().demo_key.get_secret_value()
    if not key:
        print(HOW_TO_SET_A_KEY, file=sys.stderr)
        return 2
    try:
        asyncio.run(_post_to(args.url, key))
    except DemoError as err:
        print(f"baton demo: {err}", file=sys.stderr)
        return 1
    return 0


async def _post_to(url: str, key: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        try:
            await post_demo(http, key)
        except httpx.TransportError as err:
            raise DemoError(
                f"cannot reach the API at {url} ({err.__class__.__name__}); is `baton run` running?"
            ) from None


async def post_demo(
    http: httpx.AsyncClient, key: str, now: datetime | None = None, out: Callable[[str], None] = print
) -> list[dict]:
    """Post every demo event through `http` (any base URL or transport) and print one line per outcome.

    Returns the API's outcomes in order. Raises DemoError on the first refused event: later events
    may depend on earlier ones (the lost deal must be won first).
    """
    outcomes: list[dict] = []
    headers = {"Authorization": f"Bearer {key}"}
    for label, event in demo_events(now or datetime.now(UTC)):
        answer = await http.post("/v1/events", json=event, headers=headers)
        if answer.status_code in (401, 403):
            raise DemoError(
                f"the API refused the key ({answer.status_code}): it needs the crm role.\n{HOW_TO_SET_A_KEY}"
            )
        if answer.status_code == 503:
            raise DemoError("Temporal is unreachable from the API (503); wait for `baton run` to finish starting")
        if answer.status_code >= 300:
            raise DemoError(f"{label}: the API answered {answer.status_code}: {answer.text[:500]}")
        for outcome in answer.json():
            outcomes.append(outcome)
            out(f"{outcome['outcome']:<10} {outcome['workflow_id']:<28} {label}")
    # The won-then-lost deal starts and ends within the demo (and again on every rerun, since a win
    # after a lost run counts as the deal won after all): it is not a new open handoff.
    ended = {o["workflow_id"] for o in outcomes if o["outcome"] == "ended"}
    opened = [o for o in outcomes if o["outcome"] == "started" and o["workflow_id"] not in ended]
    if opened:
        out(
            f"\n{len(opened)} handoffs started; list them with GET /v1/handoffs or in the Temporal UI "
            f"(search: BatonCrm = '{SOURCE}')."
        )
    else:
        out("\nNo new open handoff: the demo deals are already there.")
    return outcomes


# ---- the demo deals ------------------------------------------------------------------------------


def _contact(name: str, title: str, role: str, notes: str) -> dict:
    return {"name": name, "title": title, "role": role, "notes": notes}


def _full_document(goal: str, scope: str, stakeholders: list[dict], **extra) -> dict:
    """A document a CSM can work from: specific goals, a mapped buying group, risks and commitments."""
    return {
        "goals": goal,
        "stakeholders": stakeholders,
        "success_criteria": "Adoption above 70% of licensed seats by day 60, measured in the admin console.",
        "risks": "The previous rollout stalled when the champion changed teams; IT is short-staffed in Q2.",
        "scope": scope,
        "sales_conversations": {
            "commitments": ["Named CSM within 48 hours of signature"],
            "objections": ["Data migration effort"],
            "concessions": ["Two extra training sessions"],
        },
        "contract_terms": "12-month term, net 30, annual uplift capped at 5%.",
        "communication_preferences": "Weekly 30-minute call on Tuesdays; email for everything else.",
        **extra,
    }


def demo_events(now: datetime) -> list[tuple[str, dict]]:
    """(label, event) in posting order: one per segment, a partner deal, an expansion, a deal won and
    then lost, and one with an incomplete document."""

    def deal(deal_id: str, account: str, amount: float, closed_days_ago: float, **fields) -> dict:
        closed = now - timedelta(days=closed_days_ago)
        return {
            "id": deal_id,
            "account": account,
            "amount": amount,
            "currency": fields.pop("currency", "USD"),
            "created_at": (closed - timedelta(days=55)).isoformat(),
            "closed_at": closed.isoformat(),
            "ae": fields.pop("ae", "maria.lopez@example.com"),
            "sales_manager": "dan.kim@example.com",
            "vp_sales": "vp.sales@example.com",
            **fields,
        }

    def event(
        deal_body: dict, stage: str = "closed_won", document: dict | None = None, at: datetime | None = None
    ) -> dict:
        body = {
            "type": "deal",
            "source": SOURCE,
            "event_id": f"demo-{deal_body['id']}-{stage}",
            "stage": stage,
            "deal": deal_body,
            "occurred_at": (at or now).isoformat(),
        }
        if document is not None:
            body["document"] = document
        return body

    buying_group = [
        _contact("Priya Shah", "COO", "executive_sponsor", "Owns the budget; expects a monthly ROI readout."),
        _contact("Tom Becker", "IT Director", "implementation_owner", "Signs off SSO; prefers written plans."),
        _contact("Lena Ortiz", "Operations Manager", "champion", "Day-to-day owner; ran the evaluation."),
    ]
    lost = deal("DEMO-1006", "Orbit Freight", 52_000, 0.2)
    return [
        (
            "automated: Brightline Dental, $12k",
            event(
                deal("DEMO-1001", "Brightline Dental", 12_000, 0.1, products=["Scheduling Starter"]),
                document=_full_document(
                    "Cut no-shows from 12% to 6% with automated reminders by month 3.",
                    "Scheduling Starter for 4 clinics.",
                    buying_group,
                ),
            ),
        ),
        (
            "structured: Northwind Logistics, EUR 84k with services",
            event(
                deal(
                    "DEMO-1002",
                    "Northwind Logistics",
                    84_000,
                    0.5,
                    currency="EUR",
                    professional_services=True,
                    products=["Routing Pro", "Fleet Analytics"],
                    implementation_owner="Tom Becker (IT Director)",
                ),
                document=_full_document(
                    "Cut late deliveries from 9% to under 4% by Q3.",
                    "Routing Pro for 40 dispatchers and Fleet Analytics.",
                    buying_group,
                ),
            ),
        ),
        (
            "white glove: Helios Health Systems, $240k custom",
            event(
                deal(
                    "DEMO-1003",
                    "Helios Health Systems",
                    240_000,
                    2.5,
                    custom_implementation=True,
                    products=["Care Platform", "Custom EHR connector"],
                    ae="sam.reed@example.com",
                ),
                document=_full_document(
                    "Consolidate 3 patient portals into one by January.",
                    "Care Platform for 12 hospitals plus a custom EHR connector.",
                    buying_group,
                ),
            ),
        ),
        (
            "partner: Kestrel Retail via Summit Partners, $60k",
            event(
                deal("DEMO-1004", "Kestrel Retail", 60_000, 1, channel_partner="Summit Partners"),
                document=_full_document(
                    "Launch click-and-collect in 80 stores before the holiday season.",
                    "Commerce Suite for 80 stores.",
                    buying_group,
                    partner_context={
                        "partner_contact": _contact(
                            "Ava Kim", "Delivery Lead", "other", "Runs the rollout for Summit."
                        ),
                        "implementation_plan": "Summit configures and trains; we run the 30-day health check.",
                        "support_tier": "partner first line",
                        "engagement_model": "co-managed",
                    },
                ),
            ),
        ),
        (
            "expansion: Acme Corp adds 200 seats",
            event(
                deal("DEMO-1005", "Acme Corp", 36_000, 0.3, deal_type="expansion", ae="sam.reed@example.com"),
                document=_full_document(
                    "Roll the platform out to the EMEA support team.", "200 more seats for EMEA.", buying_group
                ),
            ),
        ),
        (
            "won, then lost: Orbit Freight",
            event(
                lost,
                document=_full_document(
                    "Replace spreadsheets for yard management.", "Yard module for 2 sites.", buying_group
                ),
            ),
        ),
        (
            "lost after the win: Orbit Freight (legal rejected the DPA)",
            event(lost, stage="closed_lost", at=now + timedelta(seconds=1)),
        ),
        (
            "incomplete document: Quill Publishing, $40k",
            event(
                deal("DEMO-1007", "Quill Publishing", 40_000, 0.2, ae="sam.reed@example.com"),
                # What an AE in a hurry sends: one vague goal and a contact with no detail.
                document={"goals": "Better workflows.", "stakeholders": [{"name": "Jo", "title": "", "notes": ""}]},
            ),
        ),
    ]
