"""What the run ran on: the machine, the versions, and the settings of each process."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

from bench.cpu import NCPU
from bench.receivers import RECEIVER_KINDS
from bench.stack import BULK_CONCURRENCY, Stack
from bench.timing import DUPLICATE_WINDOW
from workbook import config


def versions() -> dict:
    def out(args):
        # A binary not in the page cache is read from disk first: on a shared VM disk a cold
        # `daprd --version` (128 MB with every component) once took 10 s; it takes 0.07 s warm.
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=60).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
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


def flag_setting(args: list[str], binary: Path, flag: str) -> tuple[str | None, str]:
    """The value a process runs with for `--flag`, and where it comes from: its command line, or
    the default the binary itself states in `--help`."""
    for i, arg in enumerate(args):
        if arg == f"--{flag}" and i + 1 < len(args):
            return args[i + 1], "set on its command line"
        if arg.startswith(f"--{flag}="):
            return arg.split("=", 1)[1], "set on its command line"
    return help_default(binary, flag), f"the default `{binary.name} --help` states"


def help_default(binary: Path, flag: str) -> str | None:
    """The "(default X)" that `binary --help` gives for `--flag` (None if it gives none)."""
    try:
        run = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(rf"--{re.escape(flag)}\b[^\n]*\(default ([^)]+)\)", run.stdout + run.stderr)
    return found.group(1) if found else None


def settings_text(stack: Stack, *, server: str, wanted: set[str], comparison: bool) -> dict:
    """The settings of this run, each read from the processes it started."""
    scheduler_bin, daprd_bin = config.dapr_binary("scheduler"), config.dapr_binary("daprd")
    workers, workers_from = flag_setting(stack.scheduler.args(), scheduler_bin, "workers")
    sidecar_args = stack.sidecar.args()
    metrics, metrics_from = flag_setting(sidecar_args, daprd_bin, "enable-metrics")
    limit, limit_from = flag_setting(sidecar_args, daprd_bin, "app-max-concurrency")
    receiver = (
        f"workbook.experiments.bench_receiver.app --server {server} ({RECEIVER_KINDS[server]})"
    )
    if comparison:
        receiver += "; the comparison also runs the other server and job_service"
    settings = {
        "receiver": receiver,
        "sidecar": f"daprd on loopback: --enable-metrics {metrics} ({metrics_from}), "
        f"--app-max-concurrency {limit} ({limit_from}" + (", no limit)" if limit == "-1" else ")"),
        "scheduler": f"Scheduler.isolated(): fresh etcd per run, --workers {workers} "
        f"({workers_from})",
        "loading": f"jobs loaded by http.client keep-alive connections on {BULK_CONCURRENCY} "
        "threads; due times are absolute RFC 3339 instants (microseconds)",
        "duplicate_window_s": DUPLICATE_WINDOW,
    }
    if "lateness" in wanted:
        settings["warm_up"] = (
            "each run starts with one burst not counted for the goals (reported as "
            "'aligned, cold') that opens daprd's pool of connections to the app"
        )
        settings["every"] = (
            "@every 1s jobs with an absolute dueTime and repeats; trigger k is due at dueTime + k s"
        )
    return settings
