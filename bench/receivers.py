"""App-side tuning: the same burst into job_service and into the bench receiver's two servers."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import httpx

from bench.clients import LoopbackHTTP
from bench.cpu import CpuMeter, limiting_side
from bench.stack import Stack
from bench.stats import dist
from bench.timing import make_plan, match_arrivals, settle, wait_for_instant
from workbook import config
from workbook.runtime.apps import JobService, unique_name
from workbook.runtime.processes import ManagedProcess, free_port
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_for_http, wait_until


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
    log_lines: Callable[[], int] | None = None  # lines the app has printed so far


RECEIVER_KINDS = {"raw": "asyncio.Protocol, no framework", "uvicorn": "bare ASGI on uvicorn (h11)"}


def bench_receiver(stack: Stack, server: str) -> Receiver:
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
    stack.extras.append(SimpleNamespace(stop=control.close))
    return Receiver(
        f"bench_receiver --server {server}: {RECEIVER_KINDS[server]}",
        app.pid,
        sidecar.process.pid,
        LoopbackHTTP(sidecar.http_port),
        lambda: control.get("/count").json()["count"],
        lambda: [tuple(a) for a in control.get("/arrivals").json()],
    )


def compare_receivers(stack: Stack, size: int, warmup: int = 100) -> list[dict]:
    """The same burst into three apps on the same scheduler: job_service (FastAPI, prints each
    trigger), the bench receiver on uvicorn, and on raw asyncio. Each gets
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
            "job_service: FastAPI",
            service.app.pid,
            service.sidecar.process.pid,
            LoopbackHTTP(service.sidecar.http_port),
            lambda: service.app.log_text().count("Received job"),  # asking it slows it
            service_arrivals,
            data={"droid": "R2-D2", "task": "Oil Change"},
            log_lines=lambda: service.app.log_text().count("\n"),
        ),
        bench_receiver(stack, other),
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
            lines_before = receiver.log_lines() if receiver.log_lines else 0
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
            lines = (receiver.log_lines() - lines_before) / jobs if receiver.log_lines else None
            matched = match_arrivals(plan, receiver.arrivals())
            late = matched.pop("lateness_ms")
            matched["strays"] = 0  # earlier bursts at the same app are not strays here
            stack.delete_all(plan.intended, http=receiver.http)
        label = receiver.label
        if lines is not None:
            label += f", {lines:.3g} printed lines per trigger"
        rows.append(
            {
                "receiver": label,
                "app_log_lines_per_trigger": lines,
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
