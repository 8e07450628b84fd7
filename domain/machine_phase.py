"""Where a handoff stands, derived from what has happened: never set by hand, so it cannot drift."""

from __future__ import annotations

from domain.state import HandoffState, Phase


def derive_phase(state: HandoffState, has_intro: bool) -> Phase:
    facts = state.facts
    if facts.ended_at:
        return Phase.CLOSED
    if facts.won_at is None:
        return Phase.PRE_CLOSE
    if facts.transitioned_at:
        return Phase.TRANSITIONED
    if facts.kickoff_at:
        return Phase.ONBOARDING
    if state.returned_to_sales or facts.submitted_at is None:
        return Phase.DOCUMENTING
    if facts.briefed_at is None:
        return Phase.INTAKE_REVIEW
    if has_intro and facts.intro_held_at is None:
        return Phase.INTRO
    return Phase.KICKOFF
