"""Business keys: one workflow id per deal, derived ids for its children."""

import re

_SF_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SAFE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_CRM_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def normalise_salesforce_id(record_id: str) -> str:
    """Salesforce sends 15- or 18-character ids for the same record; keep the 18-character form.

    The 3-character suffix encodes the case of the first 15 characters, so both forms key one run.
    """
    record_id = record_id.strip()
    if len(record_id) == 18:
        return record_id[:15] + record_id[15:].upper()
    if len(record_id) != 15 or not record_id.isalnum():
        raise ValueError(f"not a Salesforce id: {record_id!r} (15 or 18 letters and digits)")
    suffix = ""
    for chunk in range(3):
        bits = 0
        for pos, char in enumerate(record_id[chunk * 5 : chunk * 5 + 5]):
            if char.isupper():
                bits |= 1 << pos
        suffix += _SF_SUFFIX_ALPHABET[bits]
    return record_id + suffix


def check_crm_name(crm: str) -> str:
    if not _CRM_NAME.match(crm):
        raise ValueError(f"crm must be lowercase letters, digits, '-' or '_' (got {crm!r})")
    return crm


def check_deal_id(deal_id: str) -> str:
    if not _SAFE.match(deal_id):
        raise ValueError(f"deal id must be 1-128 letters, digits or _.:- (got {deal_id!r})")
    return deal_id


def handoff_workflow_id(crm: str, deal_id: str) -> str:
    return f"baton-{check_crm_name(crm)}-{check_deal_id(deal_id)}"


def onboarding_workflow_id(parent_id: str) -> str:
    return f"{parent_id}-onboarding"


def post_check_workflow_id(parent_id: str) -> str:
    return f"{parent_id}-post-check"
