"""What a Baton worker runs; the tests register the same lists."""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.crm import CrmActivities
from activities.introductions import IntroductionActivities
from activities.notify import NotifyActivities
from activities.recipients import RecipientActivities
from activities.report_activities import ReportActivities
from activities.store_activities import StoreActivities
from activities.usage import UsageActivities
from store.engine import make_engine
from worker.activity_clients import crm_clients, email_sink, notify_sinks, usage_source
from worker.settings import WorkerSettings
from workflows.governance import MonthlyGovernanceWorkflow
from workflows.handoff import DealHandoffWorkflow
from workflows.onboarding import OnboardingTransitionWorkflow
from workflows.post_check import PostHandoffCheckWorkflow

# Modules the workflow sandbox shares instead of re-importing for every new run: the pure domain
# package (deterministic, no I/O), the libraries its models are built on, and the workflow code itself.
# Re-importing them per run was the worker's largest CPU cost under load, and re-importing workflows/
# alone took about 12 ms of every new handoff's first workflow task.
_SHARED = (
    "domain",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_inspection",
    "yaml",
    "activities",
    "store",
    "sqlalchemy",
    "sqlmodel",
    "httpx",
    "cryptography",
    "opentelemetry",
)
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(*_SHARED, "workflows")
)

# The same, but workflows/ re-imported inside the sandbox for every run, so a non-deterministic call in
# workflow code (the clock, randomness, I/O) fails rather than passing silently. The replay tests run
# every saved history under it: the guard is kept where it catches mistakes, and production is not
# charged for it on every run.
STRICT_WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(*_SHARED)
)

WORKFLOWS = [DealHandoffWorkflow, OnboardingTransitionWorkflow, PostHandoffCheckWorkflow, MonthlyGovernanceWorkflow]


def activities_of(
    crm: CrmActivities,
    notify: NotifyActivities,
    store: StoreActivities,
    usage: UsageActivities,
    recipients: RecipientActivities | None = None,
    introductions: IntroductionActivities | None = None,
) -> list:
    return [
        crm.fetch_deal,
        crm.create_task,
        crm.release_commission,
        notify.notify,
        (recipients or RecipientActivities()).resolve_recipients,
        (introductions or IntroductionActivities()).send_introduction,
        store.record,
        store.assign_csm,
        usage.lookup,
    ]


def build_activities(settings: WorkerSettings) -> list:
    """Each activity class built once from the worker's settings, owning its clients."""
    engine = make_engine(settings.database_url)
    handoff = activities_of(
        CrmActivities(crm_clients(settings)),
        NotifyActivities(notify_sinks(settings)),
        StoreActivities(engine),
        UsageActivities(usage_source(settings)),
        introductions=IntroductionActivities(email_sink(settings), settings.templates_dir or None),
    )
    return [*handoff, ReportActivities(engine).governance]
