"""The two children of a handoff, onboarding and the 30-day check: when each starts, and what its end settles."""

from __future__ import annotations

from datetime import datetime

from domain.check_failures import CheckFailureKind
from domain.effects import EndChildren, StartOnboarding, StartPostCheck
from domain.machine_deadlines import SETTLED_BY_CHECK, Deadlines
from domain.machine_handoff import Handoff
from domain.messages import ChildFinished, MilestoneSignal
from domain.roles import SlaName
from domain.state import ChildKind, ChildStatus
from domain.timeline import Kind


class Children:
    def __init__(self, handoff: Handoff, deadlines: Deadlines) -> None:
        self._h = handoff
        self._deadlines = deadlines

    def start_onboarding(self) -> None:
        self._h.journal.ask(StartOnboarding())

    def start_post_check_if_due(self) -> None:
        if self._post_check_waiting() and self._h.state.deadlines[SlaName.POST_CHECK].due <= self._h.now:
            self._h.journal.ask(StartPostCheck())

    def next_wake(self) -> tuple[datetime, str] | None:
        """When the 30-day check child is to start, until it has."""
        if not self._post_check_waiting():
            return None
        return self._h.state.deadlines[SlaName.POST_CHECK].due, "30-day post-handoff check"

    def end_all(self) -> None:
        self._h.journal.ask(EndChildren())

    def all_finished(self) -> bool:
        children = self._h.state.children
        return all(kind in children and children[kind].finished_at for kind in ChildKind)

    def started(self, kind: ChildKind, workflow_id: str) -> None:
        h = self._h
        h.state.children[kind] = ChildStatus(workflow_id=workflow_id, kind=kind, started_at=h.now)
        h.journal.record(Kind.CHILD_STARTED, child=kind.value, workflow_id=workflow_id)

    def finished(self, signal: ChildFinished) -> bool:
        """A child's last word (a signal: never refused); False when it came from an unknown or finished
        child, or after the handoff ended, which is recorded and ignored."""
        h = self._h
        child = h.state.children.get(signal.kind)
        if h.state.ended or child is None or child.finished_at is not None:
            # A child cancelled by a lost deal may still report while the parent runs its last effects.
            reason = "handoff has ended" if h.state.ended else "unknown or repeated"
            h.journal.record(Kind.MESSAGE_IGNORED, message="child_finished", child=signal.kind.value, reason=reason)
            return False
        child.finished_at, child.passed, child.summary = h.now, signal.passed, signal.summary
        h.journal.record(Kind.CHILD_FINISHED, child=signal.kind.value, passed=signal.passed)
        if signal.kind is ChildKind.ONBOARDING:
            h.state.facts.transitioned_at = h.now
        else:
            self._settle_checks(signal)
        return True

    def milestone(self, signal: MilestoneSignal) -> None:
        h = self._h
        if h.state.ended:
            h.journal.record(
                Kind.MESSAGE_IGNORED,
                message="milestone_reached",
                milestone=signal.milestone.value,
                reason="handoff has ended",
            )
            return
        h.state.milestones[signal.milestone] = signal.at
        h.journal.record(Kind.MILESTONE, milestone=signal.milestone.value)

    def _post_check_waiting(self) -> bool:
        check = self._h.state.deadlines.get(SlaName.POST_CHECK)
        return check is not None and check.open and ChildKind.POST_CHECK not in self._h.state.children

    def _settle_checks(self, signal: ChildFinished) -> None:
        texts = [failure.text for failure in signal.checks_failed]
        partner_failed = any(f.kind is CheckFailureKind.PARTNER_UNCONFIRMED for f in signal.checks_failed)
        for sla in SETTLED_BY_CHECK:
            passed = bool(signal.passed) if sla is SlaName.POST_CHECK else not partner_failed
            self._deadlines.settle_check(sla, passed, texts)
