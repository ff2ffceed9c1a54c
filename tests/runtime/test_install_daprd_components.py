"""The daprd the workbook uses registers every component the repository uses, and its actor
runtime runs (issue 13 keeps actor reminders in state.in-memory); a trimmed build
(runtime/daprd-components.txt) must keep all of them."""

from __future__ import annotations

import json
import urllib.request

from workbook.runtime.controlplane import ControlPlane
from workbook.runtime.sidecar import Sidecar

COMPONENTS = """\
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: every-hour}
spec:
  type: bindings.cron
  version: v1
  metadata: [{name: schedule, value: "@every 1h"}]
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: actor-store}
spec:
  type: state.in-memory
  version: v1
  metadata: [{name: actorStateStore, value: "true"}]
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: messages}
spec:
  type: pubsub.in-memory
  version: v1
"""


def test_daprd_loads_the_repositorys_components_and_runs_actors(tmp_path):
    resources = tmp_path / "resources"
    resources.mkdir()
    (resources / "components.yaml").write_text(COMPONENTS)
    with ControlPlane.isolated(tmp_path / "control-plane") as plane:
        sidecar = Sidecar(
            "components-check",
            scheduler_address=plane.scheduler_address,
            placement_address=plane.placement_address,
            resources_path=resources,
            log_path=tmp_path / "daprd.log",
        )
        with sidecar, urllib.request.urlopen(f"{sidecar.http_url}/v1.0/metadata", timeout=5) as r:
            metadata = json.load(r)

    loaded = {(c["name"], c["type"], c["version"]) for c in metadata["components"]}
    assert loaded == {
        ("every-hour", "bindings.cron", "v1"),
        ("actor-store", "state.in-memory", "v1"),
        ("messages", "pubsub.in-memory", "v1"),
    }
    store = next(c for c in metadata["components"] if c["name"] == "actor-store")
    assert "ACTOR" in store["capabilities"]
    assert metadata["actorRuntime"]["runtimeStatus"] == "RUNNING"
    assert metadata["actorRuntime"]["placement"] == "placement: connected"
