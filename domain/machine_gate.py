"""The handoff document: scored on every change, gated on its tier when submitted, reviewed by the CSM."""

from __future__ import annotations

from functools import lru_cache

from domain.document import CORE_FIELDS, FieldName, HandoffDocument
from domain.effects import CreateCrmTask
from domain.errors import ErrorType, Refused
from domain.field_rules import CriteriaRule, Judgement, judge_all
from domain.machine_deadlines import Deadlines
from domain.machine_handoff import Handoff
from domain.machine_meetings import Meetings
from domain.messages import DocumentUpdate, IntakeReviewInput
from domain.recipients import Audience
from domain.roles import Role, SlaName
from domain.scoring import QualityReport, Tier, check_overrides, score_judged
from domain.state import IntakeReview
from domain.timeline import Kind


class DocumentGate:
    def __init__(self, handoff: Handoff, deadlines: Deadlines, meetings: Meetings) -> None:
        self._h = handoff
        self._deadlines = deadlines
        self._meetings = meetings

    def rescore(self) -> None:
        """Score the document as it stands; the timeline hears of it when the score, the tier or any
        field's status moves, with every field's status (what a backtest replays, never the text)."""
        s = self._h.state
        judged = _judged(s.document.model_dump_json(), self._h.policy.scoring.criteria_rule)
        report = score_judged(
            judged,
            self._h.policy,
            sales_cycle=s.deal.sales_cycle,
            approach=self._h.approach,
            overrides=s.intake.overrides if s.intake else None,
        )
        # The core fields and whatever else counts for this deal (the partner template for partner deals).
        statuses = {
            name.value: judgement.status
            for name, judgement in judged.items()
            if name in CORE_FIELDS or name in report.fields
        }
        if (
            s.quality is None
            or (report.score, report.tier) != (s.quality.score, s.quality.tier)
            or statuses != self._recorded_statuses()
        ):
            self._h.journal.record(Kind.DOCUMENT_SCORED, score=report.score, tier=report.tier.value, statuses=statuses)
        s.quality = report

    def gate(self) -> None:
        """Blocked returns the handoff to sales; gaps proceed with a follow-up SLA; ready proceeds."""
        h = self._h
        s = h.state
        quality = self._quality()
        if quality.tier is Tier.BLOCKED:
            if not s.returned_to_sales:
                s.returned_to_sales = True
                s.facts.submitted_at = None
                h.journal.record(Kind.MESSAGE, message="returned_to_sales", score=quality.score)
                self._deadlines.escalate(SlaName.AE_FOLLOW_UP, Role.SALES_MANAGER, note="handoff document blocked")
                h.journal.ask(
                    CreateCrmTask(
                        key=h.journal.key("task"),
                        owner=s.owners.ae,
                        subject="Handoff document returned: complete it",
                        body=", ".join(name.value for name in quality.missing),
                    )
                )
            return
        first = s.facts.submitted_at is None
        resubmitted = s.returned_to_sales
        s.returned_to_sales = s.returned_by_csm = False
        if resubmitted and s.people_rules:
            # Back from sales: the AE has acted, whatever the tier now says.
            self._deadlines.meet(SlaName.AE_FOLLOW_UP)
        if first:
            s.facts.submitted_at = h.now
            h.journal.notify(
                "document_submitted",
                [Audience.CSM],
                "Handoff document ready for intake review",
                f"{s.deal.account}: {quality.tier.value} ({quality.score}).",
                h.due_of(SlaName.CSM_BRIEFED),
            )
        if quality.tier is Tier.GAPS and SlaName.AE_FOLLOW_UP not in s.deadlines:
            self._deadlines.plan(SlaName.AE_FOLLOW_UP, anchor=h.now)
            missing = [name.value for name in quality.missing]
            h.journal.notify(
                "gaps_flagged",
                [Audience.CSM, Audience.AE],
                "Handoff has gaps",
                f"Missing or generic: {', '.join(missing)}.",
                {"missing": missing, **h.due_of(SlaName.AE_FOLLOW_UP)},
            )
        if quality.tier is Tier.READY:
            self._deadlines.meet(SlaName.AE_FOLLOW_UP)

    # ---- the AE's edits and submission (an update) -----------------------------------------

    def check_document(self, msg: DocumentUpdate) -> None:
        self._h.refuse_if_ended()
        if msg.submit and self._h.state.facts.won_at is None:
            raise Refused(
                ErrorType.INVALID_TRANSITION, "the deal is not won yet: the document can be edited but not submitted"
            )

    def apply_document(self, msg: DocumentUpdate) -> None:
        s = self._h.state
        s.document = s.document.merged(msg.fields)
        changed = sorted(msg.fields.model_dump(exclude_unset=True, exclude_none=True))
        self._h.journal.record(Kind.MESSAGE, message="document_updated", by=msg.by, fields=changed, submit=msg.submit)
        self.rescore()
        # Once submitted (or returned), every change is gated again: a fix can clear a block or the gaps.
        # A document the CSM sent back goes to them again only when the AE resubmits it.
        if s.returned_by_csm and not msg.submit:
            return
        if msg.submit or s.facts.submitted_at is not None or s.returned_to_sales:
            self.gate()

    # ---- the CSM's intake review (an update) -----------------------------------------------

    def check_intake(self, msg: IntakeReviewInput) -> None:
        s = self._h.state
        self._h.refuse_if_ended()
        if not 1 <= msg.rating <= 5:
            raise Refused(ErrorType.INVALID_VALUE, f"rating must be 1 to 5 (got {msg.rating})")
        try:
            check_overrides(msg.overrides)
        except ValueError as err:
            raise Refused(ErrorType.INVALID_VALUE, str(err)) from None
        if s.facts.submitted_at is None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the AE has not submitted the document yet")
        if s.intake is not None and s.intake.accepted:
            raise Refused(ErrorType.INVALID_TRANSITION, "the intake review is already done")

    def apply_intake(self, msg: IntakeReviewInput) -> None:
        h = self._h
        s = h.state
        overrides = {**(s.intake.overrides if s.intake else {}), **msg.overrides}
        s.intake = IntakeReview(
            reviewer=msg.by or s.owners.csm,
            rating=msg.rating,
            overrides=overrides,
            comments=msg.comments,
            accepted=msg.accept,
            at=h.now,
        )
        h.journal.record(
            Kind.MESSAGE,
            message="intake_review",
            by=msg.by,
            rating=msg.rating,
            accepted=msg.accept,
            overrides={k.value: v for k, v in msg.overrides.items()},
        )
        self.rescore()
        if s.people_rules and msg.rating == 5:
            h.journal.notify(
                "handoff_celebrated",
                [Audience.SALES_TEAM],
                f"A five-star handoff: {s.deal.account}",
                f"The CSM rated the handoff of {s.deal.account} 5 of 5. Well done.",
                {"rating": msg.rating},
            )
        if msg.accept:
            s.facts.briefed_at = h.now
            self._deadlines.meet(SlaName.CSM_BRIEFED)
            if s.people_rules:
                self._deadlines.meet(SlaName.AE_FOLLOW_UP)
            self._meetings.welcome()
        elif s.people_rules:
            self._return_to_ae(msg)
        else:
            self.gate()

    def _return_to_ae(self, msg: IntakeReviewInput) -> None:
        """The CSM sends the document back: the AE gets the comments and a follow-up SLA, and the
        document is gated on its tier again when resubmitted."""
        h = self._h
        s = h.state
        s.returned_to_sales = s.returned_by_csm = True
        s.facts.submitted_at = None
        h.journal.record(Kind.MESSAGE, message="returned_to_sales", by=msg.by, reason="intake review")
        if SlaName.AE_FOLLOW_UP not in s.deadlines or not s.deadlines[SlaName.AE_FOLLOW_UP].open:
            self._deadlines.plan(SlaName.AE_FOLLOW_UP, anchor=h.now)
        comments = msg.comments.strip() or "(no comments)"
        h.journal.notify(
            "document_returned",
            [Audience.AE],
            f"Handoff document returned by the CSM: {s.deal.account}",
            f"The CSM sent the handoff document for {s.deal.account} back. Their comments: {comments}",
            {"sla": SlaName.AE_FOLLOW_UP.value, "due": s.deadlines[SlaName.AE_FOLLOW_UP].due.isoformat()},
        )
        h.journal.ask(
            CreateCrmTask(
                key=h.journal.key("task"),
                owner=s.owners.ae,
                subject="Handoff document returned by the CSM: revise and resubmit",
                body=comments,
                due=s.deadlines[SlaName.AE_FOLLOW_UP].due,
            )
        )

    def _recorded_statuses(self) -> dict[str, float] | None:
        entry = next((e for e in reversed(self._h.state.timeline) if e.kind is Kind.DOCUMENT_SCORED), None)
        return entry.details.get("statuses") if entry else None

    def _quality(self) -> QualityReport:
        quality = self._h.state.quality
        if quality is None:  # every path to the gate scores the document first
            raise RuntimeError("the document is gated before it was scored")
        return quality


@lru_cache(maxsize=1024)
def _judged(document: str, criteria: CriteriaRule) -> dict[FieldName, Judgement]:
    """The rules' verdicts on a document (its JSON) under a success-criteria rule, kept for documents
    seen again: a backtest replays thousands of handoffs whose documents are the same few stand-ins.
    The rule is part of the key: one worker runs handoffs of old and new policies side by side. The
    verdicts are frozen."""
    return judge_all(HandoffDocument.model_validate_json(document), criteria)
