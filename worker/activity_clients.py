"""The clients each activity class owns (CRMs, notification sinks, the usage source), built once from
the worker's settings. Unconfigured systems are left out: the CRM activities fall back to a no-op
client, notifications always reach the log, and usage is recorded as not measured."""

from __future__ import annotations

import logging

from activities.crm import CrmClient
from activities.crm_clients import HubSpotCrm, PipedriveCrm, SalesforceCrm
from activities.notify_sinks import EmailSink, LogSink, Sink, SlackSink, WebhookSink
from activities.usage import HttpUsageSource, NoUsageSource, UsageSource
from worker.settings import WorkerSettings

log = logging.getLogger("baton.worker")


def crm_clients(settings: WorkerSettings) -> dict[str, CrmClient]:
    """A client per CRM whose credentials are set (the settings refuse a half-configured one)."""
    clients: dict[str, CrmClient] = {}
    if token := settings.hubspot_token.get_secret_value():
        clients["hubspot"] = HubSpotCrm(token, settings.hubspot_api_url, hold_property=settings.hubspot_hold_property)
    if token := settings.salesforce_token.get_secret_value():
        clients["salesforce"] = SalesforceCrm(
            settings.salesforce_instance_url,
            token,
            settings.salesforce_api_version,
            hold_field=settings.salesforce_hold_field,
        )
    if token := settings.pipedrive_api_token.get_secret_value():
        clients["pipedrive"] = PipedriveCrm(token, settings.pipedrive_api_url, hold_field=settings.pipedrive_hold_field)
    return clients


def notify_sinks(settings: WorkerSettings) -> list[Sink]:
    """LogSink always, then Slack, e-mail and the signed webhook when configured."""
    sinks: list[Sink] = [LogSink()]
    public_url = settings.public_url or None
    if slack_url := settings.slack_webhook_url.get_secret_value():
        sinks.append(SlackSink(slack_url, public_url))
    if email := email_sink(settings):
        sinks.append(email)
    if settings.webhook_url:
        sinks.append(WebhookSink(settings.webhook_url, settings.webhook_secret.get_secret_value()))
    # Names only: Slack webhook URLs and webhook secrets are credentials.
    log.info("notify sinks: %s", ", ".join(s.name for s in sinks))
    return sinks


def email_sink(settings: WorkerSettings) -> EmailSink | None:
    """The SMTP connection notices and the customer introductions share (None: not configured)."""
    if not settings.smtp_host:
        return None
    return EmailSink(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        recipients_by_role=settings.notify_emails,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username or None,
        password=settings.smtp_password.get_secret_value() or None,
        public_url=settings.public_url or None,
    )


def usage_source(settings: WorkerSettings) -> UsageSource:
    if settings.usage_url:
        return HttpUsageSource(settings.usage_url, settings.usage_token.get_secret_value())
    return NoUsageSource()
