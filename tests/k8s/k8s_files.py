"""What the tests of tests/k8s share: the paths, k8s/k8s.sh, reading multi-document YAML."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
RENDERED = K8S / "rendered"


def k8s_script(*args: str, env: dict | None = None, timeout: float = 60) -> str:
    """Run k8s/k8s.sh and return its stdout; a failure shows its stderr."""
    done = subprocess.run(
        ["bash", str(K8S / "k8s.sh"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert done.returncode == 0, f"k8s/k8s.sh {' '.join(args)}: {done.stderr}{done.stdout}"
    return done.stdout


# libyaml's loader when PyYAML has it: the rendered chart is 3,600 lines, read by every worker.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.load_all(path.read_text(), Loader=LOADER) if doc]


def find(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} named {name}"
    return found[0]
