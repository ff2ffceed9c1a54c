"""README.md is executable: mechanical-markdown runs every STEP against the real runtime."""

import os
import subprocess
import sys
from pathlib import Path

from workbook.config import ROOT


def test_readme_steps_pass():
    venv_bin = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}"}
    result = subprocess.run(
        [venv_bin / "mm.py", "-s", "bash -c", "README.md"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert result.stdout.count("Step: ") >= 9  # every STEP ran
