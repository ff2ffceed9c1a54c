"""free_port(): never the same port twice to processes side by side (test workers, clones)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from workbook.runtime import ports

TAKE_100 = "from workbook.runtime.ports import free_port\nprint(*[free_port() for _ in range(100)])"


def test_processes_side_by_side_never_get_the_same_port():
    children = [
        subprocess.Popen([sys.executable, "-c", TAKE_100], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    handed = [child.communicate(timeout=60)[0].split() for child in children]
    assert [len(h) for h in handed] == [100, 100, 100]
    assert len({port for h in handed for port in h}) == 300


def test_a_claim_older_than_the_reservation_is_taken_over(monkeypatch, tmp_path):
    monkeypatch.setattr(ports, "RESERVATIONS", tmp_path)
    fresh, stale = tmp_path / "20001", tmp_path / "20002"
    fresh.touch()
    stale.touch()
    old = time.time() - ports.RESERVED_FOR_S - 1
    os.utime(stale, (old, old))
    assert ports._reserve(20001) is False
    assert ports._reserve(20002) is True
    assert ports._reserve(20002) is False  # now claimed by this call
