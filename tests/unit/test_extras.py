"""runtime/extras.sh (sentry and etcdctl for the tests): where it puts them, and the same rule in
workbook.runtime.etcd_store.extras_bin; nothing is built here (--print-bin only)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from workbook import config
from workbook.runtime import etcd_store
from workbook.runtime.etcd_store import parse_key

SCRIPT = config.ROOT / "runtime" / "extras.sh"


def print_bin(tmp_path: Path, dapr_home: Path) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DAPR_HOME": str(dapr_home),
        "WORKBOOK_HOME": str(tmp_path / "wb"),
    }
    out = subprocess.run(
        ["bash", str(SCRIPT), "--print-bin"], env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_home_the_workbook_built_gets_them_in_its_bin(tmp_path):
    home = tmp_path / "ours" / ".dapr"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / ".workbook-runtime-version").write_text("1.18.3\ncomponents=workbook\n")
    assert print_bin(tmp_path, home) == str(home / "bin")


def test_a_foreign_home_is_never_written_to(tmp_path):
    home = tmp_path / "learner" / ".dapr"
    (home / "bin").mkdir(parents=True)  # e.g. `dapr init --slim`: no workbook stamp
    version = config.RUNTIME_VERSION
    assert print_bin(tmp_path, home) == str(tmp_path / "wb" / f"extras-{version}" / "bin")


def test_python_finds_them_by_the_same_rule(tmp_path, monkeypatch):
    bin_dir = tmp_path / "home" / "bin"
    bin_dir.mkdir(parents=True)
    monkeypatch.setattr(config, "DAPR_BIN", bin_dir)
    monkeypatch.setenv("WORKBOOK_HOME", str(tmp_path / "wb"))
    version = config.RUNTIME_VERSION
    assert etcd_store.extras_bin() == tmp_path / "wb" / f"extras-{version}" / "bin"
    (bin_dir / ".workbook-runtime-version").write_text(version)
    assert etcd_store.extras_bin() == bin_dir
    with pytest.raises(FileNotFoundError, match="make extras"):
        etcd_store.extras_binary("etcdctl")


@pytest.mark.parametrize(
    ("key", "parts"),
    [
        ("dapr/jobs/app||default||job-service||oil", ("app", "default", "job-service", "oil")),
        ("dapr/jobs/app||fleet||a||x||y", ("app", "fleet", "a", "x||y")),
        (
            "dapr/jobs/actorreminder||default||Droid||R2-D2||oil",
            ("actorreminder", "default", "Droid||R2-D2", "oil"),
        ),
    ],
)
def test_parse_key(key, parts):
    parsed = parse_key(key)
    assert (parsed.kind, parsed.namespace, parsed.owner, parsed.name) == parts


def test_parse_key_refuses_what_is_no_job_key():
    with pytest.raises(ValueError, match="not a job key"):
        parse_key("dapr/leadership/dapr-scheduler-server-0")
