"""A workflow worker: the Dapr Python SDK's workflow runtime (dapr-ext-workflow) with one
workflow, `patrol`, that waits on a durable timer and returns.

    input  {"droid": "R2-D2", "seconds": 2}        (seconds: 0 to 3600; 1 when left out)
    output {"patrolled": "R2-D2", "after_seconds": 2.0}

The worker connects to its sidecar's gRPC port (DAPR_GRPC_PORT) and receives the workflow's
work from it; a workflow is started and read over the sidecar's HTTP workflow API
(POST /v1.0/workflows/dapr/patrol/start, GET /v1.0/workflows/dapr/<instance>). A timer is kept
by the scheduler, as a reminder of the workflow's internal actor. Run it as
`python -m workbook.experiments.patrol_workflow.app`; harness.py beside this file starts it.
"""

from __future__ import annotations

import os
import signal
import threading
from datetime import timedelta

import dapr.ext.workflow as wf

MAX_SECONDS = 3600.0
runtime = wf.WorkflowRuntime(host="127.0.0.1", port=os.environ.get("DAPR_GRPC_PORT", "50001"))


def patrol_seconds(order: object) -> float:
    """The timer's length from the input; a clear error for anything else than 0-3600 s."""
    order = order if isinstance(order, dict) else {}
    seconds = order.get("seconds", 1)
    if type(seconds) not in (int, float) or not 0 <= seconds <= MAX_SECONDS:
        raise ValueError(f'"seconds" must be a number from 0 to {MAX_SECONDS:g}')
    return float(seconds)


@runtime.workflow(name="patrol")
def patrol(ctx: wf.DaprWorkflowContext, order: object):
    seconds = patrol_seconds(order)
    yield ctx.create_timer(timedelta(seconds=seconds))
    droid = order.get("droid", "R2-D2") if isinstance(order, dict) else "R2-D2"
    return {"patrolled": droid, "after_seconds": seconds}


def main() -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runtime.start()
    print("workflow worker started: patrol", flush=True)
    stop.wait()
    runtime.shutdown()


if __name__ == "__main__":
    main()
