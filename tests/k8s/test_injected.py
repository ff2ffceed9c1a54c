"""Our pods as Dapr's own sidecar injector patches them (k8s/rendered/droids-injected.yaml, made
offline by k8s/injectorcheck around pkg/injector/patcher of the 1.18.3 runtime): the daprd it adds
has the app's id, port, health check and token, and every control-plane address in its arguments
names a Service of the rendered chart, on a port that Service has."""

from __future__ import annotations

import pytest
from k8s_files import RENDERED, documents, find

from workbook.config import RUNTIME_VERSION


@pytest.fixture(scope="module")
def pods() -> dict[str, dict]:
    return {
        doc["metadata"]["labels"]["app"]: doc
        for doc in documents(RENDERED / "droids-injected.yaml")
    }


def daprd(pod: dict) -> dict:
    found = [
        c
        for c in pod["spec"]["containers"] + pod["spec"].get("initContainers", [])
        if c["name"] == "daprd"
    ]
    assert len(found) == 1, [c["name"] for c in pod["spec"]["containers"]]
    return found[0]


def flags(container: dict) -> dict[str, str | None]:
    """daprd's arguments as flag -> value (None for a flag without one)."""
    args, parsed = container["args"][1:], {}
    for i, arg in enumerate(args):
        if arg.startswith("--"):
            following = args[i + 1] if i + 1 < len(args) else "--"
            parsed[arg] = None if following.startswith("--") else following
    return parsed


def test_both_pods_get_the_pinned_daprd(pods):
    assert sorted(pods) == ["job-scheduler", "job-service"]
    for pod in pods.values():
        assert daprd(pod)["image"] == f"ghcr.io/dapr/daprd:{RUNTIME_VERSION}"
        assert pod["metadata"]["labels"]["dapr.io/sidecar-injected"] == "true"


def test_job_services_sidecar_serves_the_app_and_job_scheduler(pods):
    sidecar = daprd(pods["job-service"])
    args = flags(sidecar)
    assert args["--app-id"] == "job-service"
    assert args["--app-port"] == "6200"
    assert args["--app-protocol"] == "http"
    assert args["--enable-app-health-check"] is None
    assert args["--app-health-check-path"] == "/healthz"
    # reachable from job-scheduler's pod, behind the token from the Secret
    assert args["--dapr-listen-addresses"] == "0.0.0.0"  # noqa: S104 (a check, not a bind)
    env = {item["name"]: item for item in sidecar["env"]}
    assert env["DAPR_API_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "droids-dapr-api-token",
        "key": "token",
    }
    ports = {port["name"]: port["containerPort"] for port in sidecar["ports"]}
    service = find(documents(RENDERED / "droids.yaml"), "Service", "job-service-dapr-api")
    assert service["spec"]["ports"][0]["targetPort"] == ports["dapr-http"]
    assert sidecar["resources"] == {
        "requests": {"cpu": "100m", "memory": "64Mi"},
        "limits": {"memory": "256Mi"},
    }


def test_job_schedulers_sidecar_is_native_so_the_job_can_end(pods):
    pod = pods["job-scheduler"]
    assert [c["name"] for c in pod["spec"]["containers"]] == ["job-scheduler"]
    [sidecar] = pod["spec"]["initContainers"]
    assert sidecar["name"] == "daprd"
    assert sidecar["restartPolicy"] == "Always"  # a Kubernetes sidecar: stopped when the app ends
    args = flags(sidecar)
    assert args["--app-id"] == "job-scheduler"
    assert "--app-port" not in args
    assert args["--dapr-listen-addresses"] == "[::1],127.0.0.1"


def test_the_apps_are_told_their_sidecars_ports(pods):
    for app, pod in pods.items():
        [container] = [c for c in pod["spec"]["containers"] if c["name"] == app]
        env = {item["name"]: item.get("value") for item in container["env"]}
        assert env["DAPR_HTTP_PORT"] == "3500", app
        assert env["DAPR_GRPC_PORT"] == "50001", app


def test_every_control_plane_address_names_a_service_of_the_rendered_chart(pods, dapr_docs):
    services = {
        f"{doc['metadata']['name']}.{doc['metadata']['namespace']}.svc.cluster.local": {
            port["port"] for port in doc["spec"]["ports"]
        }
        for doc in dapr_docs
        if doc["kind"] == "Service"
    }
    for app, pod in pods.items():
        args = flags(daprd(pod))
        for flag in (
            "--scheduler-host-address",
            "--placement-host-address",
            "--sentry-address",
            "--control-plane-address",
        ):
            host, port = args[flag].rsplit(":", 1)
            assert host in services, f"{app}: {flag} {args[flag]} names no Service of the chart"
            assert int(port) in services[host], f"{app}: {flag} {args[flag]}: no such port"
