"""The hashed locks (requirements/*.txt, `make lock`): the learner's lab lock is a part of the dev
lock, pin for pin, so the full environment (`make venv`) serves `make lab` too; and the lab lock
holds none of the test or dev tools."""

from __future__ import annotations

import re

from workbook.config import ROOT

PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, str]:
    return dict(PIN.findall((ROOT / "requirements" / lock).read_text()))


def test_every_pin_of_the_lab_lock_is_in_the_dev_lock():
    lab, dev = pins("lab.txt"), pins("dev.txt")
    assert len(lab) > 50  # JupyterLab alone brings dozens
    assert {name: version for name, version in lab.items() if dev.get(name) != version} == {}


def test_the_lab_lock_has_no_test_or_dev_tools():
    tools = {"pytest", "hypothesis", "playwright", "nbval", "ruff", "import-linter", "pytest-xdist"}
    assert tools <= set(pins("dev.txt"))
    assert tools & set(pins("lab.txt")) == set()
