"""The system under test: an isolated scheduler, the bench receiver and its sidecar."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import httpx

from bench.clients import LoopbackHTTP, timed_calls
from bench.cpu import CpuMeter
from workbook import config
from workbook.runtime.apps import unique_name
from workbook.runtime.processes import ManagedProcess, free_port
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_for_http

BULK_CONCURRENCY = 16  # how the benchmark loads jobs it is not timing (the fastest client below)


class Stack:
    """An isolated scheduler, the bench receiver and its sidecar; remembers every job made."""

    def __init__(
        self, *, server: str = "raw", profile_receiver: bool = False, keep_files: bool = False
    ):
        self.base = Path(tempfile.mkdtemp(prefix="bench-", dir=config.scratch_dir()))
        self.keep_files = keep_files
        self.scheduler = Scheduler.isolated(self.base / "scheduler")
        self.app_port = free_port()
        self.profile_path = self.base / "receiver.prof" if profile_receiver else None
        env = {"BENCH_PROFILE": str(self.profile_path)} if self.profile_path else {}
        self.receiver = ManagedProcess(
            "bench-receiver",
            [
                sys.executable,
                "-m",
                "workbook.experiments.bench_receiver.app",
                "--port",
                str(self.app_port),
                "--server",
                server,
            ],
            log_path=self.base / "receiver.log",
            env=env,
            cwd=config.ROOT,
        )
        self.server = server
        self.sidecar: Sidecar | None = None
        self.extras: list = []  # more apps and sidecars (they all have .stop())
        self.last_stop: dict = {}
        self.made: set[str] = set()
        self.deleted: set[str] = set()
        self.rate_estimate = 400.0  # jobs/s the bulk loader reaches; refined as it runs
        self.control = httpx.Client(base_url=f"http://127.0.0.1:{self.app_port}", timeout=30)

    def start(self) -> Stack:
        self.scheduler.start()
        self.receiver.start()
        wait_for_http(
            f"http://127.0.0.1:{self.app_port}/healthz", timeout=30, what="the bench receiver"
        )
        self.sidecar = Sidecar(
            unique_name("bench"),
            scheduler_address=self.scheduler.address,
            app_port=self.app_port,
            log_path=self.base / "daprd.log",
        )
        self.sidecar.start()
        self.http = LoopbackHTTP(self.sidecar.http_port)
        return self

    @property
    def pids(self) -> dict[str, int]:
        return {
            "scheduler": self.scheduler.process.pid,
            "daprd": self.sidecar.process.pid,
            "app": self.receiver.pid,
            "bench": os.getpid(),
        }

    def meter(self) -> CpuMeter:
        return CpuMeter(self.pids).start()

    # the receiver
    def reset(self) -> None:
        self.control.post("/reset").raise_for_status()

    def count(self) -> int:
        return self.control.get("/count").json()["count"]

    def arrivals(self) -> list[tuple[str, float]]:
        return [tuple(a) for a in self.control.get("/arrivals").json()]

    # jobs, loaded with the fast client
    def schedule_all(
        self, jobs: list[tuple[str, dict]], *, http: LoopbackHTTP | None = None
    ) -> dict:
        bodies = {name: json.dumps(body).encode() for name, body in jobs}
        self.made.update(bodies)
        client = http or self.http

        def call(name: str) -> bool:
            return client.request("POST", f"/v1.0/jobs/{name}", bodies[name]) == 204

        wall, lat, finished, errors = timed_calls(call, list(bodies), BULK_CONCURRENCY)
        if len(jobs) >= 50 and not errors:
            self.rate_estimate = len(jobs) / wall
        return {"wall_s": wall, "latencies": lat, "finished": finished, "errors": errors}

    def delete_all(self, names: Iterable[str], *, http: LoopbackHTTP | None = None) -> dict:
        names = [n for n in names if n not in self.deleted]
        client = http or self.http

        def call(name: str) -> bool:
            return client.request("DELETE", f"/v1.0/jobs/{name}") == 204

        wall, lat, _, errors = timed_calls(call, names, BULK_CONCURRENCY)
        self.deleted.update(names)
        return {"n": len(names), "wall_s": wall, "latencies": lat, "errors": errors}

    def lead_time(self, jobs: int) -> float:
        """How far ahead to set the due time so that loading `jobs` jobs finishes first."""
        return 0.5 + 1.5 * jobs / self.rate_estimate

    def jobs_left(self, sample: int = 20) -> int:
        """Of up to `sample` of the jobs made (spread over all of them), how many still exist."""
        names = sorted(self.made)
        step = max(len(names) // sample, 1)
        return sum(self.http.request("GET", f"/v1.0/jobs/{n}") == 200 for n in names[::step])

    def log_errors(self) -> dict:
        found = {}
        for name, path in (
            ("daprd", self.base / "daprd.log"),
            ("scheduler", self.scheduler.log_path),
        ):
            text = path.read_text(errors="replace") if path.exists() else ""
            lines = re.findall(r".*level=(?:error|fatal).*", text)
            # GET of a job that is gone logs an error; jobs_left() does that on purpose
            found[name] = sum("Error getting job" not in line for line in lines)
        return found

    def stop(self) -> dict:
        """Delete every job made, stop everything, remove the scheduler's data."""
        summary = self.last_stop = {}
        try:
            if self.sidecar and self.sidecar.process:
                self.delete_all(self.made)
                summary["jobs_made"] = len(self.made)
                summary["jobs_left_in_sample"] = self.jobs_left()
                summary["log_errors"] = self.log_errors()
        finally:
            for extra in reversed(self.extras):
                extra.stop()
            if self.sidecar:
                self.sidecar.stop()
            self.receiver.stop()
            self.scheduler.stop()
            self.control.close()
            if self.profile_path and self.profile_path.exists():
                summary["receiver_profile"] = read_profile(self.profile_path)
            if not self.keep_files:
                shutil.rmtree(self.base, ignore_errors=True)
        return summary

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def read_profile(path: Path, top: int = 12) -> list[dict]:
    """The receiver's heaviest functions (own time, share of its busy time) from cProfile."""
    import pstats

    stats = pstats.Stats(str(path)).stats
    idle = [key for key in stats if "select.epoll" in key[2]]  # waiting for work, not work
    busy = {key: value for key, value in stats.items() if key not in idle}
    rows = sorted(busy.items(), key=lambda item: item[1][2], reverse=True)[:top]
    total = sum(v[2] for v in busy.values()) or 1
    return [
        {
            "function": f"{Path(f).name}:{line}({fn})",
            "calls": nc,
            "own_s": round(tt, 3),
            "share": round(tt / total, 3),
        }
        for (f, line, fn), (_, nc, tt, _, _) in rows
    ]
