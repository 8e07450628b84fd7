"""The worker's settings (every BATON_* variable it reads, through one class) and the activity classes'
clients built from them: CRMs, notification sinks, the usage source."""

from __future__ import annotations

import logging
import os

import pytest
from pydantic import ValidationError

from activities.crm_clients import HubSpotCrm, PipedriveCrm, SalesforceCrm
from activities.notify_sinks import EmailSink, LogSink, SlackSink
from activities.usage import HttpUsageSource, NoUsageSource
from domain.notifications import Notification
from domain.recipients import Recipient
from worker.activity_clients import crm_clients, notify_sinks, usage_source
from worker.settings import DEFAULT_CACHED_RUNS, WorkerSettings, get_settings

pytestmark = pytest.mark.unit

TOKEN = "secret-token-do-not-leak"
SENDER = "baton@example.com"
SECRET = "whsec-test-secret"
SLACK_URL = "https://hooks.slack.com/services/T1/B2/sl4cks3cret"
FULL_NOTIFY = {
    "BATON_SLACK_WEBHOOK_URL": SLACK_URL,
    "BATON_SMTP_HOST": "smtp.example.com",
    "BATON_SMTP_FROM": SENDER,
    "BATON_SMTP_USERNAME": "baton",
    "BATON_SMTP_PASSWORD": "smtp-pa55",
    "BATON_NOTIFY_EMAILS": "sales_manager=sm@x.com, cs_manager=csm@x.com",
    "BATON_WEBHOOK_URL": "https://receiver.example.com/baton",
    "BATON_WEBHOOK_SECRET": SECRET,
}


@pytest.fixture
def environ(monkeypatch):
    """The worker's settings as a process with exactly these variables would read them."""
    for name in list(os.environ):
        if name.startswith(("BATON_", "OTEL_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)

    def settings(variables: dict[str, str]) -> WorkerSettings:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return get_settings()

    return settings


def test_defaults_are_the_documented_ones(environ):
    settings = environ({})
    assert settings.worker_max_cached_workflows == DEFAULT_CACHED_RUNS == 250
    assert settings.worker_grace_seconds == 10 and settings.worker_metrics_address is None
    assert settings.task_queue == "baton" and settings.codec is None and settings.database_url is None
    assert crm_clients(settings) == {}
    assert isinstance(usage_source(settings), NoUsageSource)


def test_every_variable_is_read_by_its_documented_name(environ):
    settings = environ(
        {
            "BATON_WORKER_MAX_CACHED_WORKFLOWS": " 2000 ",
            "BATON_WORKER_GRACE_SECONDS": "2.5",
            "BATON_WORKER_METRICS_ADDRESS": "0.0.0.0:9464",
            "BATON_TASK_QUEUE": "baton-eu",
            "DATABASE_URL": "postgresql://baton@db:5432/baton",
            "BATON_POLICY": "/etc/baton/policy.yaml",
            "BATON_USAGE_URL": "https://usage.example.com/active",
            "BATON_USAGE_TOKEN": TOKEN,
            "BATON_LOG_FORMAT": "JSON",
        }
    )
    assert settings.worker_max_cached_workflows == 2000 and settings.worker_grace_seconds == 2.5
    assert settings.worker_metrics_address == "0.0.0.0:9464" and settings.task_queue == "baton-eu"
    assert settings.database_url == "postgresql://baton@db:5432/baton"
    assert settings.policy_file == "/etc/baton/policy.yaml" and settings.log_format == "json"
    assert isinstance(usage_source(settings), HttpUsageSource)
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("BATON_WORKER_MAX_CACHED_WORKFLOWS", "lots", "valid integer"),
        ("BATON_WORKER_MAX_CACHED_WORKFLOWS", "2.5", "valid integer"),
        ("BATON_WORKER_MAX_CACHED_WORKFLOWS", "10", "greater than or equal to 100"),
        ("BATON_WORKER_GRACE_SECONDS", "-1", "greater than or equal to 0"),
        ("BATON_SMTP_PORT", "smtp", "valid integer"),
        ("BATON_LOG_FORMAT", "xml", "'text' or 'json'"),
    ],
)
def test_a_bad_value_stops_the_worker_naming_the_setting(environ, variable, value, says):
    with pytest.raises(ValidationError) as refused:
        environ({"BATON_SMTP_HOST": "h", "BATON_SMTP_FROM": SENDER, variable: value})
    [error] = refused.value.errors()
    assert error["loc"] == (variable.removeprefix("BATON_").lower(),) and says in error["msg"]
    assert "input_value" not in str(refused.value)  # a refused value is never echoed: it may be a secret


def test_the_worker_limits_malloc_arenas_unless_the_environment_chose():
    import platform

    from worker.malloc import limit_arenas

    assert limit_arenas({"MALLOC_ARENA_MAX": "4"}) is False  # glibc already read the operator's choice
    # On glibc (Linux, as every Baton image and this suite's machines run), mallopt accepts the limit.
    assert limit_arenas({}) is (platform.libc_ver()[0] == "glibc")


# ---- CRMs ------------------------------------------------------------------------------------------


async def test_each_configured_crm_gets_its_client(environ):
    settings = environ(
        {
            "BATON_HUBSPOT_TOKEN": TOKEN,
            "BATON_HUBSPOT_API_URL": "http://127.0.0.1:9001/",
            "BATON_HUBSPOT_HOLD_PROPERTY": "ae_hold",
            "BATON_SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
            "BATON_SALESFORCE_TOKEN": TOKEN,
            "BATON_SALESFORCE_HOLD_FIELD": "AE_Hold__c",
            "BATON_PIPEDRIVE_API_TOKEN": TOKEN,
            "BATON_PIPEDRIVE_HOLD_FIELD": "a1b2c3",
        }
    )
    clients = crm_clients(settings)
    try:
        hubspot, salesforce, pipedrive = clients["hubspot"], clients["salesforce"], clients["pipedrive"]
        assert isinstance(hubspot, HubSpotCrm) and hubspot.hold_property == "ae_hold"
        assert hubspot._base_url == "http://127.0.0.1:9001"
        assert isinstance(salesforce, SalesforceCrm) and salesforce.hold_field == "AE_Hold__c"
        assert salesforce._base_url == "https://acme.my.salesforce.com/services/data/v61.0"
        assert isinstance(pipedrive, PipedriveCrm) and pipedrive.hold_field == "a1b2c3"
        assert all(TOKEN not in repr(client) for client in clients.values())
        assert TOKEN not in repr(settings)
    finally:
        for client in clients.values():
            await client.aclose()


def test_a_blank_token_configures_nothing(environ):
    assert crm_clients(environ({"BATON_HUBSPOT_TOKEN": "  \n"})) == {}


def test_half_configured_salesforce_is_an_error_naming_the_missing_variable(environ):
    with pytest.raises(ValidationError, match="BATON_SALESFORCE_TOKEN is unset"):
        environ({"BATON_SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com"})


# ---- notifications ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "names"),
    [
        ({}, ["log"]),
        ({"BATON_SLACK_WEBHOOK_URL": SLACK_URL}, ["log", "slack"]),
        ({"BATON_WEBHOOK_URL": "https://r.example.com", "BATON_WEBHOOK_SECRET": "s"}, ["log", "webhook"]),
        ({"BATON_SMTP_HOST": "smtp.example.com", "BATON_SMTP_FROM": SENDER}, ["log", "email"]),
        ({"BATON_WEBHOOK_SECRET": "s"}, ["log"]),
        (FULL_NOTIFY, ["log", "slack", "email", "webhook"]),
    ],
)
async def test_the_configured_sinks_are_built_and_no_secret_is_logged(environ, variables, names, caplog):
    settings = environ(variables)
    with caplog.at_level(logging.INFO, logger="baton.worker"):
        sinks = notify_sinks(settings)
    try:
        assert [s.name for s in sinks] == names
        assert isinstance(sinks[0], LogSink)
        for secret in ("sl4cks3cret", "smtp-pa55", SECRET):
            assert secret not in caplog.text and secret not in repr(sinks) and secret not in repr(settings)
    finally:
        for sink in sinks:
            await sink.aclose()


@pytest.mark.parametrize(
    ("extra", "port", "starttls", "login"),
    [
        ({}, 587, True, None),
        ({"BATON_SMTP_PORT": "2525", "BATON_SMTP_STARTTLS": "false"}, 2525, False, None),
        ({"BATON_SMTP_STARTTLS": "Yes", "BATON_SMTP_USERNAME": "u", "BATON_SMTP_PASSWORD": "p"}, 587, True, "u"),
        ({"BATON_SMTP_PORT": "", "BATON_SMTP_STARTTLS": ""}, 587, True, None),  # set but empty: the default
    ],
)
def test_email_settings(environ, extra, port, starttls, login):
    settings = environ(
        {
            "BATON_SMTP_HOST": "smtp.example.com",
            "BATON_SMTP_FROM": SENDER,
            "BATON_NOTIFY_EMAILS": "sales_manager=sm@x.com,cs_manager=csm@x.com",
        }
        | extra
    )
    [_, sink] = notify_sinks(settings)

    assert isinstance(sink, EmailSink)
    assert (sink.host, sink.port, sink.sender, sink.starttls) == ("smtp.example.com", port, SENDER, starttls)
    assert sink.recipients_by_role == {"sales_manager": "sm@x.com", "cs_manager": "csm@x.com"}
    old_run = Notification(
        key="k", workflow_id="w", event="e", to=["cs_manager", "vp_sales", "x@y.com"], subject="s", text="t"
    )
    assert [r.email for r in sink.addressees(old_run)] == ["csm@x.com", "x@y.com"]
    assert sink._username == login


def test_the_public_url_is_the_base_of_the_links_slack_and_email_send(environ):
    settings = environ(
        {
            "BATON_SLACK_WEBHOOK_URL": SLACK_URL,
            "BATON_SMTP_HOST": "smtp.example.com",
            "BATON_SMTP_FROM": SENDER,
            "BATON_PUBLIC_URL": "https://baton.example.com/",
        }
    )
    [_, slack, email] = notify_sinks(settings)
    n = Notification(key="k", workflow_id="w", event="e", subject="s", text="t", crm="hubspot", deal_id="7")

    assert isinstance(slack, SlackSink) and isinstance(email, EmailSink)
    assert slack.text(n).endswith("<https://baton.example.com/h/hubspot/7|Open the handoff>")
    assert email.body(n, Recipient(id="x", email="x@y.com")).endswith("https://baton.example.com/h/hubspot/7\n")


@pytest.mark.parametrize(
    ("variables", "says"),
    [
        ({"BATON_WEBHOOK_URL": "https://r.example.com"}, "BATON_WEBHOOK_SECRET is not"),
        ({"BATON_SMTP_HOST": "smtp.example.com"}, "BATON_SMTP_FROM is not an address"),
        ({"BATON_SMTP_HOST": "h", "BATON_SMTP_FROM": SENDER, "BATON_SMTP_PORT": "smtp"}, "smtp_port"),
        ({"BATON_SMTP_HOST": "h", "BATON_SMTP_FROM": SENDER, "BATON_SMTP_STARTTLS": "maybe"}, "smtp_starttls"),
        ({"BATON_SMTP_HOST": "h", "BATON_SMTP_FROM": SENDER, "BATON_SMTP_USERNAME": "u"}, "set together"),
        ({"BATON_SMTP_HOST": "h", "BATON_SMTP_FROM": SENDER, "BATON_NOTIFY_EMAILS": "sales_manager"}, "role=address"),
        (
            {"BATON_SMTP_HOST": "h", "BATON_SMTP_FROM": SENDER, "BATON_NOTIFY_EMAILS": "cs_manager=nobody"},
            "role=address",
        ),
    ],
)
def test_half_a_configuration_is_refused_naming_it(environ, variables, says):
    with pytest.raises(ValidationError, match=says):
        environ(variables)
