"""runtime/install.sh in a temporary HOME: which Dapr home it chooses, that it leaves a Dapr it
did not install byte-for-byte intact, and that a warm set-up needs neither Go nor the network.

No real build runs here: the workbook's own home is prepared with stand-in binaries carrying
the workbook's stamp, and a stand-in `go` records every call (the real one is off PATH).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbook import config

INSTALL = config.ROOT / "runtime" / "install.sh"
V = config.RUNTIME_VERSION
CLI_V = config.pinned_versions()["DAPR_CLI_VERSION"]
# A warm set-up took 0.1-0.9 s with stand-in binaries on the shared 2-core machine (load 8);
# the bound leaves room for a busier moment, and still fails a set-up that builds or downloads.
WARM_SETUP_BOUND_S = 5.0


def write_exe(path: Path, script: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def fake_dapr_home(home: Path, version: str, *, stamp: str | None = None) -> Path:
    """bin/daprd answering `--version` with `version`, scheduler, placement, a component."""
    write_exe(home / "bin" / "daprd", f'[ "$1" = --version ] && echo {version}\n')
    write_exe(home / "bin" / "scheduler", "exit 0\n")
    write_exe(home / "bin" / "placement", "exit 0\n")
    (home / "components").mkdir(parents=True, exist_ok=True)
    (home / "components" / "statestore.yaml").write_text("kind: Component\n")
    (home / "config.yaml").write_text("kind: Configuration\n")
    if stamp:
        (home / "bin" / ".workbook-runtime-version").write_text(stamp)
    return home


def tree_digest(root: Path) -> dict[str, tuple[str, int]]:
    """Every file and folder under root: sha256 of its bytes (folders: "dir") and its mode."""
    digest = {}
    for path in sorted(root.rglob("*")):
        kind = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
        digest[str(path.relative_to(root))] = (kind, path.stat().st_mode)
    return digest


def path_without_go() -> str:
    """The current PATH minus every folder holding a `go` (or `dapr`) executable."""
    keep = []
    for folder in os.environ["PATH"].split(os.pathsep):
        if not any(os.access(Path(folder) / tool, os.X_OK) for tool in ("go", "dapr")):
            keep.append(folder)
    return os.pathsep.join(keep)


class Sandbox:
    """A temporary HOME; `tools` is a folder put first on PATH for stand-in go/dapr."""

    def __init__(self, tmp: Path):
        self.home = tmp / "home"
        self.home.mkdir()
        self.tools = tmp / "tools"
        self.tools.mkdir()
        self.go_calls = tmp / "go-calls.txt"
        self.workbook_home = self.home / ".local" / "share" / "dapr-jobs-workbook"
        self.own_home = self.workbook_home / f"dapr-{V}" / ".dapr"
        self.record = self.workbook_home / f"runtime-{V}.env"
        self.refusal = self.workbook_home / "refused" / f"github.com_dapr_cli@v{CLI_V}.txt"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "HOME": str(self.home),
            "PATH": f"{self.tools}{os.pathsep}{path_without_go()}",
            "GOPROXY": "off",
            "DAPR_BUILD_DIR": str(self.home / "build"),
        }
        return env | extra

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(INSTALL), *args],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def stand_in_go(self, download_error: str | None = None) -> None:
        """A `go` that records its calls; `go mod download` fails with `download_error`."""
        error = download_error or "unexpected call"
        write_exe(
            self.tools / "go",
            f'echo "$*" >> {self.go_calls}\n'
            'case "$1 $2" in\n'
            f"  'mod download') printf '%s' '{{\"Error\": \"{error}\"}}'; exit 1 ;;\n"
            "  'env GOPROXY') echo off ;;\n"
            "esac\n",
        )

    def go_call_count(self) -> int:
        return len(self.go_calls.read_text().splitlines()) if self.go_calls.exists() else 0

    def prepared_own_home(self) -> Path:
        """The workbook's own build, as a finished earlier set-up leaves it."""
        return fake_dapr_home(self.own_home, V, stamp=f"{V}\ncomponents=workbook\nkubernetes=no\n")

    def record_refusal(self) -> None:
        self.refusal.parent.mkdir(parents=True, exist_ok=True)
        self.refusal.write_text(f"module: github.com/dapr/cli@v{CLI_V}\ndate: 2026-12-01\n")

    def python_dapr_home(self, **extra: str) -> str:
        """What workbook/config.py resolves in this sandbox."""
        code = "from workbook import config; print(config.DAPR_HOME, config.DAPR_HOME_ORIGIN)"
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=self.env(**extra),
            cwd=config.ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()


@pytest.fixture
def box(tmp_path) -> Sandbox:
    return Sandbox(tmp_path)


def cli_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "CLI" in line]


def test_a_foreign_1_17_install_is_left_intact_and_the_workbook_home_is_used(box):
    foreign = fake_dapr_home(box.home / ".dapr", "1.17.0")
    before = tree_digest(foreign)
    box.prepared_own_home()
    box.record_refusal()

    out = box.run()

    assert out.returncode == 0, out.stderr
    assert f"{foreign} holds daprd 1.17.0" not in out.stdout  # reused own home: nothing to say
    assert f"Dapr runtime {V} in {box.own_home}/bin (the workbook's build, reused)." in out.stdout
    assert tree_digest(foreign) == before
    assert box.record.read_text().splitlines()[1:] == [
        f"DAPR_HOME={box.own_home}",
        "DAPR_HOME_ORIGIN=workbook",
        f"DAPR_RUNTIME_PATH={box.own_home.parent}",
    ]
    assert box.python_dapr_home() == f"{box.own_home} workbook"


def test_an_official_looking_1_18_3_install_is_reused_as_it_is(box):
    official = fake_dapr_home(box.home / ".dapr", "1.18.3")  # no workbook stamp
    (official / "config.yaml").unlink()  # a home without config.yaml must stay without one
    before = tree_digest(official)
    box.record_refusal()

    out = box.run()

    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == (
        f"[runtime] Dapr runtime 1.18.3 in {official}/bin: reused as it is "
        "(the workbook writes nothing there)."
    )
    assert tree_digest(official) == before
    assert not box.own_home.exists()
    assert box.python_dapr_home() == f"{official} reused"


def test_without_a_usable_install_the_dry_run_names_the_workbook_home_and_writes_nothing(box):
    foreign = fake_dapr_home(box.home / ".dapr", "1.17.0")
    (foreign / "bin" / "placement").unlink()
    before = tree_digest(box.home)

    out = box.run("--dry-run")

    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[:2] == [
        f"[runtime] would build Dapr runtime {V} (components: workbook) into {box.own_home}/bin.",
        f"[runtime] {foreign} (daprd 1.17.0, no placement) would be left as it is.",
    ]
    assert tree_digest(box.home) == before
    assert box.go_call_count() == 0


def test_an_own_build_from_before_the_kubernetes_code_was_left_out_is_rebuilt_once(box):
    box.prepared_own_home()
    stamp = box.own_home / "bin" / ".workbook-runtime-version"
    stamp.write_text(f"{V}\ncomponents=workbook\n")  # as builds before kubernetes=no wrote it

    out = box.run("--dry-run")

    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == (
        f"[runtime] would build Dapr runtime {V} (components: workbook) into {box.own_home}/bin."
    )


def test_a_build_needed_without_go_is_a_clear_error_and_touches_nothing(box):
    foreign = fake_dapr_home(box.home / ".dapr", "1.17.0")
    before = tree_digest(foreign)

    out = box.run()

    assert out.returncode == 1
    assert f"Dapr {V} must be built into {box.own_home}" in out.stderr
    assert "Install Go 1.26.6 or newer" in out.stderr
    assert tree_digest(foreign) == before


def test_an_explicit_dapr_home_with_a_foreign_dapr_is_refused_not_replaced(box):
    explicit = fake_dapr_home(box.home / "opt" / "dapr", "1.17.0")
    before = tree_digest(explicit)

    out = box.run(DAPR_HOME=str(explicit))

    assert out.returncode == 1
    assert out.stderr.strip() == (
        f"[runtime] ERROR: DAPR_HOME={explicit} holds a Dapr the workbook did not install "
        "(daprd 1.17.0, not 1.18.x with scheduler and placement). The workbook leaves it alone: "
        "unset DAPR_HOME, or point it at an empty folder."
    )
    assert tree_digest(explicit) == before
    assert not box.record.exists()


def test_an_explicit_dapr_home_with_dapr_1_18_is_reused_and_named_by_python(box):
    explicit = fake_dapr_home(box.home / "opt" / ".dapr", "1.18.0")
    before = tree_digest(explicit)
    box.record_refusal()

    out = box.run(DAPR_HOME=str(explicit))

    assert out.returncode == 0, out.stderr
    assert f"Dapr runtime 1.18.0 in {explicit}/bin: reused as it is" in out.stdout
    assert tree_digest(explicit) == before
    assert box.python_dapr_home(DAPR_HOME=str(explicit)) == f"{explicit} explicit"


def test_an_explicit_dapr_home_the_workbook_built_is_named_as_its_build(box):
    explicit = box.prepared_own_home()
    box.record_refusal()

    out = box.run(DAPR_HOME=str(explicit))

    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == (
        f"[runtime] Dapr runtime {V} in {explicit}/bin (a build of the workbook's, reused; "
        "make extras may add sentry and etcdctl)."
    )


def test_python_without_a_record_asks_install_sh_for_the_same_choice(box):
    fake_dapr_home(box.home / ".dapr", "1.16.1")
    assert not box.record.exists()
    assert box.python_dapr_home() == f"{box.own_home} workbook"
    official = fake_dapr_home(box.home / ".dapr", "1.18.2")
    assert box.python_dapr_home() == f"{official} reused"


def test_a_warm_set_up_needs_no_go_and_no_network_and_says_one_line_about_the_cli(box):
    box.prepared_own_home()
    box.record_refusal()
    box.stand_in_go()  # on PATH only to catch a call: the set-up must not make one

    start = time.monotonic()
    out = box.run()
    elapsed = time.monotonic() - start

    assert out.returncode == 0, out.stderr
    assert box.go_call_count() == 0
    assert cli_lines(out.stdout) == [
        f"[runtime] Dapr CLI: not built; the Go module proxy refused github.com/dapr/cli@v{CLI_V}"
        f" on 2026-12-01 ({box.refusal}); `workbook run` stands in. Retry: make runtime RETRY_CLI=1"
    ]
    assert len(out.stdout.splitlines()) == 2
    assert elapsed < WARM_SETUP_BOUND_S


def test_a_warm_set_up_with_go_absent_from_path_succeeds(box):
    box.prepared_own_home()
    box.record_refusal()
    assert shutil.which("go", path=box.env()["PATH"]) is None

    out = box.run()

    assert out.returncode == 0, out.stderr
    assert len(cli_lines(out.stdout)) == 1


def test_without_go_and_without_a_record_the_cli_is_one_line_and_the_set_up_succeeds(box):
    box.prepared_own_home()

    out = box.run()

    assert out.returncode == 0, out.stderr
    assert cli_lines(out.stdout) == [
        "[runtime] Dapr CLI: not built (no Go on PATH); `workbook run` stands in."
    ]
    assert not box.refusal.exists()


def test_a_refused_cli_module_is_recorded_once_and_not_asked_again(box):
    box.prepared_own_home()
    error = f"github.com/dapr/cli@v{CLI_V}: reading https://proxy/x.zip: 403 Forbidden"
    box.stand_in_go(download_error=error)

    first = box.run()
    assert first.returncode == 0, first.stderr
    assert box.go_call_count() == 2  # go mod download, go env GOPROXY
    text = box.refusal.read_text()
    assert text.startswith(f"module: github.com/dapr/cli@v{CLI_V}\ndate: 20")
    assert f"error:\n  {error}" in text

    second = box.run()
    assert second.returncode == 0, second.stderr
    assert box.go_call_count() == 2
    assert len(cli_lines(second.stdout)) == 1

    retried = box.run(RETRY_CLI="1")
    assert retried.returncode == 0, retried.stderr
    assert box.go_call_count() == 4


def test_a_real_cli_1_18_on_path_is_used_and_none_is_built(box):
    box.prepared_own_home()
    box.stand_in_go()
    dapr = write_exe(
        box.tools / "dapr", 'echo "CLI version: 1.18.0"\necho "Runtime version: n/a"\n'
    )

    out = box.run()

    assert out.returncode == 0, out.stderr
    assert cli_lines(out.stdout) == [
        f"[runtime] Dapr CLI 1.18.0 on PATH ({dapr}): `make run` uses it; none is built."
    ]
    assert box.go_call_count() == 0


def test_make_follows_the_recorded_home(box):
    box.prepared_own_home()
    box.record_refusal()
    assert box.run().returncode == 0
    out = subprocess.run(
        ["make", "--no-print-directory", "-s", "-p", "-n", "runtime"],
        cwd=config.ROOT,
        env=box.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    exported_path = next(line for line in out.stdout.splitlines() if line.startswith("PATH :="))
    assert f"{box.own_home}/bin" in exported_path.split(":")
    assert f"{config.ROOT}/.venv/bin" in exported_path


def test_the_venv_installs_uv_from_its_own_hashed_lines_of_the_lock(tmp_path):
    """`make venv` installs uv with pip from uv's lines of requirements/dev.txt, then the lock
    with uv: those lines must be exactly uv's pin with every hash the lock has for it."""
    recipe = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "-B",
            "VENV=" + str(tmp_path),
            f"{tmp_path}/.installed",
        ],
        cwd=config.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    extract = next(line for line in recipe.splitlines() if line.startswith("sed "))
    subprocess.run(["bash", "-c", extract], cwd=config.ROOT, check=True, timeout=10)

    lines = (tmp_path / "uv-requirement.txt").read_text().splitlines()
    lock = (config.ROOT / "requirements" / "dev.txt").read_text()
    pin = next(line.split()[0] for line in lock.splitlines() if line.startswith("uv=="))
    assert lines[0] == f"{pin} \\"
    hashes = [line.strip().removesuffix(" \\") for line in lines[1:]]
    assert hashes
    assert all(h.startswith("--hash=sha256:") for h in hashes)
    assert all(line.endswith(" \\") for line in lines[:-1])
    assert not lines[-1].endswith("\\")
    assert lock.count(hashes[-1]) == 1
    assert f"{pin} \\\n" + "\n".join(lines[1:]) in lock
