"""What an operator sees of jobs: Prometheus metrics of daprd and the scheduler, daprd's log
lines about failed triggers, and a Resiliency spec put to the test against job triggers.

    with ObservedReceiver(scheduler, resiliency=Resiliency(timeout="500ms", retries=2)) as app:
        before = job_metrics(app.metrics_url) | job_metrics(scheduler_metrics_url(scheduler))
        ...
        moved(before, after)               # {"dapr_component_job_failure_count": 1.0, ...}
        trigger_failures(app.sidecar.process.log_text(), name)

ObservedReceiver is the failing receiver of notebook 04 (its job data says how it answers)
with daprd's metrics switched on (on a free port) and, if asked, a Resiliency spec whose app
target is the receiver's own app ID.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from workbook.experiments.failing_receiver.harness import FailingReceiver
from workbook.runtime.processes import free_port
from workbook.runtime.scheduler import Scheduler

# The families that are about jobs: daprd's (component_job_*) and the scheduler's.
JOB_FAMILIES = ("dapr_component_job_", "dapr_scheduler_")
# Labels that only say who is reporting (same on every sample): left out of the short names.
QUIET_LABELS = {"app_id", "namespace", "operation"}


def scheduler_metrics_url(scheduler: Scheduler) -> str:
    return f"http://127.0.0.1:{scheduler.ports['metrics_port']}/metrics"


def job_metrics(url: str, families: tuple[str, ...] = JOB_FAMILIES) -> dict[str, float]:
    """The samples of a /metrics page whose names start with one of `families`, as
    {"name{label=value,...}": value}; histogram buckets are left out (their sums and counts
    stay), and so are the labels in QUIET_LABELS."""
    text = httpx.get(url, timeout=5).text
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.name.startswith(families) or sample.name.endswith("_bucket"):
                continue
            if sample.name.endswith("_created"):  # the client library's own timestamps
                continue
            name = exposed_name(sample.name, text)
            labels = ",".join(
                f"{key}={value}"
                for key, value in sorted(sample.labels.items())
                if key not in QUIET_LABELS
            )
            samples[f"{name}{{{labels}}}" if labels else name] = sample.value
    return samples


def exposed_name(name: str, text: str) -> str:
    """The sample's name as the page spells it: the parser adds "_total" to every counter
    (OpenMetrics style), and daprd's counters end in "_count" without it."""
    if name.endswith("_total") and not re.search(rf"^{re.escape(name)}[{{ ]", text, re.M):
        return name.removesuffix("_total")
    return name


def moved(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """The samples whose value changed, with the change (latency sums rounded to 0.1)."""
    changes = {}
    for key, value in after.items():
        change = value - before.get(key, 0.0)
        if change:
            changes[key] = round(change, 1) if "_sum" in key else change
    return dict(sorted(changes.items()))


def counters(changes: dict[str, float]) -> dict[str, float]:
    """Only the counts (no latency sums): the part of `moved` that is exact."""
    return {key: value for key, value in changes.items() if "_sum" not in key}


# One line per failed delivery, by the app's answer mapped to a gRPC code (500 -> 2 Unknown,
# 401 -> 16 Unauthenticated, 404 -> 5 NotFound, the one daprd does not retry).
FAILURE_LINE = re.compile(
    r'level=error msg="(?P<what>unexpected status code|non-retriable error) returned from app '
    r"while processing triggered job (?P<job>\S+?)\. status code returned: (?P<code>\d+)\""
)


def trigger_failures(log_text: str, job: str) -> list[str]:
    """daprd's log lines that say a trigger of `job` failed (not the "failed to invoke" echo
    that follows each retriable one), trimmed to level and message."""
    return [
        f'level=error msg="{match["what"]} ... triggered job {match["job"]}. '
        f'status code returned: {match["code"]}"'
        for match in FAILURE_LINE.finditer(log_text)
        if match["job"] == job
    ]


@dataclass(frozen=True)
class Resiliency:
    """A Resiliency spec for one app as a target: a timeout and constant retries."""

    timeout: str = "500ms"
    retries: int = 2
    retry_interval: str = "100ms"

    def yaml(self, app_id: str) -> str:
        return f"""apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: droid-app-calls
spec:
  policies:
    timeouts:
      short: {self.timeout}
    retries:
      a-few-times:
        policy: constant
        duration: {self.retry_interval}
        maxRetries: {self.retries}
  targets:
    apps:
      {app_id}:
        timeout: short
        retry: a-few-times
"""


class ObservedReceiver(FailingReceiver):
    """The failing receiver with daprd's metrics on (free port) and an optional Resiliency."""

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        resiliency: Resiliency | None = None,
        app_id: str | None = None,
        log_dir: Path | None = None,
    ):
        super().__init__(scheduler, app_id=app_id, log_dir=log_dir)
        self.metrics_port = free_port()
        self.sidecar.extra_args += [
            "--enable-metrics=true",  # the later flag wins over the helper's =false
            "--metrics-port",
            str(self.metrics_port),
            "--metrics-listen-address",
            "127.0.0.1",
        ]
        self.resiliency = resiliency
        self.resources: Path | None = None
        if resiliency:
            # daprd loads the resources folder at start; the self-hosted name is resiliency.yaml
            self.resources = Path(tempfile.mkdtemp(prefix="resiliency-"))
            (self.resources / "resiliency.yaml").write_text(resiliency.yaml(self.app_id))
            self.sidecar.resources_path = self.resources

    def stop(self) -> None:
        super().stop()
        if self.resources:
            shutil.rmtree(self.resources, ignore_errors=True)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def invoke(self, path: str, body: dict, timeout: float = 30) -> httpx.Response:
        """Service invocation of this app through its own sidecar (where Resiliency applies)."""
        return httpx.post(
            f"{self.sidecar.http_url}/v1.0/invoke/{self.app_id}/method/{path}",
            json=body,
            timeout=timeout,
        )
