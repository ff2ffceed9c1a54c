"""Where things live: the repository, its state folder, the Dapr install the workbook uses.

Which Dapr home is decided in one place, runtime/install.sh (DAPR_HOME when set, else a
`~/.dapr` holding Dapr 1.18.x, else the workbook's own build outside the clone). The set-up
records its choice in `$WORKBOOK_HOME/runtime-<version>.env`; this module reads that record,
and only without one asks `install.sh --print-home` (no network, no Go) for the same answer.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("WORKBOOK_STATE_DIR", ROOT / ".state"))


def scratch_dir() -> Path:
    """Where throwaway control planes and experiments keep their data and logs: `.state/tmp`,
    or WORKBOOK_TMP_DIR when set (`make test` puts it on a RAM disk: see tests/side_by_side.sh)."""
    root = Path(os.environ.get("WORKBOOK_TMP_DIR") or STATE_DIR / "tmp")
    root.mkdir(parents=True, exist_ok=True)
    return root


def pinned_versions() -> dict[str, str]:
    """The versions in runtime/versions.env, e.g. {"DAPR_RUNTIME_VERSION": "1.18.3", ...}."""
    return parse_key_values((ROOT / "runtime" / "versions.env").read_text())


def parse_key_values(text: str) -> dict[str, str]:
    """`KEY=value` lines (comments and blank lines ignored), as install.sh writes them."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.lstrip().startswith("#"):
            values[key.strip()] = value.strip()
    return values


RUNTIME_VERSION = pinned_versions()["DAPR_RUNTIME_VERSION"]


def workbook_home() -> Path:
    """The workbook's own folder outside the clone (its Dapr build, its records)."""
    if os.environ.get("WORKBOOK_HOME"):
        return Path(os.environ["WORKBOOK_HOME"])
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "dapr-jobs-workbook"


def home_record() -> Path:
    return workbook_home() / f"runtime-{RUNTIME_VERSION}.env"


def resolve_dapr_home() -> dict[str, str]:
    """DAPR_HOME, DAPR_HOME_ORIGIN (explicit | reused | workbook), maybe DAPR_RUNTIME_PATH."""
    if os.environ.get("DAPR_HOME"):
        home = Path(os.environ["DAPR_HOME"])
        chosen = {"DAPR_HOME": str(home), "DAPR_HOME_ORIGIN": "explicit"}
        if home.name == ".dapr":
            chosen["DAPR_RUNTIME_PATH"] = str(home.parent)
        return chosen
    record = home_record()
    if record.is_file():
        return parse_key_values(record.read_text())
    script = ROOT / "runtime" / "install.sh"
    out = subprocess.run(
        ["bash", str(script), "--print-home"], capture_output=True, text=True, timeout=60
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip() or f"{script} --print-home failed")
    return parse_key_values(out.stdout)


ORIGINS = {
    "explicit": "set by DAPR_HOME",
    "reused": "an existing Dapr install, used as it is",
    "workbook": "the workbook's own build",
}

_resolved = resolve_dapr_home()
DAPR_HOME = Path(_resolved["DAPR_HOME"])
DAPR_HOME_ORIGIN = _resolved.get("DAPR_HOME_ORIGIN", "explicit")
DAPR_BIN = DAPR_HOME / "bin"
# What the real Dapr CLI needs to find this home (it looks in $DAPR_RUNTIME_PATH/.dapr).
DAPR_RUNTIME_PATH = _resolved.get("DAPR_RUNTIME_PATH")


def describe_dapr_home() -> str:
    """One line for status output, e.g. "/root/.dapr/bin (an existing Dapr install, ...)"."""
    return f"{DAPR_BIN} ({ORIGINS.get(DAPR_HOME_ORIGIN, DAPR_HOME_ORIGIN)})"


def dapr_binary(name: str) -> Path:
    """Path of an installed Dapr binary; a clear error when the runtime is not installed."""
    path = DAPR_BIN / name
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(
            f"{path} is missing: install the Dapr runtime with `make runtime` "
            f"(reuses a Dapr 1.18 install or builds Dapr {RUNTIME_VERSION} from its Go modules; "
            f"Dapr home: {describe_dapr_home()})."
        )
    return path
