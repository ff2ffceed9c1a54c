"""The learning path: each notebook's title and objective, with its measured run time.

The run times come from notebooks/run_times.json, which `workbook notebooks run` writes from
the real execution of each notebook; the same run rewrites the README's table and re-executes
notebook 00, which renders the table too. So each time is stated from one place, and tests
check both against it.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbook.config import ROOT

RUN_TIMES = ROOT / "notebooks" / "run_times.json"
README = ROOT / "README.md"
README_START = "<!-- the learning path: written by `workbook notebooks run` -->"
README_END = "<!-- end of the learning path -->"

# file -> (title, what the learner can do after it)
PATH = {
    "00_start_here.ipynb": (
        "Start here",
        "say what Dapr, a sidecar, an app ID, a namespace and the scheduler are; call your "
        "sidecar yourself",
    ),
    "01_schedule_get_delete.ipynb": (
        "Schedule, get and delete",
        "schedule a job with a plain HTTP request, read it back, watch its trigger arrive, "
        "delete a job before it fires",
    ),
    "02_handling_triggers.ipynb": (
        "Handling triggers",
        "write a trigger handler, know what Dapr sends and what your status code makes it do, "
        "make a repeated delivery harmless, pick the right sidecar",
    ),
    "03_schedules.ipynb": (
        "Schedules",
        "choose dueTime, @every, cron, CRON_TZ, repeats and ttl, and predict when a job fires",
    ),
    "04_failure_policies.ipynb": (
        "Failure policies",
        "predict which answers Dapr retries, how often and how far apart, and choose a policy",
    ),
    "05_overwrite_and_errors.ipynb": (
        "Overwrite and errors",
        "replace a job on purpose, and read what each mistake's error says",
    ),
    "06_python_sdk.ipynb": (
        "The Python SDK",
        "schedule and receive jobs with DaprClient and dapr-ext-grpc, across gRPC and HTTP",
    ),
    "07_durability_and_replicas.ipynb": (
        "Durability and replicas",
        "know what survives a crashed scheduler or sidecar, and how replicas share triggers",
    ),
    "08_jobs_vs_cron_binding.ipynb": (
        "Jobs vs the cron binding",
        "choose between a job and the cron input binding for a recurring task",
    ),
    "09_performance.ipynb": (
        "Performance",
        "measure how late triggers are and how fast jobs can be scheduled, and read the bench",
    ),
    "10_to_production.ipynb": (
        "To production",
        "run three schedulers as one group and know what one or two losses do, read the HA "
        "Helm chart, size, back up and upgrade a scheduler's data",
    ),
    "11_listing_metrics_tokens.ipynb": (
        "Listing, metrics and tokens",
        "list and bulk-delete an app's jobs over gRPC, predict when @daily fires, know what "
        "Resiliency does not cover, read the jobs' metrics and logs, guard a sidecar with tokens",
    ),
    "12_inside_the_scheduler.ipynb": (
        "Inside the scheduler",
        "read a job's etcd key with etcdctl, tell an actor reminder from a timer and a job, find "
        "a workflow timer, back up and restore the scheduler, turn on mTLS with Sentry",
    ),
}


def run_times(path: Path = RUN_TIMES) -> dict[str, float]:
    return json.loads(path.read_text()) if path.exists() else {}


def about(seconds: float) -> str:
    """How the course states a run time: '~12 s' (to 5 s from a minute on)."""
    if seconds >= 60:
        return f"~{round(seconds / 5) * 5:.0f} s"
    return f"~{max(1, round(seconds)):.0f} s"


def exercise_count(file: str) -> int:
    """How many exercises (code cells tagged `exercise`) the stored notebook has."""
    path = ROOT / "notebooks" / file
    if not path.exists():
        return 0
    cells = json.loads(path.read_text())["cells"]
    return sum("exercise" in cell.get("metadata", {}).get("tags", []) for cell in cells)


def learning_path_markdown(link_prefix: str = "") -> str:
    """The learning path as a markdown table: objective, exercises and measured run time of
    each notebook (`link_prefix="notebooks/"` for the README)."""
    times = run_times()
    rows = [
        "| notebook | after it you can | exercises | run time |",
        "| --- | --- | --- | --- |",
    ]
    for file, (title, objective) in PATH.items():
        measured = about(times[file]) if file in times else "not measured yet"
        link = f"[{file[:2]} · {title}]({link_prefix}{file})"
        rows.append(f"| {link} | {objective} | {exercise_count(file)} | {measured} |")
    total = sum(times.get(file, 0) for file in PATH)
    exercises = sum(exercise_count(file) for file in PATH)
    rows.append(f"| all {len(PATH)} | | {exercises} | {about(total)} |")
    return "\n".join(rows)


def write_readme_table(readme: Path = README) -> bool:
    """Put the learning path between the README's markers; True if the README changed."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return False
    before, rest = text.split(README_START, 1)
    _, after = rest.split(README_END, 1)
    table = learning_path_markdown("notebooks/")
    updated = f"{before}{README_START}\n{table}\n{README_END}{after}"
    if updated != text:
        readme.write_text(updated)
    return updated != text
