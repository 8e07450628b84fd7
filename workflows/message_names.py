"""The names every workflow is messaged by, defined once for the sender and the receiver.

They are part of every saved history and of every client's call: a Python method renamed must not
rename its message on the wire. A child signals its parent by name because importing the parent's
class would make an import cycle (the parent starts the children); the API and the tests use the
typed handles (`DealHandoffWorkflow.stage_changed`), which carry these same names.
"""

from __future__ import annotations

from typing import Final


class HandoffSignal:
    STAGE_CHANGED: Final = "stage_changed"  # the CRM moved the deal (from the API)
    CRM_DOCUMENT_CHANGED: Final = "crm_document_changed"  # mapped document properties changed in the CRM
    CHILD_FINISHED: Final = "child_finished"  # a child is done (from onboarding and the 30-day check)
    MILESTONE_REACHED: Final = "milestone_reached"  # an onboarding milestone (from the onboarding child)


class HandoffUpdate:
    DOCUMENT: Final = "update_document"
    ASSIGN_CSM: Final = "assign_csm"
    INTAKE_REVIEW: Final = "intake_review"
    INTRO: Final = "intro"
    FIRST_TOUCH: Final = "first_touch"
    KICKOFF: Final = "kickoff"
    AE_DEPARTURE: Final = "ae_departure"
    EXTEND_DEADLINE: Final = "extend_deadline"
    POST_CHECK_ANSWERS: Final = "post_check_answers"  # before the 30-day check starts (policy opens_before)


class HandoffQuery:
    STATE: Final = "state"


class OnboardingMessage:
    MILESTONE: Final = "milestone"  # update
    SUMMARY: Final = "summary"  # query


class PostCheckMessage:
    ANSWERS: Final = "answers"  # update
    RESULT: Final = "result"  # query
