"""Deadlines: planned from an anchor with the business calendar, then met, breached or moved."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from domain.approach_policy import SlaSpec
from domain.calendar import BusinessCalendar
from domain.roles import Role, SlaName
from domain.state import Deadline, DeadlineStatus, EscalationStep, Extension


def plan(sla: SlaName, spec: SlaSpec, anchor: datetime, now: datetime, calendar: BusinessCalendar) -> Deadline:
    """A deadline `spec.due` after `anchor`, with its escalation steps measured from the same anchor."""
    return Deadline(
        sla=sla,
        due=calendar.add(anchor, spec.due),
        set_at=now,
        on_breach=spec.on_breach,
        escalations=[EscalationStep(at=calendar.add(anchor, step.at), to=step.to) for step in spec.escalations],
    )


def meet(deadline: Deadline, at: datetime) -> bool:
    """Mark met; False when it was already settled (met twice, or met after a breach)."""
    if not deadline.open:
        return False
    deadline.status = DeadlineStatus.MET
    deadline.met_at = at
    return True


def met_late(deadline: Deadline) -> bool:
    """A breached deadline done after all: its escalation steps not yet reached will not fire, and it
    keeps its breach (and no `met_at`: reports count it as breached, not met). False when there was
    nothing left to stop (or it was not breached)."""
    waiting = [step for step in deadline.escalations if not step.fired]
    if deadline.status is not DeadlineStatus.BREACHED or not waiting:
        return False
    for step in waiting:
        step.fired = True
    return True


def cancel(deadline: Deadline) -> bool:
    if not deadline.watching:
        return False
    deadline.status = DeadlineStatus.CANCELLED
    for step in deadline.escalations:
        step.fired = True
    return True


def extend(deadline: Deadline, new_due: datetime, reason: str, by: str, at: datetime) -> None:
    """Move the due instant; escalation steps not yet reached move by the same amount."""
    shift = new_due - deadline.due
    deadline.extensions.append(Extension(previous_due=deadline.due, new_due=new_due, reason=reason, by=by, at=at))
    deadline.due = new_due
    deadline.status = DeadlineStatus.EXTENDED
    for step in deadline.escalations:
        if not step.fired:
            step.at = step.at + shift


def next_instant(deadlines: dict[SlaName, Deadline], skip: Collection[SlaName] = ()) -> tuple[datetime, SlaName] | None:
    """The earliest instant at which something is due to fire, and the SLA it guards."""
    candidates: list[tuple[datetime, SlaName]] = []
    for deadline in deadlines.values():
        if deadline.sla in skip:
            continue
        if deadline.open:
            candidates.append((deadline.due, deadline.sla))
        candidates.extend(
            (step.at, deadline.sla) for step in deadline.escalations if not step.fired and deadline.watching
        )
    return min(candidates, key=lambda item: item[0]) if candidates else None


@dataclass(frozen=True)
class Fired:
    sla: SlaName
    breached: bool
    escalate_to: Role | None


def fire_due(deadlines: dict[SlaName, Deadline], now: datetime, skip: Collection[SlaName] = ()) -> list[Fired]:
    """Breach what is past due and fire reached escalation steps, in time order."""
    fired: list[tuple[datetime, int, Fired]] = []
    for deadline in deadlines.values():
        if deadline.sla in skip:
            continue
        if deadline.open and deadline.due <= now:
            deadline.status = DeadlineStatus.BREACHED
            deadline.breached_at = deadline.due
            fired.append((deadline.due, 0, Fired(deadline.sla, True, deadline.on_breach)))
        if deadline.status is DeadlineStatus.BREACHED:
            for step in deadline.escalations:
                if not step.fired and step.at <= now:
                    step.fired = True
                    fired.append((step.at, 1, Fired(deadline.sla, False, step.to)))
    return [item for _, _, item in sorted(fired, key=lambda item: (item[0], item[1]))]
