"""CPU accounting from /proc: the cores each process used over a window, and which side
limits a figure judged from them."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

NCPU = os.cpu_count() or 1


TICK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def process_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return math.nan


def machine_busy_seconds() -> float:
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK  # all but idle and iowait


class CpuMeter:
    """Cores used by each of our processes, and by everything else, over a time window."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self._start: dict | None = None

    def _read(self) -> dict:
        sample = {name: process_cpu_seconds(pid) for name, pid in self.pids.items()}
        return sample | {"_machine": machine_busy_seconds(), "_wall": time.monotonic()}

    def start(self) -> CpuMeter:
        self._start = self._read()
        return self

    def stop(self) -> dict:
        end, start = self._read(), self._start
        wall = max(end["_wall"] - start["_wall"], 1e-6)
        cores = {name: round((end[name] - start[name]) / wall, 2) for name in self.pids}
        cpu_s = {name: round(end[name] - start[name], 3) for name in self.pids}
        machine = round((end["_machine"] - start["_machine"]) / wall, 2)
        others = round(max(machine - sum(cores.values()), 0.0), 2)
        return {
            "wall_s": round(wall, 3),
            "cores": cores | {"others": others, "machine": machine},
            "cpu_s": cpu_s,
        }


def limiting_side(cpu: dict, *, client_bound_hint: str = "") -> dict:
    """Which side limits a figure, judged from the cores each process used meanwhile.

    Python processes run on one core at a time (the GIL), so near 1 core means saturated;
    the Go processes (scheduler, daprd) can use every core, so they limit when the machine is.
    """
    cores = cpu["cores"]
    for name, label in (("app", "app"), ("bench", "client")):
        if cores.get(name, 0) >= 0.8:
            why = f"{name} (Python, one core at a time) used {cores[name]:.2f} cores"
            return {"side": label, "why": why + client_bound_hint}
    if cores["machine"] >= 0.9 * NCPU:
        users = {k: v for k, v in cores.items() if k not in {"machine", "others"}}
        users["other users"] = cores["others"]
        top = max(users, key=users.get)
        parts = ", ".join(f"{k} {v:.2f}" for k, v in users.items())
        return {"side": f"CPU ({top} largest)", "why": f"all {NCPU} cores busy: {parts}"}
    return {
        "side": "latency/serial path (no process saturated)",
        "why": f"machine at {cores['machine']:.2f} of {NCPU} cores: time goes to the hops "
        "scheduler timer -> gRPC stream -> daprd -> HTTP -> app, and one stream "
        "per sidecar carries every trigger and every ack in turn",
    }
