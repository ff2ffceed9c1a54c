"""The droid apps' manifests (k8s/apps/, rendered into k8s/rendered/droids.yaml): annotations the
Dapr 1.18 sidecar injector reads, with values it can parse; ports, ids and images that agree
with dapr.yaml, the apps and pyproject.toml; probes that pass against the real job-service."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from k8s_files import ROOT, find

from workbook.runtime.processes import ManagedProcess, free_port
from workbook.runtime.waiting import wait_for_http

# A field of the injector's SidecarConfig: name, Go type, `annotation:"dapr.io/..."`.
INJECTOR_FIELD = re.compile(r'^\s*\w+\s+(\*?\w+)\s+`annotation:"(dapr\.io/[^"]+)"', re.MULTILINE)
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
RUN_TEMPLATE = {
    app["appID"]: app for app in yaml.safe_load((ROOT / "dapr.yaml").read_text())["apps"]
}


@pytest.fixture(scope="module")
def injector_reads(chart_dir) -> dict[str, str]:
    """Every annotation the 1.18.3 injector reads, with its Go type, from the runtime's source
    (pkg/injector/patcher/sidecar.go: the injector fills SidecarConfig from these tags)."""
    source = (chart_dir.parents[1] / "pkg" / "injector" / "patcher" / "sidecar.go").read_text()
    fields = {key: go_type for go_type, key in INJECTOR_FIELD.findall(source)}
    assert len(fields) > 50
    assert fields["dapr.io/app-id"] == "string"
    return fields


@pytest.fixture(scope="module")
def annotation_keys(chart_dir) -> set[str]:
    """The annotation keys package pkg/injector/annotations of the 1.18.3 runtime declares."""
    source = (
        chart_dir.parents[1] / "pkg" / "injector" / "annotations" / "annotations.go"
    ).read_text()
    return set(re.findall(r'^\s*Key\w+\s*=\s*"(dapr\.io/[^"]+)"', source, re.MULTILINE))


def pod_templates(droid_docs) -> dict[str, dict]:
    return {
        doc["metadata"]["name"]: doc["spec"]["template"]
        for doc in droid_docs
        if doc["kind"] in ("Deployment", "Job")
    }


def test_the_apps_are_a_deployment_of_three_and_a_job(droid_docs):
    assert find(droid_docs, "Deployment", "job-service")["spec"]["replicas"] == 3
    job = find(droid_docs, "Job", "job-scheduler")
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert sorted(pod_templates(droid_docs)) == ["job-scheduler", "job-service"]


def test_every_annotation_is_one_the_injector_reads_with_a_value_it_parses(
    droid_docs, injector_reads, annotation_keys
):
    for app, template in pod_templates(droid_docs).items():
        annotations = template["metadata"]["annotations"]
        assert annotations["dapr.io/enabled"] == "true"
        assert annotations["dapr.io/app-id"] == app
        for key, value in annotations.items():
            assert key in annotation_keys, f"{app}: pkg/injector/annotations has no {key}"
            assert key in injector_reads, f"{app}: the 1.18.3 injector never reads {key}"
            assert isinstance(value, str), f"{app}: {key} must be a string, not {value!r}"
            go_type = injector_reads[key].lstrip("*")
            if go_type == "bool":
                assert value in ("true", "false"), f"{app}: {key}={value!r}"
            elif go_type.startswith("int"):
                assert re.fullmatch(r"\d+", value), f"{app}: {key}={value!r}"


def test_a_misspelt_annotation_is_caught(injector_reads):
    """The check above can fail: the injector silently ignores what it does not read."""
    assert "dapr.io/app-port" in injector_reads
    assert "dapr.io/appport" not in injector_reads
    assert "dapr.io/app-health-check" not in injector_reads  # it is enable-app-health-check


def test_ids_and_ports_agree_with_the_run_template_and_the_app(droid_docs):
    service = pod_templates(droid_docs)["job-service"]
    annotations = service["metadata"]["annotations"]
    [container] = service["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert (
        annotations["dapr.io/app-port"]
        == env["APP_PORT"]
        == str(RUN_TEMPLATE["job-service"]["appPort"])
    )
    assert container["ports"] == [{"name": "app", "containerPort": 6200}]
    assert set(pod_templates(droid_docs)) == set(RUN_TEMPLATE)
    assert container["command"] == RUN_TEMPLATE["job-service"]["command"]
    scheduler = pod_templates(droid_docs)["job-scheduler"]["spec"]["containers"][0]
    assert scheduler["command"] == RUN_TEMPLATE["job-scheduler"]["command"]
    assert (
        "dapr.io/app-port"
        not in pod_templates(droid_docs)["job-scheduler"]["metadata"]["annotations"]
    )


def test_job_scheduler_reaches_job_service_sidecars_through_the_service(droid_docs):
    """The URL job-scheduler is given names the Service, which selects job-service's pods and
    targets their sidecars' HTTP API, which listens beyond loopback behind the API token."""
    service = find(droid_docs, "Service", "job-service-dapr-api")
    assert service["spec"]["selector"] == {"app": "job-service"}
    [port] = service["spec"]["ports"]
    assert port["targetPort"] == 3500
    container = pod_templates(droid_docs)["job-scheduler"]["spec"]["containers"][0]
    env = {item["name"]: item for item in container["env"]}
    assert env["JOB_SERVICE_DAPR_URL"]["value"] == f"http://job-service-dapr-api:{port['port']}"
    token = env["DAPR_API_TOKEN"]["valueFrom"]["secretKeyRef"]
    service_annotations = pod_templates(droid_docs)["job-service"]["metadata"]["annotations"]
    assert token == {"name": service_annotations["dapr.io/api-token-secret"], "key": "token"}
    # every interface of the pod, as the manifest says: a check of it, not a bind
    assert service_annotations["dapr.io/sidecar-listen-addresses"] == "0.0.0.0"  # noqa: S104
    labels = pod_templates(droid_docs)["job-service"]["metadata"]["labels"]
    assert labels == {"app": "job-service"}


def test_job_scheduler_schedules_through_the_url_it_is_given():
    code = "import job_scheduler.__main__ as app; print(app.SIDECAR)"
    env = {"JOB_SERVICE_DAPR_URL": "http://job-service-dapr-api:3500", "PATH": ""}
    shown = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert shown.stdout.strip() == "http://job-service-dapr-api:3500", shown.stderr
    local = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": ""},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert local.stdout.strip() == "http://127.0.0.1:6280", local.stderr


def test_every_container_has_requests_limits_and_runs_as_the_images_user(droid_docs):
    for app, template in pod_templates(droid_docs).items():
        spec = template["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 10001
        for container in spec["containers"]:
            assert container["image"] == f"dapr-jobs-droids:{VERSION}", app
            resources = container["resources"]
            assert set(resources["requests"]) == {"cpu", "memory"}, app
            assert "memory" in resources["limits"], app
        annotations = template["metadata"]["annotations"]
        assert {"dapr.io/sidecar-cpu-request", "dapr.io/sidecar-memory-limit"} <= set(annotations)
    user = re.search(r"^USER (\d+):", (ROOT / "Containerfile").read_text(), re.MULTILINE)
    assert user
    assert user.group(1) == "10001"


@pytest.fixture(scope="module")
def real_job_service(tmp_path_factory):
    """job-service itself (uvicorn on a free port, no Dapr needed), as the probes reach it."""
    port = free_port()
    log = tmp_path_factory.mktemp("probe") / "job-service.log"
    process = ManagedProcess(
        "job-service",
        [sys.executable, "-m", "job_service"],
        log_path=log,
        env={"APP_PORT": str(port)},
    ).start()
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=30, what="job-service")
        yield port
    finally:
        process.stop()


@pytest.mark.parametrize("probe", ["readinessProbe", "livenessProbe"])
def test_the_probes_pass_against_the_real_app_and_fail_without_it(
    droid_docs, real_job_service, probe
):
    [container] = pod_templates(droid_docs)["job-service"]["spec"]["containers"]
    command = container[probe]["exec"]["command"]
    assert command[0] == "python"
    run = [sys.executable, *command[1:]]
    timeout = container[probe]["timeoutSeconds"]
    up = subprocess.run(
        run, env={"APP_PORT": str(real_job_service)}, capture_output=True, timeout=30
    )
    assert up.returncode == 0, up.stderr
    down = subprocess.run(run, env={"APP_PORT": str(free_port())}, capture_output=True, timeout=30)
    assert down.returncode != 0
    assert b"Connection refused" in down.stderr
    assert timeout >= 2  # the probe's own urlopen timeout


def test_the_manifests_are_what_learners_apply(droid_docs):
    """droids.yaml is k8s/apps/*.yaml in one file: the same documents, in file order."""
    from_apps = [
        doc
        for path in sorted((ROOT / "k8s" / "apps").glob("*.yaml"))
        for doc in yaml.safe_load_all(Path(path).read_text())
        if doc
    ]
    assert droid_docs == from_apps
