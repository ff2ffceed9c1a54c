"""Checks of notebook 00 · Start here: the learner talks to their sidecar for the first time."""

from __future__ import annotations

import httpx

from workbook.lessons.exercises import NotYet, answered

WRONG = {
    # Mixing up the app's port with its sidecar's: the app has no /v1.0/healthz.
    "0.1": (
        "sidecar_port = wb.service.app_port\n"
        'health = httpx.get(f"http://127.0.0.1:{sidecar_port}/v1.0/healthz")'
    ),
    # The app ID of the droid quickstart's dapr.yaml, not the one this lab's sidecar runs with.
    "0.2": 'app_id = "job-service"',
    # The address the sidecar calls the app on, not the scheduler's.
    "0.3": (
        'metadata = httpx.get(f"{wb.sidecar_url}/v1.0/metadata").json()\n'
        'scheduler_address = metadata["appConnectionProperties"]["channelAddress"]'
    ),
}


def metadata(wb) -> dict:
    return httpx.get(f"{wb.sidecar_url}/v1.0/metadata", timeout=5).json()


def healthz_answered(wb, sidecar_port, health) -> str:
    """0.1: the learner found the sidecar's HTTP port and called its /v1.0/healthz."""
    sidecar_port = answered(sidecar_port, "sidecar_port")
    health = answered(health, "health")
    real = wb.service.sidecar.http_port
    if sidecar_port == wb.service.app_port:
        raise NotYet(
            f"port {sidecar_port} is job_service's own port (the app), not its sidecar's; the "
            f"set-up cell printed the sidecar's: 'its sidecar at http://127.0.0.1:<port>'"
        )
    if str(sidecar_port) != str(real):
        raise NotYet(
            f"nothing of this lab listens on port {sidecar_port}; read the port from 'its "
            f"sidecar at http://127.0.0.1:<port>' in the set-up cell's output"
        )
    if not isinstance(health, httpx.Response):
        raise NotYet(
            f"health is a {type(health).__name__}; make it the response of "
            f"httpx.get(f'http://127.0.0.1:{{sidecar_port}}/v1.0/healthz')"
        )
    url = health.request.url
    if url.port != real or url.path != "/v1.0/healthz":
        raise NotYet(
            f"you called {url} and got {health.status_code}; call /v1.0/healthz on port {real}"
        )
    if health.status_code != 204:
        raise NotYet(f"the sidecar answered {health.status_code}, not 204: is it still starting?")
    return (
        f"GET {url} answered 204 No Content in {health.elapsed.total_seconds() * 1000:.0f} ms: "
        "your sidecar is up"
    )


def app_id_read(wb, app_id) -> str:
    """0.2: the learner read the app ID from the sidecar's metadata."""
    app_id = answered(app_id, "app_id")
    reported = metadata(wb)["id"]
    if app_id != reported:
        raise NotYet(
            f"you answered {app_id!r}, but this sidecar reports a different app ID at "
            'GET /v1.0/metadata: read its "id" field'
        )
    return f"the sidecar runs with app ID {reported!r}: jobs scheduled through it belong to it"


def scheduler_address_read(wb, scheduler_address) -> str:
    """0.3: the learner read which scheduler the sidecar is connected to."""
    scheduler_address = answered(scheduler_address, "scheduler_address")
    connected = metadata(wb).get("scheduler", {}).get("connected_addresses", [])
    if scheduler_address not in connected:
        raise NotYet(
            f"you answered {scheduler_address!r}; the sidecar's metadata lists "
            f"{len(connected)} connected scheduler address(es), and that is not one: look "
            'under "scheduler" -> "connected_addresses"'
        )
    return (
        f"the sidecar is connected to the scheduler at {scheduler_address} "
        f"(the lab started it at {wb.scheduler.address})"
    )
