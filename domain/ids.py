"""Business keys: one workflow id per deal, derived ids for its children."""

import re

_SF_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# Matched with fullmatch: `$` alone also matches before a final newline, which let "42\n" through as a
# second id for deal 42.
_SAFE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_CRM_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# ASCII only: str.isalnum() is Unicode-aware and would take "００６..." or Cyrillic letters.
_SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


def normalise_salesforce_id(record_id: str) -> str:
    """Salesforce sends 15- or 18-character ids for the same record; keep the 18-character form.

    The 3-character suffix encodes the case of the first 15 characters, so both forms key one run.
    """
    record_id = record_id.strip()
    if not _SALESFORCE_ID.fullmatch(record_id) or not set(record_id[15:].upper()) <= set(_SF_SUFFIX_ALPHABET):
        raise ValueError(f"not a Salesforce id: {record_id[:40]!r} (15 or 18 ASCII letters and digits)")
    if len(record_id) == 18:
        return record_id[:15] + record_id[15:].upper()
    suffix = ""
    for chunk in range(3):
        bits = 0
        for pos, char in enumerate(record_id[chunk * 5 : chunk * 5 + 5]):
            if char.isupper():
                bits |= 1 << pos
        suffix += _SF_SUFFIX_ALPHABET[bits]
    return record_id + suffix


def check_crm_name(crm: str) -> str:
    if not _CRM_NAME.fullmatch(crm):
        raise ValueError(f"crm must be lowercase letters, digits, '-' or '_' (got {crm[:40]!r})")
    return crm


def check_deal_id(deal_id: str) -> str:
    if not _SAFE.fullmatch(deal_id):
        raise ValueError(f"deal id must be 1-128 letters, digits or _.:- (got {deal_id[:40]!r})")
    return deal_id


def handoff_workflow_id(crm: str, deal_id: str) -> str:
    return f"baton-{check_crm_name(crm)}-{check_deal_id(deal_id)}"


def onboarding_workflow_id(parent_id: str) -> str:
    return f"{parent_id}-onboarding"


def post_check_workflow_id(parent_id: str) -> str:
    return f"{parent_id}-post-check"
