"""Measure the Dapr Jobs runtime on this machine: trigger lateness, scheduling throughput,
a burst of jobs due at the same moment, and how the cost grows from 100 to 10,000 jobs.

    python -m bench            # the full run (`make bench`): about 6 minutes on 2 cores
    python -m bench --quick    # about a minute, smaller sizes, one repetition
    python -m bench --smoke    # seconds; what tests/test_bench_smoke.py runs

Everything runs against the real runtime on loopback: each repetition gets its own scheduler
(`Scheduler.isolated()`, fresh etcd), its own sidecar and a fast receiver app
(`workbook.experiments.bench_receiver`). Every job the benchmark makes is deleted before it stops.
While a phase runs, the CPU time of the scheduler, daprd, the app, the benchmark itself and
the rest of the machine is read from /proc, which is how each figure names the side that
limits it. Results: a table on stdout, JSON (and a Markdown copy) in bench/.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.client
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import httpx

from workbook import config
from workbook.runtime.apps import JobService, unique_name
from workbook.runtime.processes import ManagedProcess, free_port
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_for_http, wait_until

BENCH_DIR = config.ROOT / "bench"
NCPU = os.cpu_count() or 1
TICK = os.sysconf("SC_CLK_TCK")
# After the last expected trigger has arrived, keep watching this long for duplicates: the
# window is the measurement itself (at-least-once delivery may repeat a trigger), not a wait.
DUPLICATE_WINDOW = {"lateness": 0.3, "burst": 1.0}
BULK_CONCURRENCY = 16  # how the benchmark loads jobs it is not timing (the fastest client below)
# The scheduler's queue runs an item at once when it is due in less than 0.5 ms rather than
# arm a timer (dapr/kit events/queue/processor.go), so a trigger may come up to 0.5 ms early.
EARLY_TOLERANCE_MS = 0.5
GOALS = {"lateness_p50_ms": 5.0, "lateness_p99_ms": 25.0, "burst_all_delivered_s": 30.0}


@dataclass(frozen=True)
class Profile:
    """How big each part of the benchmark is."""

    name: str
    repeats: int  # lateness repetitions, each on a fresh scheduler
    lateness_sizes: tuple[int, ...]
    every_repeats: int  # triggers per @every job
    one_at_a_time: int  # samples for "1 concurrent job"
    throughput_n: int  # calls per throughput configuration
    throughput_conc: tuple[int, ...]
    throughput_repeats: int
    scaling_sizes: tuple[int, ...]
    scaling_repeats: int
    compare_receivers: int  # jobs for the job_service vs bench receiver comparison (0: skip)


PROFILES = {
    "smoke": Profile(
        "smoke",
        repeats=1,
        lateness_sizes=(1, 20),
        every_repeats=2,
        one_at_a_time=5,
        throughput_n=40,
        throughput_conc=(4,),
        throughput_repeats=1,
        scaling_sizes=(50, 200),
        scaling_repeats=1,
        compare_receivers=0,
    ),
    "quick": Profile(
        "quick",
        repeats=1,
        lateness_sizes=(1, 100, 1000),
        every_repeats=3,
        one_at_a_time=20,
        throughput_n=300,
        throughput_conc=(1, 4, 16),
        throughput_repeats=1,
        scaling_sizes=(100, 1000, 3000),
        scaling_repeats=1,
        compare_receivers=1000,
    ),
    "full": Profile(
        "full",
        repeats=3,
        lateness_sizes=(1, 100, 1000),
        every_repeats=3,
        one_at_a_time=20,
        throughput_n=500,
        throughput_conc=(1, 4, 16, 64),
        throughput_repeats=2,
        scaling_sizes=(100, 300, 1000, 3000, 10000),
        scaling_repeats=2,
        compare_receivers=1000,
    ),
}


# --- numbers ---------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of already sorted values, interpolated linearly."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def dist(values: Iterable[float]) -> dict:
    """n, min, p50, p90, p99, max and mean of values (in the values' unit, 2 decimals)."""
    v = sorted(values)
    if not v:
        return {"n": 0}
    out = {
        "n": len(v),
        "min": v[0],
        "p50": percentile(v, 50),
        "p90": percentile(v, 90),
        "p99": percentile(v, 99),
        "max": v[-1],
        "mean": statistics.fmean(v),
    }
    return {k: (round(x, 2) if isinstance(x, float) else x) for k, x in out.items()}


def spread(values: list[float]) -> dict:
    """Median and range of one figure over repeated runs."""
    v = [x for x in values if x is not None and not math.isnan(x)]
    if not v:
        return {"median": None, "min": None, "max": None, "runs": 0}
    return {
        "median": round(statistics.median(v), 2),
        "min": round(min(v), 2),
        "max": round(max(v), 2),
        "runs": len(v),
    }


HIST_EDGES_MS = [round(10 ** (e / 10), 4) for e in range(-10, 51)]  # 0.1 ms .. 100 s, log


def histogram(values_ms: list[float]) -> list[int]:
    counts = [0] * (len(HIST_EDGES_MS) - 1)
    for value in values_ms:
        x = min(max(value, HIST_EDGES_MS[0]), HIST_EDGES_MS[-1] * 0.999)
        i = int(math.floor((math.log10(x) + 1) * 10))
        counts[min(max(i, 0), len(counts) - 1)] += 1
    return counts


def rfc3339(epoch: float) -> tuple[str, float]:
    """An absolute dueTime (microseconds) and the exact instant it names."""
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), moment.timestamp()


# --- CPU accounting from /proc ---------------------------------------------------------------


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


# --- clients ---------------------------------------------------------------------------------


class LoopbackHTTP:
    """Keep-alive HTTP/1.1 connections to one loopback port, one per thread (stdlib only).

    About five times cheaper per call in CPU than httpx, so loading thousands of jobs does
    not make the benchmark itself the bottleneck.
    """

    def __init__(self, port: int):
        self.port = port
        self._local = threading.local()

    def request(self, method: str, path: str, body: bytes | None = None) -> int:
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=60
                )
            try:
                headers = {"content-type": "application/json"} if body is not None else {}
                conn.request(method, path, body, headers)
                response = conn.getresponse()
                response.read()
                return response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def timed_calls(
    call: Callable[[str], bool], names: list[str], concurrency: int
) -> tuple[float, list[float], list[float], int]:
    """Run call(name) for every name on `concurrency` threads.

    Returns wall seconds, per-call seconds, completion times (epoch) and the error count.
    """
    latencies: list[float] = []
    finished: list[float] = []
    errors = 0
    lock = threading.Lock()

    def one(name: str) -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            ok = call(name)
        except Exception:  # noqa: BLE001 - a failed call is counted, the run goes on
            ok = False
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            finished.append(time.time())
            errors += not ok

    started = time.perf_counter()
    if concurrency == 1:
        for name in names:
            one(name)
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, names))
    return time.perf_counter() - started, latencies, finished, errors


def run_coroutine(coro):
    """asyncio.run(coro), also where an event loop already runs (Jupyter): then in a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _async_calls(
    base_url: str, method: str, names: list[str], concurrency: int, body: dict | None, expected: int
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        pending = iter(names)

        async def worker() -> None:
            nonlocal errors
            for name in pending:
                started = time.perf_counter()
                try:
                    response = await client.request(method, name, json=body)
                    errors += response.status_code != expected
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, errors


# --- the system under test -------------------------------------------------------------------


class Stack:
    """An isolated scheduler, the bench receiver and its sidecar; remembers every job made."""

    def __init__(
        self, *, server: str = "raw", profile_receiver: bool = False, keep_files: bool = False
    ):
        root = config.STATE_DIR / "tmp"
        root.mkdir(parents=True, exist_ok=True)
        self.base = Path(tempfile.mkdtemp(prefix="bench-", dir=root))
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


# --- 1. trigger lateness ---------------------------------------------------------------------


@dataclass
class Plan:
    """Jobs to schedule and the instants at which each one should fire."""

    kind: str  # "oneshot" or "every"
    size: int
    mode: str  # "one-at-a-time", "aligned" or "spread"
    jobs: list[tuple[str, dict]] = field(default_factory=list)
    intended: dict[str, list[float]] = field(default_factory=dict)

    @property
    def expected(self) -> int:
        return sum(len(v) for v in self.intended.values())

    @property
    def last_due(self) -> float:
        return max(max(v) for v in self.intended.values())


def make_plan(
    kind: str,
    size: int,
    mode: str,
    start: float,
    *,
    repeats: int,
    samples: int,
    period: float = 1.0,
) -> Plan:
    """`size` jobs firing from `start` on: all at once (aligned), evenly over one period
    (spread), or `samples` triggers that never overlap (one-at-a-time)."""
    plan = Plan(kind, size, mode)
    prefix = unique_name(f"lat-{kind}-{size}")
    if mode == "one-at-a-time":
        count, gap = (
            (samples, 0.1)
            if kind == "oneshot"
            else (max(samples // repeats, 1), period / max(samples // repeats, 1))
        )
        offsets = [i * gap for i in range(count)]
    elif mode == "aligned":
        offsets = [0.0] * size
    else:
        offsets = [period * i / size for i in range(size)]
    for i, offset in enumerate(offsets):
        due, exact = rfc3339(start + offset)
        name = f"{prefix}-{i}"
        body = {"dueTime": due, "data": {"i": i}}
        fires = [exact]
        if kind == "every":
            body |= {"schedule": f"@every {period:g}s", "repeats": repeats}
            fires = [exact + k * period for k in range(repeats)]
        plan.jobs.append((name, body))
        plan.intended[name] = fires
    return plan


def wait_for_instant(moment: float, early: float = 0.05) -> None:
    """Return shortly before `moment` (epoch): start watching just before jobs fall due."""
    wait_until(
        lambda: time.time() >= moment - early,
        timeout=max(moment - time.time(), 0) + 5,
        interval=0.005,
        what=f"the instant {moment:.3f}",
    )


def settle(stack: Stack, *, quiet_cores: float = 0.1, timeout: float = 30) -> float:
    """Wait until the scheduler and daprd are idle again, and return how long that took.

    Work goes on after the calls return (deleting thousands of jobs keeps the scheduler
    busy for seconds), and it would otherwise be charged to the next measurement.
    """
    started = time.monotonic()
    pids = {k: stack.pids[k] for k in ("scheduler", "daprd")}

    def idle() -> bool:
        meter = CpuMeter(pids).start()
        wait_for_instant(time.time() + 0.25, early=0)  # a 0.25 s sampling window
        cores = meter.stop()["cores"]
        return cores["scheduler"] + cores["daprd"] < quiet_cores

    try:
        wait_until(idle, timeout=timeout, interval=0, what="the scheduler and daprd to idle")
    except TimeoutError:
        return math.inf
    return round(time.monotonic() - started, 2)


def wait_for_arrivals(stack: Stack, expected: int, deadline: float, what: str) -> bool:
    """Poll the receiver's cheap counter until `expected` triggers are in, or the deadline."""
    try:
        wait_until(
            lambda: stack.count() >= expected,
            timeout=max(deadline - time.time(), 0.1),
            interval=0.05,
            what=what,
        )
        return True
    except TimeoutError:
        return False


def match_arrivals(plan: Plan, arrivals: list[tuple[str, float]]) -> dict:
    """Pair each job's arrivals, in order, with its intended fire times."""
    got: dict[str, list[float]] = defaultdict(list)
    strays = 0
    for name, arrived in arrivals:
        if name in plan.intended:
            got[name].append(arrived)
        else:
            strays += 1
    lateness_ms, lost, duplicates = [], 0, 0
    for name, fires in plan.intended.items():
        times = sorted(got.get(name, []))
        lateness_ms += [(a - f) * 1000 for a, f in zip(times, fires, strict=False)]
        lost += max(len(fires) - len(times), 0)
        duplicates += max(len(times) - len(fires), 0)
    return {
        "lateness_ms": lateness_ms,
        "lost": lost,
        "duplicates": duplicates,
        "strays": strays,
        "delivered": len(arrivals) - strays,
    }


def lateness_case(stack: Stack, kind: str, size: int, mode: str, prof: Profile) -> dict:
    settled = settle(stack)
    stack.reset()
    jobs = size if mode != "one-at-a-time" else prof.one_at_a_time
    start = time.time() + stack.lead_time(jobs)
    plan = make_plan(
        kind, size, mode, start, repeats=prof.every_repeats, samples=prof.one_at_a_time
    )
    load = stack.schedule_all(plan.jobs)
    # loads that finished after the first due time (then lateness may include loading)
    scheduled_late = sum(t > start for t in load["finished"])
    wait_for_instant(start)
    meter = stack.meter()
    complete = wait_for_arrivals(
        stack,
        plan.expected,
        plan.last_due + 30,
        f"{plan.expected} triggers ({kind}, {size}, {mode})",
    )
    cpu = meter.stop()
    wait_for_instant(time.time() + DUPLICATE_WINDOW["lateness"], early=0)
    matched = match_arrivals(plan, stack.arrivals())
    stack.delete_all(plan.intended)
    late = matched.pop("lateness_ms")
    return {
        "kind": kind,
        "concurrent_jobs": size,
        "mode": mode,
        "jobs": len(plan.jobs),
        "expected": plan.expected,
        "complete": complete,
        **matched,
        "settle_s": settled,
        "scheduled_after_due": scheduled_late,
        "early": sum(x < -EARLY_TOLERANCE_MS for x in late),
        "ahead": sum(x < 0 for x in late),
        "lateness_ms": dist(late),
        "histogram": histogram(late),
        "cpu": cpu,
        "limit": limiting_side(cpu),
    }


def lateness_cases(prof: Profile) -> list[tuple[str, int, str]]:
    cases = []
    for kind in ("oneshot", "every"):
        for size in prof.lateness_sizes:
            modes = ("one-at-a-time",) if size == 1 else ("aligned", "spread")
            cases += [(kind, size, mode) for mode in modes]
    return cases


# --- 2. scheduling throughput and per-call latency -------------------------------------------


def call_result(
    op: str,
    client: str,
    transport: str,
    concurrency: int,
    wall: float,
    latencies: list[float],
    errors: int,
    cpu: dict,
) -> dict:
    ms = dist(x * 1000 for x in latencies)
    hint = " (the client, not Dapr, is the bottleneck)" if client.startswith("httpx") else ""
    return {
        "op": op,
        "client": client,
        "transport": transport,
        "concurrency": concurrency,
        "n": len(latencies),
        "errors": errors,
        "wall_s": round(wall, 3),
        "per_s": round(len(latencies) / wall, 1),
        "p50_ms": ms.get("p50"),
        "p99_ms": ms.get("p99"),
        "cpu": cpu,
        "limit": limiting_side(cpu, client_bound_hint=hint),
    }


def throughput(stack: Stack, prof: Profile) -> list[dict]:
    from dapr.clients import DaprClient
    from dapr.clients.grpc._jobs import Job
    from dapr.conf import settings
    from google.protobuf import any_pb2, struct_pb2

    n, rows = prof.throughput_n, []
    body = {"dueTime": "1h", "data": {"n": 1}}  # far ahead: these jobs never fire
    raw_body = json.dumps(body).encode()
    jobs_url = f"{stack.sidecar.http_url}/v1.0/jobs/"
    groups: dict[str, list[str]] = {}

    def names(label: str, count: int = n) -> list[str]:
        made = [unique_name(f"tp-{label}") for _ in range(count)]
        stack.made.update(made)
        groups.setdefault(label, []).extend(made)
        return made

    def measure(op, client, transport, conc, run, batch):
        settle(stack)
        meter = stack.meter()
        wall, lat, errors = run(batch)
        rows.append(call_result(op, client, transport, conc, wall, lat, errors, meter.stop()))

    def sync(call, conc):
        def run(batch):
            wall, lat, _, errors = timed_calls(call, batch, conc)
            return wall, lat, errors

        return run

    def run_async(method, conc, expected, payload=None):
        return lambda batch: run_coroutine(
            _async_calls(jobs_url, method, batch, conc, payload, expected)
        )

    seq_n = max(n // 2, 10)
    # POST over HTTP: the effect of connection reuse, then concurrency
    measure(
        "POST",
        "httpx.post (new connection per call)",
        "HTTP",
        1,
        sync(lambda x: httpx.post(jobs_url + x, json=body).status_code == 204, 1),
        names("httpx-new", seq_n),
    )
    with httpx.Client(base_url=jobs_url, timeout=60) as client:
        measure(
            "POST",
            "httpx.Client (keep-alive)",
            "HTTP",
            1,
            sync(lambda x: client.post(x, json=body).status_code == 204, 1),
            names("httpx-seq", seq_n),
        )
        for conc in prof.throughput_conc:
            measure(
                "POST",
                "httpx.AsyncClient",
                "HTTP",
                conc,
                run_async("POST", conc, 204, body),
                names(f"httpx-async-{conc}"),
            )
        for conc in prof.throughput_conc:
            measure(
                "POST",
                "http.client + threads",
                "HTTP",
                conc,
                sync(
                    lambda x: stack.http.request("POST", f"/v1.0/jobs/{x}", raw_body) == 204, conc
                ),
                names(f"stdlib-{conc}"),
            )
        # gRPC through the Python SDK (one channel, shared by the threads)
        settings.DAPR_HTTP_ENDPOINT = stack.sidecar.http_url  # the SDK's health check
        data = any_pb2.Any()
        data.Pack(
            struct_pb2.Value(
                struct_value=struct_pb2.Struct(fields={"n": struct_pb2.Value(number_value=1)})
            )
        )
        with DaprClient(address=stack.sidecar.grpc_address) as dapr:
            for conc in sorted({1, *[c for c in prof.throughput_conc if c <= 16]}):
                measure(
                    "POST",
                    "DaprClient.schedule_job",
                    "gRPC",
                    conc,
                    sync(
                        lambda x: bool(
                            dapr.schedule_job(Job(name=x, due_time="1h", data=data)) or True
                        ),
                        conc,
                    ),
                    names(f"grpc-{conc}"),
                )
            # GET and DELETE, on jobs made above
            mid = max(c for c in prof.throughput_conc if c <= 16)
            got = groups["httpx-seq"]
            measure(
                "GET",
                "httpx.Client (keep-alive)",
                "HTTP",
                1,
                sync(lambda x: client.get(x).status_code == 200, 1),
                got,
            )
            measure(
                "GET",
                "http.client + threads",
                "HTTP",
                mid,
                sync(lambda x: stack.http.request("GET", f"/v1.0/jobs/{x}") == 200, mid),
                groups[f"stdlib-{mid}"],
            )
            measure(
                "GET",
                "DaprClient.get_job",
                "gRPC",
                1,
                sync(lambda x: dapr.get_job(x).name == x, 1),
                groups["grpc-1"],
            )
            measure(
                "DELETE",
                "httpx.Client (keep-alive)",
                "HTTP",
                1,
                sync(lambda x: client.delete(x).status_code == 204, 1),
                got,
            )
            measure(
                "DELETE",
                "http.client + threads",
                "HTTP",
                mid,
                sync(lambda x: stack.http.request("DELETE", f"/v1.0/jobs/{x}") == 204, mid),
                groups[f"stdlib-{mid}"],
            )
            measure(
                "DELETE",
                "DaprClient.delete_job",
                "gRPC",
                1,
                sync(lambda x: bool(dapr.delete_job(x) or True), 1),
                groups["grpc-1"],
            )
    for label in ("httpx-seq", f"stdlib-{mid}", "grpc-1"):
        stack.deleted.update(groups[label])
    stack.delete_all(name for members in groups.values() for name in members)
    return rows


# --- 3 and 4. a burst of jobs due together, from 100 to 10,000 -------------------------------


def burst(stack: Stack, size: int) -> dict:
    """`size` one-shot jobs due at the same instant: load, then watch them all arrive."""
    settled = settle(stack)
    stack.reset()
    start = time.time() + stack.lead_time(size)
    plan = make_plan("oneshot", size, "aligned", start, repeats=1, samples=0)
    due = plan.last_due
    meter = stack.meter()
    load = stack.schedule_all(plan.jobs)
    load_cpu = meter.stop()
    rss_loaded = {k: process_rss_mb(stack.pids[k]) for k in ("scheduler", "daprd")}
    wait_for_instant(due)
    meter = stack.meter()
    complete = wait_for_arrivals(stack, size, due + 60, f"{size} triggers of the burst")
    deliver_cpu = meter.stop()
    wait_for_instant(time.time() + DUPLICATE_WINDOW["burst"], early=0)
    arrivals = stack.arrivals()
    matched = match_arrivals(plan, arrivals)
    late = sorted(matched.pop("lateness_ms"))
    removed = stack.delete_all(plan.intended)
    step = max(len(late) // 100, 1)
    curve = [[round(x / 1000, 4), i + 1] for i, x in enumerate(late)][::step]
    if late:
        curve.append([round(late[-1] / 1000, 4), len(late)])
    per_job = {
        k: round(1000 * (load_cpu["cpu_s"][k] + deliver_cpu["cpu_s"][k]) / size, 3)
        for k in ("scheduler", "daprd", "app")
    }
    last_s = late[-1] / 1000 if late else math.nan
    return {
        "jobs": size,
        "complete": complete,
        **matched,
        "settle_s": settled,
        "scheduled_after_due": sum(t > due for t in load["finished"]),
        "schedule_s": round(load["wall_s"], 3),
        "schedule_per_s": round(size / load["wall_s"], 1),
        "schedule_call_ms": dist(x * 1000 for x in load["latencies"]),
        "schedule_errors": load["errors"],
        "first_arrival_s": round(late[0] / 1000, 4) if late else None,
        "first_arrival_ms": round(late[0], 2) if late else None,
        "all_delivered_s": round(last_s, 4),
        "deliver_per_s": round(len(late) / last_s, 1) if late else None,
        "lateness_ms": dist(late),
        "early": sum(x < -EARLY_TOLERANCE_MS for x in late),
        "ahead": sum(x < 0 for x in late),
        "delete_s": round(removed["wall_s"], 3),
        "delete_per_s": round(removed["n"] / max(removed["wall_s"], 1e-6), 1),
        "cpu_ms_per_job": per_job,
        "rss_mb_loaded": rss_loaded,
        "load_cpu": load_cpu,
        "load_limit": limiting_side(load_cpu),
        "deliver_cpu": deliver_cpu,
        "deliver_limit": limiting_side(deliver_cpu),
        "curve": curve,
    }


# --- app-side tuning: the droid app vs the bench receiver ------------------------------------


@dataclass
class Receiver:
    """An app with its own sidecar on the stack's scheduler, as the comparison sees it."""

    label: str
    app_pid: int
    daprd_pid: int
    http: LoopbackHTTP  # its sidecar
    count: Callable[[], int]
    arrivals: Callable[[], list[tuple[str, float]]]
    data: dict | None = None


def _bench_receiver(stack: Stack, server: str) -> Receiver:
    """Another bench receiver (the other server) with its own sidecar."""
    port = free_port()
    app = ManagedProcess(
        f"bench-receiver-{server}",
        [
            sys.executable,
            "-m",
            "workbook.experiments.bench_receiver.app",
            "--port",
            str(port),
            "--server",
            server,
        ],
        log_path=stack.base / f"receiver-{server}.log",
        cwd=config.ROOT,
    ).start()
    stack.extras.append(app)
    wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=30, what=f"receiver {server}")
    sidecar = Sidecar(
        unique_name(f"bench-{server}"),
        scheduler_address=stack.scheduler.address,
        app_port=port,
        log_path=stack.base / f"daprd-{server}.log",
    ).start()
    stack.extras.append(sidecar)
    control = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    return Receiver(
        f"bench_receiver --server {server}: {RECEIVER_KINDS[server]}",
        app.pid,
        sidecar.process.pid,
        LoopbackHTTP(sidecar.http_port),
        lambda: control.get("/count").json()["count"],
        lambda: [tuple(a) for a in control.get("/arrivals").json()],
    )


RECEIVER_KINDS = {"raw": "asyncio.Protocol, no framework", "uvicorn": "bare ASGI on uvicorn (h11)"}


def compare_receivers(stack: Stack, size: int, warmup: int = 100) -> list[dict]:
    """The same burst into three apps on the same scheduler: job_service (FastAPI, three
    printed lines per trigger), the bench receiver on uvicorn, and on raw asyncio. Each gets
    a warm-up burst first, so every sidecar has its pool of connections to the app open."""
    service = JobService(
        stack.scheduler, app_id=unique_name("bench-jobsvc"), log_dir=stack.base / "job-service"
    ).start()
    stack.extras.append(service)

    def service_arrivals() -> list[tuple[str, float]]:
        return [(r["name"], r["received_at"]) for r in service.received()]

    other = "uvicorn" if stack.server == "raw" else "raw"
    receivers = [
        Receiver(
            "job_service: FastAPI, 3 printed lines per trigger",
            service.app.pid,
            service.sidecar.process.pid,
            LoopbackHTTP(service.sidecar.http_port),
            lambda: service.app.log_text().count("Received job"),  # asking it slows it
            service_arrivals,
            data={"droid": "R2-D2", "task": "Oil Change"},
        ),
        _bench_receiver(stack, other),
        Receiver(
            f"bench_receiver --server {stack.server}: {RECEIVER_KINDS[stack.server]}",
            stack.receiver.pid,
            stack.sidecar.process.pid,
            stack.http,
            stack.count,
            stack.arrivals,
        ),
    ]
    rows = []
    for receiver in receivers:
        for jobs in (warmup, size):
            settle(stack)
            before = receiver.count()
            start = time.time() + stack.lead_time(jobs)
            plan = make_plan("oneshot", jobs, "aligned", start, repeats=1, samples=0)
            for _, body in plan.jobs:
                body["data"] = receiver.data or body["data"]
            stack.schedule_all(plan.jobs, http=receiver.http)
            wait_for_instant(start)
            meter = CpuMeter(
                {**stack.pids, "app": receiver.app_pid, "daprd": receiver.daprd_pid}
            ).start()
            wait_until(
                lambda n=before + jobs, count=receiver.count: count() >= n,
                timeout=60,
                interval=0.05,
                what=f"{jobs} triggers at {receiver.label}",
            )
            cpu = meter.stop()
            matched = match_arrivals(plan, receiver.arrivals())
            late = matched.pop("lateness_ms")
            matched["strays"] = 0  # earlier bursts at the same app are not strays here
            stack.delete_all(plan.intended, http=receiver.http)
        rows.append(
            {
                "receiver": receiver.label,
                "jobs": size,
                **matched,
                "lateness_ms": dist(late),
                "app_cpu_ms_per_trigger": round(1000 * cpu["cpu_s"]["app"] / size, 3),
                "cpu": cpu,
                "limit": limiting_side(cpu),
            }
        )
    # Only the app differs between the rows: a slower drain is the app's doing.
    fastest = min(row["lateness_ms"]["p50"] for row in rows)
    for row in rows:
        ratio = row["lateness_ms"]["p50"] / max(fastest, 1e-3)
        if ratio > 1.5:
            row["limit"] = {
                "side": "app",
                "why": (
                    f"the same burst drains {ratio:.1f}x slower than into the fastest receiver; "
                    f"the app spends {row['app_cpu_ms_per_trigger']} ms CPU per trigger, one "
                    "trigger at a time"
                ),
            }
    return rows


# --- the run ---------------------------------------------------------------------------------


def versions() -> dict:
    def out(args):
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return None

    packages = {}
    for name in ("dapr", "dapr-ext-grpc", "grpcio", "httpx", "uvicorn", "h11", "fastapi"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "dapr_runtime_pinned": config.RUNTIME_VERSION,
        "daprd": out([str(config.dapr_binary("daprd")), "--version"]),
        "python": platform.python_version(),
        "packages": packages,
    }


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cores": NCPU,
        "cpu_model": model,
        "memory_gb": round(mem / 2**20, 1),
        "kernel": platform.release(),
        "load_average": list(os.getloadavg()),
    }


def run_benchmark(
    profile: str = "full",
    *,
    sections: Iterable[str] | None = None,
    server: str = "raw",
    profile_receiver: bool = False,
    log: Callable[[str], None] = print,
) -> dict:
    """Run the benchmark and return the results (what main() writes as JSON)."""
    prof = PROFILES[profile]
    wanted = set(sections or ("throughput", "lateness", "scaling", "receivers"))
    started = time.time()
    results: dict = {
        "meta": {
            "profile": asdict(prof),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "versions": versions(),
            "settings": settings_text(server),
            "shared_machine": (
                "Other engineers ran tests on the same 2 cores during this run; the 'others' "
                "figure in every cpu block is their share."
            ),
        },
        "lateness": {"runs": [], "cold_pool": []},
        "throughput": {"runs": []},
        "scaling": {"runs": []},
        "receivers": [],
        "checks": [],
    }
    reps = max(prof.repeats, prof.throughput_repeats, prof.scaling_repeats)
    for rep in range(reps):
        with_profile = profile_receiver and rep == 0
        stack = Stack(server=server, profile_receiver=with_profile)
        with stack:
            log(
                f"run {rep + 1}/{reps}: scheduler {stack.scheduler.address}, "
                f"sidecar {stack.sidecar.http_url}, receiver :{stack.app_port} ({server})"
            )
            # The first burst on a new sidecar also opens its connections to the app (daprd
            # keeps up to 64 idle): measured on its own, so the cases below all start warm.
            if "lateness" in wanted and rep < prof.repeats:
                cold = lateness_case(
                    stack, "oneshot", min(max(prof.lateness_sizes), 100), "aligned", prof
                )
                cold["mode"] = "aligned, cold"
                results["lateness"]["cold_pool"].append(cold)
            if "throughput" in wanted and rep < prof.throughput_repeats:
                rows = throughput(stack, prof)
                results["throughput"]["runs"].append(rows)
                log(f"  throughput: {len(rows)} configurations")
            if "lateness" in wanted and rep < prof.repeats:
                cases = []
                for kind, size, mode in lateness_cases(prof):
                    case = lateness_case(stack, kind, size, mode, prof)
                    cases.append(case)
                    lat = case["lateness_ms"]
                    log(
                        f"  lateness {kind:7} {size:>5} {mode:13} p50 {lat.get('p50')} ms "
                        f"p99 {lat.get('p99')} ms lost {case['lost']}"
                    )
                results["lateness"]["runs"].append(cases)
            if "scaling" in wanted and rep < prof.scaling_repeats:
                points = []
                for size in prof.scaling_sizes:
                    point = burst(stack, size)
                    points.append(point)
                    log(
                        f"  burst {size:>6}: loaded in {point['schedule_s']} s, all delivered "
                        f"{point['all_delivered_s']} s after due, lost {point['lost']}"
                    )
                results["scaling"]["runs"].append(points)
            if "receivers" in wanted and rep == 0 and prof.compare_receivers:
                results["receivers"] = compare_receivers(stack, prof.compare_receivers)
        results["checks"].append(stack.last_stop)
    results["meta"]["duration_s"] = round(time.time() - started, 1)
    results["meta"]["load_average_after"] = list(os.getloadavg())
    summarize(results)
    return results


def settings_text(server: str) -> dict:
    return {
        "receiver": f"workbook.experiments.bench_receiver.app --server {server} "
        f"({RECEIVER_KINDS[server]}): "
        "keep-alive, backlog 4096, arrival time taken first; the comparison also "
        "runs the other server and job_service",
        "warm_up": "each run starts with one unmeasured-for-goals burst (reported as "
        "'aligned, cold') that opens daprd's pool of connections to the app",
        "sidecar": "daprd defaults on loopback (metrics off, app-max-concurrency unlimited)",
        "scheduler": "Scheduler.isolated(): fresh etcd per run, default flags (2048 workers)",
        "loading": f"jobs loaded by http.client keep-alive connections on {BULK_CONCURRENCY} "
        "threads; due times are absolute RFC 3339 instants (microseconds)",
        "every": "@every 1s jobs with an absolute dueTime and repeats; trigger k is due at "
        "dueTime + k s",
        "duplicate_window_s": DUPLICATE_WINDOW,
    }


# --- summaries, tables, files ----------------------------------------------------------------


def _limits(items: list[dict], key: str = "limit") -> str:
    sides = sorted({item[key]["side"] for item in items})
    return "; ".join(sides)


def _cores(items: list[dict], key: str = "cpu") -> dict:
    names = items[0][key]["cores"].keys()
    return {n: round(statistics.median(i[key]["cores"][n] for i in items), 2) for n in names}


def summarize(results: dict) -> None:
    """Add per-figure summaries over the repeated runs, and the goals, to `results`."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for run in [results["lateness"]["cold_pool"], *results["lateness"]["runs"]]:
        for case in run:
            groups[(case["kind"], case["concurrent_jobs"], case["mode"])].append(case)
    lateness = []
    for (kind, size, mode), cases in groups.items():
        row = {
            "kind": kind,
            "concurrent_jobs": size,
            "mode": mode,
            "samples": sum(c["lateness_ms"].get("n", 0) for c in cases),
            "expected": sum(c["expected"] for c in cases),
            "lost": sum(c["lost"] for c in cases),
            "duplicates": sum(c["duplicates"] for c in cases),
            "early": sum(c["early"] for c in cases),
            "ahead": sum(c["ahead"] for c in cases),
            "scheduled_after_due": sum(c["scheduled_after_due"] for c in cases),
            "histogram": [sum(col) for col in zip(*(c["histogram"] for c in cases), strict=True)],
            "cores": _cores(cases),
            "limit": _limits(cases),
        }
        for q in ("p50", "p90", "p99", "max"):
            row[q] = spread([c["lateness_ms"].get(q, math.nan) for c in cases])
        lateness.append(row)
    results["lateness"]["summary"] = lateness
    results["lateness"]["histogram_edges_ms"] = HIST_EDGES_MS

    tgroups: dict[tuple, list[dict]] = defaultdict(list)
    for run in results["throughput"]["runs"]:
        for row in run:
            tgroups[(row["op"], row["client"], row["transport"], row["concurrency"])].append(row)
    results["throughput"]["summary"] = [
        {
            "op": op,
            "client": client,
            "transport": transport,
            "concurrency": conc,
            "calls": sum(r["n"] for r in rows),
            "errors": sum(r["errors"] for r in rows),
            "per_s": spread([r["per_s"] for r in rows]),
            "p50_ms": spread([r["p50_ms"] for r in rows]),
            "p99_ms": spread([r["p99_ms"] for r in rows]),
            "cores": _cores(rows),
            "limit": _limits(rows),
        }
        for (op, client, transport, conc), rows in tgroups.items()
    ]

    sgroups: dict[int, list[dict]] = defaultdict(list)
    for run in results["scaling"]["runs"]:
        for point in run:
            sgroups[point["jobs"]].append(point)
    scaling = []
    for size, points in sorted(sgroups.items()):
        scaling.append(
            {
                "jobs": size,
                "runs": len(points),
                "lost": sum(p["lost"] for p in points),
                "duplicates": sum(p["duplicates"] for p in points),
                "early": sum(p["early"] for p in points),
                "ahead": sum(p["ahead"] for p in points),
                "scheduled_after_due": sum(p["scheduled_after_due"] for p in points),
                **{
                    k: spread([p[k] for p in points])
                    for k in (
                        "schedule_s",
                        "schedule_per_s",
                        "first_arrival_ms",
                        "all_delivered_s",
                        "deliver_per_s",
                        "delete_s",
                        "delete_per_s",
                    )
                },
                "lateness_p50_ms": spread([p["lateness_ms"].get("p50") for p in points]),
                "lateness_p99_ms": spread([p["lateness_ms"].get("p99") for p in points]),
                "cpu_ms_per_job": {
                    k: round(statistics.median(p["cpu_ms_per_job"][k] for p in points), 3)
                    for k in ("scheduler", "daprd", "app")
                },
                "rss_mb_loaded": {
                    k: max(p["rss_mb_loaded"][k] for p in points) for k in ("scheduler", "daprd")
                },
                "load_cores": _cores(points, "load_cpu"),
                "load_limit": _limits(points, "load_limit"),
                "deliver_cores": _cores(points, "deliver_cpu"),
                "deliver_limit": _limits(points, "deliver_limit"),
            }
        )
    results["scaling"]["summary"] = scaling
    results["burst"] = scaling[-1] if scaling else {}

    profiles = [c.pop("receiver_profile") for c in results["checks"] if "receiver_profile" in c]
    if profiles:
        results["receiver_profile"] = profiles[0]
    results["goals"] = goals(results)
    others = [c["cpu"]["cores"]["others"] for run in results["lateness"]["runs"] for c in run]
    others += [
        p[k]["cores"]["others"]
        for run in results["scaling"]["runs"]
        for p in run
        for k in ("load_cpu", "deliver_cpu")
    ]
    results["meta"]["others_cores"] = spread(others)


def goals(results: dict) -> list[dict]:
    found = []
    for row in results["lateness"]["summary"]:
        if row["concurrent_jobs"] != 100:
            continue
        for q, limit in (("p50", GOALS["lateness_p50_ms"]), ("p99", GOALS["lateness_p99_ms"])):
            value = row[q]["median"]
            found.append(
                {
                    "goal": f"lateness {q} <= {limit:g} ms, 100 {row['kind']} jobs ({row['mode']})",
                    "value": value,
                    "unit": "ms",
                    "met": value is not None and value <= limit,
                }
            )
    burst = results.get("burst") or {}
    if burst:
        found.append(
            {
                "goal": f"burst of {burst['jobs']}: 0 lost",
                "value": burst["lost"],
                "unit": "jobs",
                "met": burst["lost"] == 0 and burst["duplicates"] == 0,
            }
        )
        worst = burst["all_delivered_s"]["max"]
        found.append(
            {
                "goal": f"burst of {burst['jobs']}: all delivered within "
                f"{GOALS['burst_all_delivered_s']:g} s of the due time",
                "value": worst,
                "unit": "s",
                "met": worst is not None and worst <= GOALS["burst_all_delivered_s"],
            }
        )
    return found


def _fmt(s: dict | float | None) -> str:
    """A figure over runs as 'median (min-max)', or a single number."""
    if isinstance(s, dict):
        if s.get("median") is None:
            return "-"
        if s["runs"] > 1 and s["min"] != s["max"]:
            return f"{s['median']:g} ({s['min']:g}-{s['max']:g})"
        return f"{s['median']:g}"
    return "-" if s is None else f"{s:g}"


def tables(results: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    out = []
    meta = results["meta"]
    m, v = meta["machine"], meta["versions"]
    out.append(
        (
            "Setting",
            ["what", "value"],
            [
                [
                    "machine",
                    f"{m['cores']} cores ({m['cpu_model']}), {m['memory_gb']} GB, shared "
                    f"(load average before {m['load_average'][0]:.2f})",
                ],
                [
                    "versions",
                    f"Dapr {v['dapr_runtime_pinned']} (daprd {v['daprd']}), Python "
                    f"{v['python']}, dapr SDK {v['packages']['dapr']}, httpx "
                    f"{v['packages']['httpx']}, uvicorn {v['packages']['uvicorn']}",
                ],
                [
                    "other users",
                    f"median {_fmt(meta['others_cores']['median'])} cores (range "
                    f"{_fmt(meta['others_cores']['min'])}-{_fmt(meta['others_cores']['max'])})"
                    " used by other programs while the benchmark measured",
                ],
                [
                    "profile",
                    f"{meta['profile']['name']}: lateness x{meta['profile']['repeats']}, "
                    f"throughput x{meta['profile']['throughput_repeats']}, scaling "
                    f"x{meta['profile']['scaling_repeats']}; took {meta.get('duration_s')} s",
                ],
            ],
        )
    )
    out.append(
        (
            "Trigger lateness (ms, arrival at the app minus the intended instant; "
            "median of runs, range in brackets; ahead: arrived before the instant, "
            f"at most {EARLY_TOLERANCE_MS} ms is by design)",
            [
                "kind",
                "jobs",
                "mode",
                "samples",
                "p50",
                "p90",
                "p99",
                "max",
                "lost",
                "dup",
                "ahead",
                "others' cores",
                "limited by",
            ],
            [
                [
                    r["kind"],
                    str(r["concurrent_jobs"]),
                    r["mode"],
                    str(r["samples"]),
                    _fmt(r["p50"]),
                    _fmt(r["p90"]),
                    _fmt(r["p99"]),
                    _fmt(r["max"]),
                    str(r["lost"]),
                    str(r["duplicates"]),
                    str(r["ahead"]),
                    f"{r['cores']['others']:g}",
                    r["limit"],
                ]
                for r in results["lateness"]["summary"]
            ],
        )
    )
    out.append(
        (
            "Scheduling throughput and per-call latency",
            [
                "op",
                "client",
                "transport",
                "conc",
                "calls/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "limited by",
            ],
            [
                [
                    r["op"],
                    r["client"],
                    r["transport"],
                    str(r["concurrency"]),
                    _fmt(r["per_s"]),
                    _fmt(r["p50_ms"]),
                    _fmt(r["p99_ms"]),
                    str(r["errors"]),
                    r["limit"],
                ]
                for r in results["throughput"]["summary"]
            ],
        )
    )
    out.append(
        (
            "Scaling: N one-shot jobs due at the same instant (s unless stated)",
            [
                "jobs",
                "load s",
                "load jobs/s",
                "first ms",
                "all delivered",
                "delivered/s",
                "p50 ms",
                "p99 ms",
                "lost",
                "dup",
                "CPU ms/job sched/daprd/app",
                "RSS MB sched/daprd",
                "others' cores",
                "delivery limited by",
            ],
            [
                [
                    str(r["jobs"]),
                    _fmt(r["schedule_s"]),
                    _fmt(r["schedule_per_s"]),
                    _fmt(r["first_arrival_ms"]),
                    _fmt(r["all_delivered_s"]),
                    _fmt(r["deliver_per_s"]),
                    _fmt(r["lateness_p50_ms"]),
                    _fmt(r["lateness_p99_ms"]),
                    str(r["lost"]),
                    str(r["duplicates"]),
                    "/".join(f"{r['cpu_ms_per_job'][k]:g}" for k in ("scheduler", "daprd", "app")),
                    "/".join(f"{r['rss_mb_loaded'][k]:g}" for k in ("scheduler", "daprd")),
                    f"{r['deliver_cores']['others']:g}",
                    r["deliver_limit"],
                ]
                for r in results["scaling"]["summary"]
            ],
        )
    )
    if results["receivers"]:
        out.append(
            (
                "App side: the same burst into three receivers (warm connection pools)",
                [
                    "receiver",
                    "jobs",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "app CPU ms/trigger",
                    "lost",
                    "limited by",
                ],
                [
                    [
                        r["receiver"],
                        str(r["jobs"]),
                        _fmt(r["lateness_ms"].get("p50")),
                        _fmt(r["lateness_ms"].get("p99")),
                        _fmt(r["lateness_ms"].get("max")),
                        f"{r['app_cpu_ms_per_trigger']:g}",
                        str(r["lost"]),
                        r["limit"]["side"],
                    ]
                    for r in results["receivers"]
                ],
            )
        )
    out.append(
        (
            "Goals",
            ["goal", "measured", "met"],
            [
                [g["goal"], f"{_fmt(g['value'])} {g['unit']}", "yes" if g["met"] else "NO"]
                for g in results["goals"]
            ],
        )
    )
    return out


def render_text(results: dict, only: str | None = None) -> str:
    """The tables as plain text (`only`: just those whose title starts with it)."""
    lines = []
    for title, headers, rows in tables(results):
        if only and not title.startswith(only):
            continue
        widths = [
            max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
            for i, h in enumerate(headers)
        ]
        lines += ["", title, "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def render_markdown(results: dict) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m bench` (`make bench`); the analysis is in bench/README.md.",
        "",
        f"> {results['meta']['shared_machine']}",
    ]
    for title, headers, rows in tables(results):
        lines += [
            "",
            f"## {title}",
            "",
            "| " + " | ".join(headers) + " |",
            "|" + "---|" * len(headers),
        ]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    out.with_suffix(".md").write_text(render_markdown(results))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        action="store_const",
        dest="profile",
        const="quick",
        help="about a minute: smaller sizes, one repetition",
    )
    size.add_argument(
        "--smoke",
        action="store_const",
        dest="profile",
        const="smoke",
        help="seconds: the smallest run that still checks everything",
    )
    parser.add_argument(
        "--only", help="comma-separated sections: throughput, lateness, scaling, receivers"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="JSON file (default bench/results.json for "
        "the full run, bench/results-<profile>.json "
        "otherwise)",
    )
    parser.add_argument(
        "--receiver",
        choices=("raw", "uvicorn"),
        default="raw",
        help="the bench receiver's server (default raw asyncio)",
    )
    parser.add_argument(
        "--profile-receiver",
        action="store_true",
        help="run the receiver under cProfile (first run) and report its "
        "heaviest functions; slows the receiver down",
    )
    args = parser.parse_args(argv)
    profile = args.profile or "full"
    out = args.out or BENCH_DIR / (
        "results.json" if profile == "full" else f"results-{profile}.json"
    )
    sections = args.only.split(",") if args.only else None
    results = run_benchmark(
        profile, sections=sections, server=args.receiver, profile_receiver=args.profile_receiver
    )
    print(render_text(results))
    if "receiver_profile" in results:
        print("\nReceiver profile (own time):")
        for row in results["receiver_profile"]:
            print(
                f"  {row['share']:6.1%}  {row['own_s']:7.3f} s  {row['calls']:>8}  "
                f"{row['function']}"
            )
    write(results, out)
    print(f"\nwrote {out} and {out.with_suffix('.md')} in {results['meta']['duration_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
