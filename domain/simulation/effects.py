"""What each effect the handoff rules ask for does on the virtual clock: the simulator's counterpart
of workflows/handoff_effects.py, and the one place a simulated effect is carried out.

Outside calls take no virtual time. A CSM choice answers after the instant's own work, as the
workflow hears of it after the activity's round trip; a child starts before the next effect, as the
workflow awaits it. A notice (or an introduction) is resolved to people from the scenario's
directory at the instant it is asked for; CRM writes and e-mails change nothing a timeline shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

from domain import effects as fx
from domain.approach_kinds import Approach
from domain.child_runs import OnboardingRun, PostCheckRun
from domain.csm_choice import assignment_day, directory_team
from domain.directory import Directory
from domain.introductions import compose
from domain.machine import HandoffMachine
from domain.onboarding import UsageReport
from domain.recipients import Audience, resolve
from domain.simulation.assignments import Assignments
from domain.state import ChildKind

# No directory: built once (a directory is validated as it is made, and a backtest runs thousands).
NOBODY = Directory()

# An answer from outside, applied at the instant it arrives.
Reply = Callable[[datetime], None]


@dataclass
class ChildRuns:
    """A handoff's children while they run (None: not started, or cancelled)."""

    onboarding: OnboardingRun | None = None
    post_check: PostCheckRun | None = None


class SimulatedEffects:
    def __init__(
        self,
        machine: HandoffMachine,
        children: ChildRuns,
        assignments: Assignments,
        usage: UsageReport,
        reply: Callable[[Reply], None],
        directory: Directory | None = None,
        notices: bool = True,
    ) -> None:
        """`notices=False`: notices and introductions are not resolved nor recorded (a backtest, whose
        figures come from the rules' state: the breaches and escalations, not who was told)."""
        self._notices = notices
        self._machine = machine
        self._directory = directory if directory is not None else NOBODY
        self._children = children
        self._assignments = assignments
        self.usage = usage
        self._reply = reply

    def run(self, effect: fx.Effect, now: datetime) -> None:
        match effect:
            case fx.Notify():
                # Resolved at once, as the workflow's local step does within its task; a notice from a
                # run before the people rules is on the timeline already.
                if self._notices and not effect.addressed:
                    self._address(effect, now)
            case fx.Introduce():
                if self._notices:
                    self._introduce(effect, now)
            case fx.CreateCrmTask() | fx.ReleaseCommission():
                pass
            case fx.AssignCsm():
                self._reply(lambda at: self._assign_csm(effect.team, at))
            case fx.StartOnboarding():
                self._children.onboarding = OnboardingRun(effect.input)
                self._machine.child_started(ChildKind.ONBOARDING, effect.workflow_id, now)
            case fx.StartPostCheck():
                self._children.post_check = PostCheckRun(effect.input, now)
                self._machine.child_started(ChildKind.POST_CHECK, effect.workflow_id, now)
            case fx.EndChildren():
                self._children.onboarding = self._children.post_check = None
            case _:
                assert_never(effect)

    def _address(self, notice: fx.Notify, now: datetime) -> None:
        day = assignment_day(now, self._machine.policy.calendar)
        audience = [Audience(place) for place in notice.to]
        resolution = resolve(audience, self._machine.people(), self._directory, day)
        self._machine.notice_addressed(notice, resolution, now)

    def _introduce(self, effect: fx.Introduce, now: datetime) -> None:
        """Composed for the people the scenario's directory names, as the workflow does before sending."""
        intro = effect.introduction
        day = assignment_day(now, self._machine.policy.calendar)
        resolution = resolve(intro.audience, self._machine.people(), self._directory, day)
        self._machine.introduced(intro, compose(intro, resolution.recipients), resolution, now)

    def _assign_csm(self, team_name: str, now: datetime) -> None:
        policy = self._machine.policy
        # As the store's choice does: the directory's CS team for the approach when it has CS teams.
        if self._directory.cs_teams:
            decision = self._machine.state.approach
            approach = decision.approach if decision else Approach.STRUCTURED
            found = directory_team(self._directory, approach)
            if found is None:
                self._machine.csm_chosen(None, team_name, f"no CS team in the directory serves {approach.value}", now)
                return
            team = found
        else:
            team = next(team for team in policy.teams if team.name == team_name)
        day = assignment_day(now, policy.calendar)
        pick = self._assignments.choose(self._machine.state.workflow_id, team, day)
        self._machine.csm_chosen(pick.csm, team.name, pick.reason, now)
