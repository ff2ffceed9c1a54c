"""README.md is executable: mechanical-markdown runs every STEP against the real runtime."""

import os
import re
import subprocess
import sys
from pathlib import Path

from workbook.config import ROOT

# The README's STEPs: the quickstart, then the one-at-a-time route (start job-service, wait for
# its sidecar, schedule R2-D2, wait for its trigger, schedule, get and delete C-3PO, get the
# deleted job, stop job-service).
EXPECTED_STEPS = 10


def test_readme_steps_pass():
    readme = (ROOT / "README.md").read_text()
    assert readme.count("<!-- STEP") == EXPECTED_STEPS
    venv_bin = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}"}
    result = subprocess.run(
        [venv_bin / "mm.py", "-s", "bash -c", "README.md"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    ran = re.findall(r"^Step: (.+)$", result.stdout, flags=re.MULTILINE)
    declared = re.findall(r"<!-- STEP\nname: (.+)\n", readme)
    assert ran == declared  # every STEP ran, in order, and mm.py reported no failure
    assert len(ran) == EXPECTED_STEPS
