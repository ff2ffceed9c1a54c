"""Checks of notebook 02 · Handling triggers: the learner's own handler, delivered to for real.

Each check puts the learner's `on_trigger(name, body) -> status` into the notebook's second
app (workbook.lessons.handler_app.HandlerApp, with its own sidecar), schedules a job through
that app's sidecar, and looks at what the real scheduler delivered and what the handler did.
"""

from __future__ import annotations

import time

from jobs_client import JobsClient
from workbook.lessons.exercises import NotYet, answered
from workbook.runtime.apps import unique_name
from workbook.runtime.waiting import WaitTimeout, wait_until

WRONG = {
    # The older examples' habit: base64-decode the body (Dapr 1.18 sends plain JSON).
    "2.1": (
        "import base64\n"
        "def on_trigger(name, body):\n"
        "    job = json.loads(base64.b64decode(body))\n"
        '    work_done.append((name, job["droid"], job["task"]))\n'
        "    return 200\n"
    ),
    # 422 feels right for a bad body, but Dapr retries it.
    "2.2": (
        "def on_trigger(name, body):\n"
        "    try:\n"
        "        job = json.loads(body)\n"
        '        droid, task = job["droid"], job["task"]\n'
        "    except (ValueError, TypeError, KeyError):\n"
        "        return 422\n"
        "    work_done.append((name, droid, task))\n"
        "    return 200\n"
    ),
    # The handler of 2.1 as it is: every delivery does the work again.
    "2.3": (
        "def on_trigger(name, body):\n"
        "    job = json.loads(body)\n"
        '    work_done.append((name, job["droid"], job["task"]))\n'
        "    return 200\n"
    ),
    # Scheduling through the sidecar of the app whose code you are writing.
    "2.4": "through = registry.sidecar_url",
}
OIL_CHANGE = {"droid": "R2-D2", "task": "Oil Change"}
RUN_KEY = "2026-12-01"
# Dapr's default policy redelivers a failed trigger 1 s later (notebook 04 measures it); the
# check waits that plus a margin for a busy machine before it says "not delivered again".
NO_RETRY_WAIT = 2.0


def _handler(on_trigger):
    on_trigger = answered(on_trigger, "on_trigger")
    if not callable(on_trigger):
        raise NotYet(f"on_trigger is a {type(on_trigger).__name__}; define it with def")
    return on_trigger


def _first_delivery(registry, name: str, timeout: float = 5) -> dict:
    try:
        return registry.wait_for(name, timeout=timeout)[0]
    except WaitTimeout:
        raise NotYet(f"no trigger of {name} reached {registry.app_id} in {timeout:g} s") from None


def _said(delivery: dict) -> str:
    if "returned" in delivery:
        placeholder = " (is its body still the placeholder `...`?)"
        return (
            f"your handler returned {delivery['returned']!r}, not a status code"
            f"{placeholder if delivery['returned'] is None else ''}, so the app answered 500"
        )
    if "error" in delivery:
        return (
            f"your handler raised {delivery['error']} on the body Dapr sent, "
            f"{delivery['body']!r}, so the app answered 500"
        )
    return f"your handler answered {delivery['status']}"


def handler_does_the_work(registry, on_trigger, work_done) -> str:
    """2.1: a real trigger reaches the learner's handler, which answers 2xx and does the work."""
    registry.handler = _handler(on_trigger)
    name = unique_name("oil-change")
    registry.jobs.schedule(name, due_time="0s", data=OIL_CHANGE, failure_policy={"drop": {}})
    delivery = _first_delivery(registry, name)
    if "error" in delivery or "returned" in delivery or not 200 <= delivery["status"] < 300:
        raise NotYet(f"{_said(delivery)}; a trigger that was handled must get a 2xx")
    expected = (name, "R2-D2", "Oil Change")
    if expected not in list(answered(work_done, "work_done")):
        raise NotYet(
            f"{_said(delivery)}, but work_done does not hold {expected}: append "
            "(name, droid, task) for each trigger handled"
        )
    return (
        f"Dapr sent POST /job/{name} with body {delivery['body'].decode()}; your handler "
        f"answered {delivery['status']} and recorded {expected}"
    )


def handler_skips_repeats(registry, on_trigger, work_done) -> str:
    """2.3: two deliveries with the same run key: the work is done once, both answered 2xx."""
    registry.handler = _handler(on_trigger)
    name = unique_name("oil-change")
    data = OIL_CHANGE | {"run": RUN_KEY}
    # Two deliveries with identical data, 0.5 s apart: what a redelivery looks like to an app.
    registry.jobs.schedule(
        name, schedule="@every 500ms", repeats=2, data=data, failure_policy={"drop": {}}
    )
    try:
        deliveries = registry.wait_for(name, count=2, timeout=6)
    except WaitTimeout:
        got = registry.received(name)
        raise NotYet(f"{len(got)} of 2 deliveries of {name} arrived in 6 s") from None
    for number, delivery in enumerate(deliveries, 1):
        if "error" in delivery or "returned" in delivery or not 200 <= delivery["status"] < 300:
            raise NotYet(
                f"delivery {number}: {_said(delivery)}; a repeat is done work, so it is "
                "delivered: answer 2xx (any other answer but 404 makes Dapr retry)"
            )
    times = [entry for entry in answered(work_done, "work_done") if entry and entry[0] == name]
    if len(times) != 1:
        raise NotYet(
            f"two deliveries of run {RUN_KEY!r} made your handler do the work {len(times)} "
            "time(s): remember each (name, run) done and skip the ones seen before"
        )
    gap = deliveries[1]["received_at"] - deliveries[0]["received_at"]
    return (
        f"2 deliveries of run {RUN_KEY!r}, {gap:.2f} s apart, both answered "
        f"{deliveries[1]['status']}; the work was done once"
    )


def trigger_reaches_job_service(wb, registry, through) -> str:
    """2.4: scheduled through the right sidecar, the trigger reaches job_service."""
    through = answered(through, "through")
    sidecars = {wb.sidecar_url: wb.service.app_id, registry.sidecar_url: registry.app_id}
    if through not in sidecars:
        raise NotYet(f"through is {through!r}; choose wb.sidecar_url or registry.sidecar_url")
    name = wb.name("limb-calibration")
    started = time.time()
    with JobsClient(through) as jobs:
        jobs.schedule(name, due_time="0s", data={"droid": "C-3PO", "task": "Limb Calibration"})
        try:
            wait_until(
                lambda: wb.received(name) or registry.received(name),
                timeout=5,
                what=f"the trigger of {name} at either app",
            )
        except WaitTimeout:
            raise NotYet(f"the trigger of {name} reached neither app in 5 s") from None
        finally:
            jobs.delete(name)
    if registry.received(name):
        raise NotYet(
            f"the trigger went to {registry.app_id}: a job's triggers go to the app ID of the "
            f"sidecar that scheduled it, and you scheduled through the sidecar of "
            f"{sidecars[through]}"
        )
    trigger = wb.received(name)[0]
    return (
        f"scheduled through {through}: the trigger reached job_service "
        f"({wb.service.app_id}) {trigger['received_at'] - started:.2f} s later"
    )


def hopeless_not_retried(registry, on_trigger) -> str:
    """2.2: a body the handler can never use is answered so that Dapr does not retry it."""
    registry.handler = _handler(on_trigger)
    name = unique_name("hopeless")
    registry.jobs.schedule(name, due_time="0s", data="garbage")  # the default failure policy
    try:
        first = _first_delivery(registry, name)
        if "returned" in first:
            raise NotYet(_said(first))
        if "error" in first:
            raise NotYet(f"{_said(first)}; catch what json.loads and the lookups raise")
        try:
            second = registry.wait_for(name, count=2, timeout=NO_RETRY_WAIT)[1]
        except WaitTimeout:
            return (
                f"your handler answered {first['status']} to the body {first['body']!r}, and "
                f"Dapr did not deliver it again in {NO_RETRY_WAIT:g} s"
            )
    finally:
        registry.jobs.delete(name)  # no retries left running after the check
    gap = second["received_at"] - first["received_at"]
    raise NotYet(
        f"Dapr delivered it again {gap:.1f} s later: your handler answered {first['status']}, "
        "which the failure policy retries; answer 404 (or a 2xx, logging the drop)"
    )
