"""The five handoff approaches."""

from enum import StrEnum


class Approach(StrEnum):
    AUTOMATED = "automated"
    STRUCTURED = "structured"
    WHITE_GLOVE = "white_glove"
    INTERNAL = "internal"
    PARTNER_MEDIATED = "partner_mediated"
