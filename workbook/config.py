"""Where things live: the repository, its state folder, the pinned Dapr install."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("WORKBOOK_STATE_DIR", ROOT / ".state"))
DAPR_HOME = Path(os.environ.get("DAPR_HOME", Path.home() / ".dapr"))
DAPR_BIN = DAPR_HOME / "bin"


def pinned_versions() -> dict[str, str]:
    """The versions in runtime/versions.env, e.g. {"DAPR_RUNTIME_VERSION": "1.18.3", ...}."""
    versions = {}
    for line in (ROOT / "runtime" / "versions.env").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            versions[key.strip()] = value.strip()
    return versions


RUNTIME_VERSION = pinned_versions()["DAPR_RUNTIME_VERSION"]


def dapr_binary(name: str) -> Path:
    """Path of an installed Dapr binary; a clear error when the runtime is not installed."""
    path = DAPR_BIN / name
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(
            f"{path} is missing: install the pinned Dapr runtime with `make runtime` "
            f"(builds Dapr {RUNTIME_VERSION} from its Go modules)."
        )
    return path
