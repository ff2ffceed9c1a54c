"""k8svalidate (k8s/tools: client-go 0.37 strict decoding, the Dapr CRDs' openAPIV3Schema with
pruning) accepts the renders, and refuses each mistake an API server would refuse."""

from __future__ import annotations

import subprocess

import pytest
from k8s_files import K8S, RENDERED


def validate(k8s_bin, chart_dir, *files) -> subprocess.CompletedProcess:
    return subprocess.run(
        [k8s_bin / "k8svalidate", "-crds", chart_dir / "crds", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_renders_are_valid_for_kubernetes_1_37_and_the_dapr_crds(k8s_bin, chart_dir):
    renders = ("dapr-ha.yaml", "droids.yaml", "droids-injected.yaml")
    done = validate(k8s_bin, chart_dir, *(RENDERED / name for name in renders))
    assert done.returncode == 0, done.stdout + done.stderr
    counts = dict(item.rsplit(" x", 1) for item in done.stdout.removeprefix("valid: ").split(", "))
    assert counts["apps/v1/StatefulSet"] == "2"  # scheduler and placement
    assert counts["apps/v1/Deployment"] == "4"  # operator, sentry, injector, job-service
    assert counts["batch/v1/Job"] == "1"
    assert counts["v1/Pod"] == "2"  # our two pods as the injector patches them
    assert counts["dapr.io/v1alpha1/Configuration"] == "1"  # daprsystem, checked by its CRD
    assert int(counts["apiextensions.k8s.io/v1/CustomResourceDefinition"]) >= 7


# the Deployment of k8s/apps/job-service.yaml, valid as it is
JOB_SERVICE = (K8S / "apps" / "job-service.yaml").read_text().split("\n---\n")[0]
CONFIGURATION = """apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: droids
spec:
"""
BROKEN = {
    # a misspelt field, a wrong type, a probe of the wrong shape: strict decoding of built-ins
    "unknown field": (
        JOB_SERVICE.replace("  replicas: 3", "  replica: 3"),
        'unknown field "spec.replica"',
    ),
    "wrong type": (JOB_SERVICE.replace("  replicas: 3", '  replicas: "three"'), "spec.replicas"),
    "misplaced field": (
        JOB_SERVICE.replace("            periodSeconds: 10", "            period: 10", 1),
        "unknown field",
    ),
    # custom resources against their CRD's schema: a wrong type, a field it would prune
    "custom resource type": (CONFIGURATION + "  mtls:\n    enabled: maybe\n", "spec.mtls.enabled"),
    "custom resource pruned": (CONFIGURATION + "  tracing:\n    samplingRat: '1'\n", "samplingRat"),
    "no such kind": (
        "apiVersion: dapr.io/v1alpha1\nkind: Job\nmetadata:\n  name: x\n",
        "no built-in kind",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_manifest_fails_with_its_reason(k8s_bin, chart_dir, tmp_path, case):
    manifest, reason = BROKEN[case]
    assert manifest != JOB_SERVICE  # the mistake was really made
    path = tmp_path / "broken.yaml"
    path.write_text(manifest)
    done = validate(k8s_bin, chart_dir, RENDERED / "droids.yaml", path)
    assert done.returncode == 1, done.stdout + done.stderr
    invalid = [line for line in done.stdout.splitlines() if line.startswith("INVALID")]
    assert len(invalid) == 1, done.stdout
    assert str(path) in invalid[0], done.stdout
    assert reason in invalid[0], invalid[0]
