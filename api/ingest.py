"""Start or advance a deal's handoff from CRM events: the rules every ingestion route shares.

Signal-with-start, not update-with-start: it answers without waiting for a worker, so a webhook is
acknowledged as soon as Temporal holds the start durably (DECISIONS.md "Messages").
"""

from __future__ import annotations

import asyncio
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import TemporalUnavailable
from api.ingest_plan import DOCUMENT, EventOutcome, Outcome, Planned, plan, summary
from domain.crm_fields import CrmDocumentChange
from domain.document import DocumentPatch
from domain.events import DealEvent
from domain.messages import StageChanged
from domain.policy import Policy
from domain.stages import StageKind
from domain.state import Outcome as HandoffOutcome
from domain.state import Phase
from store.engine import session_scope
from store.repository import was_handed_off
from store.tables import HandoffRow
from workflows import search_attributes
from workflows.handoff import DealHandoffWorkflow, HandoffInput
from workflows.message_names import HandoffSignal

_START_KIND = "baton_start"
CONCURRENT_DEALS = 16
# One deal's start decisions run one at a time in this process. A CRM redelivers a won event in bursts
# (the drill posts 200 at once); without this, every request of the burst describes "no run yet",
# signal-with-start hands them all the same new run, and each answered `started`. Weak values: a lock
# lives only while some request holds or awaits it. Separate API replicas can still both say `started`
# for one run (the run itself is still one: USE_EXISTING).
_DEAL_LOCKS: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def _deal_lock(workflow_id: str) -> asyncio.Lock:
    lock = _DEAL_LOCKS.get(workflow_id)
    if lock is None:
        lock = _DEAL_LOCKS[workflow_id] = asyncio.Lock()
    return lock


def _store_says(engine: Engine, workflow_id: str) -> tuple[bool, bool]:
    """(handed off, lost before it was ever won) as the read model remembers it, which outlives
    Temporal's retention."""
    with session_scope(engine) as session:
        row = session.execute(
            select(col(HandoffRow.outcome), col(HandoffRow.won_at)).where(col(HandoffRow.workflow_id) == workflow_id)
        ).first()
        lost_pre_close = row is not None and row.outcome == HandoffOutcome.LOST.value and row.won_at is None
        return was_handed_off(session, workflow_id), lost_pre_close


class Ingest:
    def __init__(self, client: Client, policy: Policy, engine: Engine, task_queue: str, rpc_timeout: float) -> None:
        self.client, self.policy, self.engine, self.task_queue = client, policy, engine, task_queue
        self.rpc_timeout = timedelta(seconds=rpc_timeout)

    async def _bounded(self, call):
        """`rpc_timeout` bounds one gRPC attempt only: while Temporal is down the SDK retries a refused
        connection for about 10 s (the fault drill measured it), past the 5 s a HubSpot webhook waits.
        The whole call gets the bound here, so the CRM gets its 503 (and retries) in time."""
        try:
            async with asyncio.timeout(self.rpc_timeout.total_seconds()):
                return await call
        except TimeoutError:
            raise TemporalUnavailable("Temporal did not answer in time; retry later") from None

    async def run(self, events: list[DealEvent]) -> list[EventOutcome]:
        """Deals run side by side (a batch of 100 must beat HubSpot's 5-second timeout); one deal's
        events run in order, so a pre-close stage followed by the win in one batch stays in order."""
        planned = plan(events, self.policy, learned_at=datetime.now(UTC))
        by_deal: dict[str, list[int]] = {}
        for index, item in enumerate(planned):
            by_deal.setdefault(item.workflow_id, []).append(index)
        outcomes: list[Outcome | None] = [None] * len(planned)
        limit = asyncio.Semaphore(CONCURRENT_DEALS)

        async def one_deal(indexes: list[int]) -> None:
            async with limit:
                for index in indexes:
                    outcomes[index] = await self._one(planned[index])

        results = await asyncio.gather(*(one_deal(ix) for ix in by_deal.values()), return_exceptions=True)
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:
            raise failure
        return [
            EventOutcome(
                workflow_id=item.workflow_id,
                deal_id=item.event.deal_id,
                stage=item.event.stage,
                kind=item.kind,
                outcome=outcome,
            )
            for item, outcome in zip(planned, outcomes, strict=True)
        ]

    async def _one(self, item: Planned) -> Outcome:
        if item.kind is StageKind.WON:
            async with _deal_lock(item.workflow_id):
                return await self._won(item)
        if item.kind is StageKind.PRE_CLOSE:
            async with _deal_lock(item.workflow_id):
                return await self._pre_close(item)
        if item.kind is StageKind.LOST:
            return await self._lost(item)
        if item.kind == DOCUMENT:
            return await self._document(item)
        return Outcome.IGNORED

    async def _won(self, item: Planned) -> Outcome:
        handed_off, _ = await asyncio.to_thread(_store_says, self.engine, item.workflow_id)
        if handed_off:
            return Outcome.DUPLICATE if _running(await self._describe(item.workflow_id)) else Outcome.ALREADY_HANDED_OFF
        # The common case, a deal seen for the first time, is one call: a plain start that fails if any
        # run of this id exists. Only then is the existing run described and signalled.
        try:
            await self._start(item, WorkflowIDReusePolicy.REJECT_DUPLICATE, new_only=True)
            return Outcome.STARTED
        except WorkflowAlreadyStartedError:
            pass
        before = await self._describe(item.workflow_id)
        if before is not None and not _running(before):
            return await self._after_close(item, before)
        try:
            run_id = await self._start(item, WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            return await self._after_close(item, await self._describe(item.workflow_id))
        return await self._classify(item, before, run_id)

    async def _after_close(self, item: Planned, closed: WorkflowExecutionDescription | None) -> Outcome:
        """Only a deal whose pre-close run ended lost may have its id reused: it was won after all. A deal
        lost after its win keeps its one handoff; a late won event for it starts nothing."""
        if not await self._ended_lost(item.workflow_id, closed):
            return Outcome.ALREADY_HANDED_OFF
        await self._start(item, WorkflowIDReusePolicy.ALLOW_DUPLICATE)
        return Outcome.STARTED

    async def _pre_close(self, item: Planned) -> Outcome:
        before = await self._describe(item.workflow_id)
        if before is not None and not _running(before):
            return Outcome.IGNORED
        try:
            run_id = await self._start(item, WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            return Outcome.IGNORED
        return await self._classify(item, before, run_id)

    async def _lost(self, item: Planned) -> Outcome:
        handle = self.client.get_workflow_handle_for(DealHandoffWorkflow.run, item.workflow_id)
        signal = StageChanged(stage=item.event.stage, kind=StageKind.LOST, at=item.event.occurred_at)
        try:
            await self._bounded(handle.signal(DealHandoffWorkflow.stage_changed, signal, rpc_timeout=self.rpc_timeout))
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return Outcome.IGNORED
        return Outcome.ENDED

    async def _document(self, item: Planned) -> Outcome:
        """Document properties changed in the CRM reach a running handoff as a signal (the system, not a
        person, sends it: DECISIONS.md "Messages"); a deal with no running handoff has nothing to change."""
        handle = self.client.get_workflow_handle_for(DealHandoffWorkflow.run, item.workflow_id)
        change = CrmDocumentChange(
            fields=item.crm_document or DocumentPatch(), submit=item.submit, at=item.event.occurred_at
        )
        try:
            await self._bounded(
                handle.signal(DealHandoffWorkflow.crm_document_changed, change, rpc_timeout=self.rpc_timeout)
            )
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return Outcome.IGNORED
        return Outcome.DOCUMENT_UPDATED

    async def _start(self, item: Planned, reuse: WorkflowIDReusePolicy, new_only: bool = False) -> str | None:
        """Signal-with-start: a new run from the event, or the event signalled to the running one.
        `new_only`: a plain start that raises WorkflowAlreadyStartedError if a run exists (a new run
        needs no signal: its input carries the event)."""
        won = item.kind is StageKind.WON
        event = item.event
        deal = item.deal
        if deal is None:  # `plan` gives won and pre-close events (the only ones started) their deal
            raise ValueError(f"{item.workflow_id}: a {item.kind} event has no deal to start a handoff from")
        # Keyword arguments of `start_workflow`, left out entirely for a plain start.
        signal: dict[str, Any] = (
            {}
            if new_only
            else {
                # The SDK takes a start signal by name only: the name the handler is registered under.
                "start_signal": HandoffSignal.STAGE_CHANGED,
                "start_signal_args": [
                    StageChanged(
                        stage=event.stage,
                        kind=item.kind,
                        deal=deal,
                        document=item.document,
                        at=event.occurred_at,
                        crm_document=item.crm_document,
                    )
                ],
            }
        )
        handle = await self._bounded(
            self.client.start_workflow(
                DealHandoffWorkflow.run,
                HandoffInput(
                    deal=deal,
                    policy=self.policy,
                    document=item.document,
                    won=won,
                    learned_at=item.learned_at if won else None,
                    crm_document=item.crm_document,
                ),
                id=item.workflow_id,
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL if new_only else WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=reuse,
                **signal,
                static_summary=summary(deal, self.policy),
                memo={_START_KIND: item.kind},
                rpc_timeout=self.rpc_timeout,
            )
        )
        return handle.result_run_id

    async def _classify(
        self, item: Planned, before: WorkflowExecutionDescription | None, run_id: str | None
    ) -> Outcome:
        """Signal-with-start does not say (on every server) whether it started a run, so compare runs."""
        if before is None or not _running(before) or run_id != before.run_id:
            return Outcome.STARTED
        if item.kind is not StageKind.WON:
            return Outcome.DUPLICATE
        phase = before.typed_search_attributes.get(search_attributes.PHASE)
        # Before its first workflow task a run has no phase yet; its start memo tells what it began as.
        began_pre_close = phase is None and await before.memo_value(_START_KIND, None) == StageKind.PRE_CLOSE
        return Outcome.ADVANCED if phase == Phase.PRE_CLOSE.value or began_pre_close else Outcome.DUPLICATE

    async def _describe(self, workflow_id: str) -> WorkflowExecutionDescription | None:
        try:
            return await self._bounded(
                self.client.get_workflow_handle(workflow_id).describe(rpc_timeout=self.rpc_timeout)
            )
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return None

    async def _ended_lost(self, workflow_id: str, closed: WorkflowExecutionDescription | None) -> bool:
        _, lost = await asyncio.to_thread(_store_says, self.engine, workflow_id)
        if lost or closed is None or closed.status != WorkflowExecutionStatus.COMPLETED:
            return lost
        handle = self.client.get_workflow_handle_for(DealHandoffWorkflow.run, workflow_id, run_id=closed.run_id)
        state = await self._bounded(handle.result(rpc_timeout=self.rpc_timeout))
        return state.outcome is HandoffOutcome.LOST and state.facts.won_at is None


def _running(description: WorkflowExecutionDescription | None) -> TypeGuard[WorkflowExecutionDescription]:
    return description is not None and description.status == WorkflowExecutionStatus.RUNNING
