"""The AE's commission hold: released once the handoff is complete, rated and introduced.

Complete means every counted field populated, after the CSM's overrides (policy `commission.document:
complete`); a snapshot without the key keeps the first rule: tier ready, or accepted by the CSM."""

from __future__ import annotations

from domain.effects import ReleaseCommission
from domain.machine_handoff import Handoff
from domain.policy import CommissionDocument
from domain.scoring import Tier
from domain.timeline import Kind


class Commission:
    def __init__(self, handoff: Handoff) -> None:
        self._h = handoff

    def release_if_earned(self) -> None:
        """Checked after every change; once met, recorded either way and never again."""
        h = self._h
        s = h.state
        if s.commission.released or s.facts.won_at is None or s.ended:
            return
        intake = s.intake
        if intake is None or intake.rating < h.policy.commission.min_rating:
            return
        if h.policy.commission.document is CommissionDocument.COMPLETE:
            # Complete, not merely accepted: a `gaps` document with an empty field is not complete.
            document_ok = s.quality is not None and all(field.status > 0 for field in s.quality.fields.values())
        else:
            document_ok = (s.quality is not None and s.quality.tier is Tier.READY) or intake.accepted
        intro_ok = s.facts.intro_scheduled_at is not None if h.has_intro else s.facts.briefed_at is not None
        if not (document_ok and intro_ok):
            return
        s.commission.released, s.commission.at = True, h.now
        if h.policy.commission.release:
            s.commission.note = "released in the CRM"
            h.journal.record(Kind.COMMISSION_RELEASED, ae=s.owners.ae, rating=intake.rating)
            h.journal.ask(ReleaseCommission(key=h.journal.key("commission"), note="handoff complete and rated"))
        else:
            s.commission.note = "conditions met; release is switched off in the policy"
            h.journal.record(Kind.COMMISSION_HELD, ae=s.owners.ae, reason=s.commission.note)
