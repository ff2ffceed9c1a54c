"""2. Scheduling throughput and per-call latency: HTTP clients and the SDK's gRPC client."""

from __future__ import annotations

import json

import httpx

from bench.clients import async_calls, run_coroutine, timed_calls
from bench.cpu import limiting_side
from bench.profiles import Profile
from bench.stack import Stack
from bench.stats import dist
from bench.timing import settle
from workbook.runtime.apps import unique_name


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
            async_calls(jobs_url, method, batch, conc, payload, expected)
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
