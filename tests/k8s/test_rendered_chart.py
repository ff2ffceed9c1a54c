"""Dapr's own chart at the pinned version, rendered by the real helm with k8s/values-ha.yaml:
the committed render is what helm makes today, and it holds the HA control plane we claim."""

from __future__ import annotations

import os
import re

import yaml
from k8s_files import K8S, RENDERED, documents, find, k8s_script

from workbook.config import RUNTIME_VERSION

VALUES = yaml.safe_load((K8S / "values-ha.yaml").read_text())
STORAGE = VALUES["dapr_scheduler"]["cluster"]["storageSize"]


def test_the_committed_renders_are_what_helm_renders_now(k8s_bin, tmp_path):
    """A stale render (values, chart, helm or an app manifest changed, no `make k8s`) fails."""
    k8s_script("render", env={**os.environ, "K8S_RENDERED_DIR": str(tmp_path)})
    for name in ("dapr-ha.yaml", "droids.yaml", "droids-injected.yaml"):
        fresh, committed = (tmp_path / name).read_text(), (RENDERED / name).read_text()
        assert fresh == committed, f"k8s/rendered/{name} is stale: run make k8s and commit it"


def test_the_render_is_of_the_pinned_chart_with_helm_3_22(dapr_docs):
    header = (RENDERED / "dapr-ha.yaml").read_text().splitlines()[:3]
    assert "with helm v3.22.0" in header[0]
    assert f"github.com/dapr/dapr@v{RUNTIME_VERSION}," in header[1]
    images = {
        container["image"]
        for doc in dapr_docs
        if doc["kind"] in ("Deployment", "StatefulSet")
        for container in doc["spec"]["template"]["spec"]["containers"]
    }
    assert images == {
        f"ghcr.io/dapr/{name}:{RUNTIME_VERSION}"
        for name in ("operator", "placement", "scheduler", "sentry", "injector")
    }


def test_three_schedulers_each_with_a_volume_claim_of_the_chosen_size(dapr_docs):
    assert STORAGE == "16Gi"
    scheduler = find(dapr_docs, "StatefulSet", "dapr-scheduler-server")
    assert scheduler["metadata"]["namespace"] == "dapr-system"
    assert scheduler["spec"]["replicas"] == 3
    [claim] = scheduler["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "dapr-scheduler-data-dir"
    assert claim["spec"]["resources"]["requests"]["storage"] == STORAGE
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    args = scheduler["spec"]["template"]["spec"]["containers"][0]["args"]
    peers = args[args.index("--etcd-initial-cluster") + 1].split(",")
    assert [peer.split("=")[0] for peer in peers] == [
        f"dapr-scheduler-server-{i}" for i in range(3)
    ]


def required_anti_affinity(statefulset: dict) -> list[dict]:
    affinity = statefulset["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert "preferredDuringSchedulingIgnoredDuringExecution" not in affinity
    return affinity["requiredDuringSchedulingIgnoredDuringExecution"]


def test_no_two_schedulers_or_placements_may_share_a_node(dapr_docs):
    for name in ("dapr-scheduler-server", "dapr-placement-server"):
        [term] = required_anti_affinity(find(dapr_docs, "StatefulSet", name))
        assert term["topologyKey"] == "kubernetes.io/hostname"
        [expression] = term["labelSelector"]["matchExpressions"]
        assert expression == {"key": "app", "operator": "In", "values": [name]}


def test_placement_in_ha_three_raft_peers_on_volumes(dapr_docs):
    placement = find(dapr_docs, "StatefulSet", "dapr-placement-server")
    assert placement["spec"]["replicas"] == 3
    args = placement["spec"]["template"]["spec"]["containers"][0]["args"]
    peers = args[args.index("--initial-cluster") + 1].split(",")
    assert [peer.split("=")[0] for peer in peers] == [
        f"dapr-placement-server-{i}" for i in range(3)
    ]
    [claim] = placement["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "raft-log"


def test_the_rest_of_the_control_plane_runs_three_replicas(dapr_docs):
    for name in ("dapr-operator", "dapr-sentry", "dapr-sidecar-injector"):
        assert find(dapr_docs, "Deployment", name)["spec"]["replicas"] == 3, name


def test_disruption_budgets_keep_a_majority_of_schedulers_and_placements(dapr_docs):
    budgets = {
        doc["spec"]["selector"]["matchLabels"]["app"]: doc["spec"]
        for doc in dapr_docs
        if doc["kind"] == "PodDisruptionBudget"
    }
    for app in ("dapr-scheduler-server", "dapr-placement-server"):
        # 25% of 3 rounds up to one pod: never two of three down at once by a drain.
        assert budgets[app].get("maxUnavailable") == "25%", budgets[app]


def test_the_crds_come_with_the_render(dapr_docs, chart_dir):
    crds = {
        doc["metadata"]["name"] for doc in dapr_docs if doc["kind"] == "CustomResourceDefinition"
    }
    in_chart = {
        doc["metadata"]["name"]
        for path in sorted((chart_dir / "crds").glob("*.yaml"))
        for doc in documents(path)
    }
    assert crds == in_chart
    assert "configurations.dapr.io" in crds
    assert "components.dapr.io" in crds


def test_values_name_only_keys_the_chart_has(chart_dir):
    """A misspelt key in values-ha.yaml is silently ignored by helm: check each against the
    chart's own values.yaml (and the scheduler subchart's)."""
    chart_values = yaml.safe_load((chart_dir / "values.yaml").read_text())
    chart_values["dapr_scheduler"] = yaml.safe_load(
        (chart_dir / "charts" / "dapr_scheduler" / "values.yaml").read_text()
    )

    def paths(tree: dict, prefix: str = "") -> set[str]:
        found = set()
        for key, value in tree.items():
            found.add(prefix + key)
            if isinstance(value, dict) and value:
                found |= paths(value, f"{prefix}{key}.")
        return found

    ours, theirs = paths(VALUES), paths(chart_values)
    assert ours <= theirs, f"keys the chart does not have: {sorted(ours - theirs)}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", VALUES["global"]["tag"])
