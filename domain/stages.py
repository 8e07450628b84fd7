"""What a CRM stage means for a handoff, as the policy's stage lists classify it."""

from enum import StrEnum


class StageKind(StrEnum):
    WON = "won"
    LOST = "lost"
    PRE_CLOSE = "pre_close"  # listed in `stages.pre_close`: starts the handoff early (opt-in)
    OTHER = "other"  # acknowledged and ignored
