"""Who is escalated to, and the SLAs that guard a handoff (names fixed by DECISIONS.md)."""

from enum import StrEnum


class Role(StrEnum):
    SALES_MANAGER = "sales_manager"
    VP_SALES = "vp_sales"
    CS_MANAGER = "cs_manager"
    PARTNER_MANAGER = "partner_manager"


class SlaName(StrEnum):
    CSM_BRIEFED = "csm_briefed"
    CS_FIRST_TOUCH = "cs_first_touch"
    INTRO_SCHEDULED = "intro_scheduled"
    INTRO_HELD = "intro_held"
    KICKOFF = "kickoff"
    AE_FOLLOW_UP = "ae_follow_up"
    IMPL_OWNER_CONTACT = "impl_owner_contact"
    RECOVERY_OWNER = "recovery_owner"
    POST_CHECK = "post_check"
    PARTNER_CHECK = "partner_check"
