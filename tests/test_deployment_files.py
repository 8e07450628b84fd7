"""The scaled-out deployment (docker-compose.yml, Dockerfile, deploy/) holds together without Docker:
the structure is checked from the YAML, and `docker-compose config` runs too where it is installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from workflows import search_attributes

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
DASHBOARDS = DEPLOY / "grafana" / "dashboards"

# The names `temporal operator search-attribute create --type` takes, by the SDK's indexed type.
CLI_TYPE = {
    "KEYWORD": "Keyword",
    "DOUBLE": "Double",
    "BOOL": "Bool",
    "DATETIME": "Datetime",
    "INT": "Int",
    "TEXT": "Text",
}
DASHBOARD_METRICS = [
    "baton_handoffs_started_total",
    "baton_sla_breaches_total",
    "baton_http_requests_total",
    "baton_http_request_duration_seconds",
    "temporal_workflow_completed",
    "temporal_activity_execution_latency",
]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


def command_text(service: dict) -> str:
    parts = [service.get("entrypoint") or [], service.get("command") or []]
    return "\n".join(" ".join(part) if isinstance(part, list) else str(part) for part in parts)


def env(service: dict) -> dict[str, str]:
    found = service.get("environment") or {}
    if isinstance(found, list):
        found = dict(item.split("=", 1) for item in found)
    return {key: str(value) for key, value in found.items()}


def services_running(services: dict[str, dict], needle: str) -> list[str]:
    return [name for name, service in services.items() if needle in command_text(service)]


def test_every_service_has_an_image_or_a_build(services):
    missing = [name for name, service in services.items() if "image" not in service and "build" not in service]
    assert not missing


def test_images_are_pinned_and_auto_setup_is_not_used(services):
    assert "temporalio/auto-setup" not in COMPOSE_FILE.read_text()
    for name, service in services.items():
        image = service.get("image")
        if image is None:
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image}"
    images = {service.get("image", "").split(":")[0] for service in services.values()}
    assert {"postgres", "temporalio/server", "temporalio/admin-tools", "temporalio/ui"} <= images


def test_schema_job_creates_both_temporal_databases_before_the_server(services):
    [job] = services_running(services, "temporal-sql-tool")
    text = command_text(services[job])
    assert services[job]["image"].startswith("temporalio/admin-tools:")
    assert services[job]["restart"] == "no"
    assert "--plugin postgres12" in text
    for schema in ("temporal", "visibility"):
        assert f"/etc/temporal/schema/postgresql/v12/{schema}/versioned" in text
    assert re.search(r"for db in temporal temporal_visibility", text)
    for step in ("create", "setup-schema", "update-schema"):
        assert re.search(rf"\b{step}\b", text), step

    server = services["temporal"]
    assert server["image"].startswith("temporalio/server:")
    assert env(server)["DB"] == "postgres12"
    assert env(server)["POSTGRES_SEEDS"] == "postgresql"
    assert server["depends_on"][job]["condition"] == "service_completed_successfully"
    assert services["postgresql"]["image"].startswith("postgres:16")
    assert "healthcheck" in services["postgresql"]


def test_namespace_job_registers_every_search_attribute_with_its_type(services):
    [job] = services_running(services, "search-attribute create")
    text = command_text(services[job])
    assert services[job]["restart"] == "no"
    assert "temporal operator namespace create -n default" in text
    registered = dict(re.findall(r"\b(Baton\w+)=(\w+)", text))
    expected = {key.name: CLI_TYPE[key.indexed_value_type.name] for key in search_attributes.ALL}
    assert len(expected) == 11
    assert registered == expected


def test_baton_processes_share_temporal_and_the_database(services):
    api, worker = env(services["baton-api"]), env(services["baton-worker"])
    for variable in (
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "DATABASE_URL",
        "BATON_TASK_QUEUE",
        "BATON_CODEC_KEYS",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ):
        assert api[variable] == worker[variable], variable
    assert api["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert re.match(r"postgresql(\+psycopg2)?://[^@]+@postgresql:5432/baton$", api["DATABASE_URL"])
    for job in ("baton-migrate", "baton-setup"):
        assert env(services[job])["DATABASE_URL"] == api["DATABASE_URL"]
        assert env(services[job])["TEMPORAL_ADDRESS"] == api["TEMPORAL_ADDRESS"]


def test_baton_services_run_the_documented_commands(services):
    assert services["baton-migrate"]["command"] == ["baton", "db", "upgrade"]
    assert services["baton-setup"]["command"] == ["baton", "temporal", "setup"]
    assert services["baton-worker"]["command"] == ["baton", "worker"]
    assert services["baton-api"]["command"] == ["baton", "api", "--host", "0.0.0.0", "--port", "8000"]
    assert "8000:8000" in services["baton-api"]["ports"]
    for name in ("baton-api", "baton-worker"):
        for job in ("baton-migrate", "baton-setup"):
            assert services[name]["depends_on"][job]["condition"] == "service_completed_successfully"


def test_secrets_are_placeholders_not_values(services):
    api = env(services["baton-api"])
    for secret in ("BATON_HUBSPOT_CLIENT_SECRET", "BATON_API_KEYS", "BATON_CODEC_KEYS"):
        assert api[secret] == f"${{{secret}:-}}"


def test_workers_scale_without_colliding(services):
    worker = services["baton-worker"]
    assert "ports" not in worker and "container_name" not in worker
    assert worker["deploy"]["replicas"] >= 2


def test_ui_decodes_payloads_through_the_api_codec(services):
    ui = env(services["temporal-ui"])
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    assert ui["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert re.search(r"/codec\}?$", ui["TEMPORAL_CODEC_ENDPOINT"])


def test_observability_profile_holds_prometheus_grafana_and_jaeger_only(services):
    profiled = {name for name, service in services.items() if "observability" in service.get("profiles", [])}
    assert profiled == {"prometheus", "grafana", "jaeger"}
    unprofiled = {name for name, service in services.items() if not service.get("profiles")}
    assert unprofiled == set(services) - profiled


def test_bind_mounts_exist(services):
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source}"


def test_prometheus_scrapes_services_that_exist(services):
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = []
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets += static["targets"]
        for dns in job.get("dns_sd_configs", []):
            targets += [f"{host}:{dns['port']}" for host in dns["names"]]
    assert "baton-worker:9464" in targets
    assert "baton-api:8000" in targets
    for target in targets:
        host = target.split(":")[0]
        assert host in services, target
    worker_env = env(services["baton-worker"])
    assert worker_env["BATON_WORKER_METRICS_ADDRESS"].endswith(":9464")


def test_one_grafana_dashboard_charts_the_baton_and_sdk_metrics():
    [dashboard_file] = DASHBOARDS.glob("*.json")
    dashboard = json.loads(dashboard_file.read_text())
    expressions = " ".join(target["expr"] for panel in dashboard["panels"] for target in panel["targets"])
    for metric in DASHBOARD_METRICS:
        assert metric in expressions, metric
    assert "by (sla)" in expressions

    datasources = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uids = {source["uid"] for source in datasources["datasources"]}
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} <= uids
    providers = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "dashboards" / "baton.yml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_dockerfile_runs_the_api_as_a_non_root_user():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert re.search(r"^RUN pip install .*\.\s*(&&|$)", text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert 'CMD ["baton", "api", "--host", "0.0.0.0", "--port", "8000"]' in text


def compose_command() -> list[str] | None:
    """`docker compose` when the plugin answers, else `docker-compose`: a `docker` binary without the
    compose plugin exists on some machines, so the plugin is detected by running it, not by `which`."""
    docker = shutil.which("docker")
    if docker is not None:
        try:
            plugin = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            plugin = None
        if plugin is not None and plugin.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def test_docker_compose_accepts_the_file():
    """Compose itself validates the file (interpolation, schema, profiles, depends_on conditions).
    `make test` installs Debian's docker-compose where neither form works, so in CI this never skips."""
    command = compose_command()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail("neither `docker compose` nor `docker-compose` works; `make test` installs docker-compose")
        pytest.skip("neither `docker compose` nor `docker-compose` works here (`make compose` installs it)")
    result = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
