"""The metrics and log readers of workbook.lessons.observability, on text as daprd writes it."""

from __future__ import annotations

from workbook.lessons.observability import (
    Resiliency,
    counters,
    exposed_name,
    moved,
    trigger_failures,
)

PAGE = """# HELP dapr_component_job_success_count The number of successful job triggers.
# TYPE dapr_component_job_success_count counter
dapr_component_job_success_count{app_id="a",namespace="",operation="job_trigger_op"} 2
# HELP dapr_scheduler_jobs_created_total The total number of jobs scheduled.
# TYPE dapr_scheduler_jobs_created_total counter
dapr_scheduler_jobs_created_total{type="job"} 3
"""
LOG = (
    'time="t" level=error msg="unexpected status code returned from app while processing '
    'triggered job r2-oil. status code returned: 2" app_id=a\n'
    'time="t" level=error msg="failed to invoke schedule app job: unexpected status code '
    'returned from app while processing triggered job r2-oil. status code returned: 2" app_id=a\n'
    'time="t" level=error msg="non-retriable error returned from app while processing '
    'triggered job r2-oil-2. status code returned: 5" app_id=a\n'
)


def test_counter_names_are_kept_as_the_page_spells_them():
    assert exposed_name("dapr_component_job_success_count_total", PAGE) == (
        "dapr_component_job_success_count"
    )
    assert exposed_name("dapr_scheduler_jobs_created_total", PAGE) == (
        "dapr_scheduler_jobs_created_total"
    )


def test_moved_keeps_changes_and_counters_drops_sums():
    before = {"a": 1.0, "b_sum": 2.0, "c": 5.0}
    after = {"a": 2.0, "b_sum": 2.345, "c": 5.0, "d": 1.0}
    assert moved(before, after) == {"a": 1.0, "b_sum": 0.3, "d": 1.0}
    assert counters(moved(before, after)) == {"a": 1.0, "d": 1.0}


def test_failure_lines_of_one_job_without_the_echo():
    assert trigger_failures(LOG, "r2-oil") == [
        'level=error msg="unexpected status code ... triggered job r2-oil. status code returned: 2"'
    ]
    assert trigger_failures(LOG, "r2-oil-2") == [
        'level=error msg="non-retriable error ... triggered job r2-oil-2. status code returned: 5"'
    ]


def test_the_resiliency_spec_targets_the_app_id():
    text = Resiliency(timeout="1s", retries=3).yaml("droids")
    assert "kind: Resiliency" in text
    assert "      droids:\n        timeout: short\n        retry: a-few-times" in text
    assert "short: 1s" in text
    assert "maxRetries: 3" in text
