"""Pure parsing and verification of CRM webhooks: bytes in, DealEvents out, no I/O.

Routes verify first (signatures), then parse; PayloadError means 400, SignatureError 401.
"""

from api.crm.errors import PayloadError
from api.crm.generic import (
    ChurnEventBody,
    DealEventBody,
    GenericEvent,
    SurveyEventBody,
    parse_generic,
    to_deal_event,
)  # fmt: skip
from api.crm.hubspot import parse_hubspot_batch, parse_hubspot_workflow
from api.crm.pipedrive import parse_pipedrive
from api.crm.salesforce import OutboundMessage, outbound_ack, parse_cdc, parse_outbound_message
from api.crm.signatures import (
    SignatureError,
    check_salesforce_org,
    compare_token,
    public_uri,
    verify_basic_auth,
    verify_hubspot_v2,
    verify_hubspot_v3,
)  # fmt: skip

__all__ = [
    "ChurnEventBody", "DealEventBody", "GenericEvent", "OutboundMessage", "PayloadError", "SignatureError",
    "SurveyEventBody", "check_salesforce_org", "compare_token", "outbound_ack", "parse_cdc", "parse_generic",
    "parse_hubspot_batch", "parse_hubspot_workflow", "parse_outbound_message", "parse_pipedrive", "public_uri",
    "to_deal_event", "verify_basic_auth", "verify_hubspot_v2", "verify_hubspot_v3",
]  # fmt: skip
