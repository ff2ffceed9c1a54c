"""The Kubernetes side, offline: the real helm, actionlint and k8svalidate (built from k8s/tools
by k8s/k8s.sh, once), Dapr's chart from the Go module of the pinned runtime, the committed
renders in k8s/rendered/."""

from __future__ import annotations

from pathlib import Path

import pytest
from k8s_files import RENDERED, documents, k8s_script


@pytest.fixture(scope="session")
def k8s_bin() -> Path:
    """The directory of helm, actionlint and k8svalidate, built if k8s/tools changed (a cold
    build takes minutes: `make k8s` and `make test` build them before the tests)."""
    k8s_script("tools", timeout=1800)
    return Path(k8s_script("bin-dir").strip())


@pytest.fixture(scope="session")
def chart_dir() -> Path:
    """charts/dapr inside the Go module github.com/dapr/dapr at the pinned runtime version."""
    return Path(k8s_script("chart-dir").strip())


@pytest.fixture(scope="session")
def dapr_docs() -> list[dict]:
    return documents(RENDERED / "dapr-ha.yaml")


@pytest.fixture(scope="session")
def droid_docs() -> list[dict]:
    return documents(RENDERED / "droids.yaml")
