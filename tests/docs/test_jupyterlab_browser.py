"""A learner's path, in a real browser: `workbook lab` starts JupyterLab, Debian's chromium
opens notebook 01, types the solution of *Your turn 1.1* into its exercise cell, runs all cells
from the Run menu, and sees the trigger's output and the exercise's check pass."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import sync_playwright

from workbook.config import ROOT, STATE_DIR
from workbook.notebooks.solutions import find_exercises
from workbook.runtime.processes import free_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = STATE_DIR / "screenshots" / "jupyterlab.png"
NOTEBOOK = "01_schedule_get_delete.ipynb"
EXERCISE = "1.1"
# What a sandboxed, offline root session needs (no background network, no GPU, no sandbox).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def jupyterlab(tmp_path):
    """`workbook lab` serving a copy of the notebooks (JupyterLab autosaves what it runs)."""
    root = tmp_path / "notebooks"
    root.mkdir()
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, root)
    process = subprocess.Popen(
        [
            Path(sys.executable).parent / "workbook",
            "lab",
            "--port",
            str(free_port()),
            "--root",
            root,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump():
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    started = time.monotonic()
    url = None
    while url is None:
        try:
            line = lines.get(timeout=max(0.1, 120 - (time.monotonic() - started)))
        except queue.Empty:
            pytest.fail("JupyterLab did not start in 120 s:\n" + "".join(output))
        if "JupyterLab is ready: " in line:
            url = line.split("JupyterLab is ready: ", 1)[1].strip()
    print(f"JupyterLab ready in {time.monotonic() - started:.1f} s")
    yield url
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    code = process.wait(timeout=60)
    reader.join(timeout=10)  # the rest of the output, up to the end of the pipe
    process.stdout.close()
    assert code == 0, "".join(output)
    assert "[workbook] JupyterLab stopped" in "".join(output)


def solution_of(exercise_id: str) -> tuple[int, str, str]:
    """(the index of the exercise cell, its placeholder line, the solution) as stored."""
    nb = nbformat.read(ROOT / "notebooks" / NOTEBOOK, as_version=4)
    [exercise] = [e for e in find_exercises(nb)[0] if e.id == exercise_id]
    placeholder = nb.cells[exercise.exercise_cell].source.splitlines()[0]
    return exercise.exercise_cell, placeholder, exercise.solution


def test_a_learner_solves_an_exercise_in_the_browser(jupyterlab):
    assert CHROMIUM.exists(), "chromium is missing: `make test` installs Debian's chromium"
    index, placeholder, solution = solution_of(EXERCISE)
    url = re.sub(r"/lab/tree/[^?]+", f"/lab/tree/{NOTEBOOK}", jupyterlab)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            started = time.monotonic()
            page.goto(url)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            # The status bar says so once the kernel has started and is idle.
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
            print(f"page usable in {time.monotonic() - started:.1f} s")

            # The learner's part: replace the placeholder with their code, as typed text.
            editor = page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".cm-content")
            assert placeholder in editor.inner_text()
            editor.click()
            page.keyboard.press("Control+a")
            page.keyboard.insert_text(solution)
            assert "YOUR ANSWER" not in editor.inner_text()

            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            page.wait_for_selector("text=/cleaned up: \\d+ job names deleted/", timeout=90_000)

            passed = page.locator("pre", has_text=f"Your turn {EXERCISE} passed")
            passed.scroll_into_view_if_needed()
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOT)
            text = page.inner_text(".jp-Notebook")
        finally:
            browser.close()
    assert f"✅ Your turn {EXERCISE} passed: POST answered 204" in text
    # The exercises the learner has not done yet say so, and break nothing after them.
    assert "❌ Your turn 1.2 not yet: missing_status is still the placeholder" in text
    assert "Starting droid: R2-D2" in text
    assert "s after we scheduled it (due after 1 s)" in text
    assert "DAPR_SCHEDULER_GET_JOB" in text
    # No Python exception anywhere (Dapr's JSON mentions "ErrorInfo", which is fine).
    assert "Traceback" not in text
    exception = re.search(r".{0,80}\b[A-Z]\w*Error\b.{0,80}", text)
    assert exception is None, exception.group()
