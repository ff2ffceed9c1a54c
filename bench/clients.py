"""The clients that load and time calls: keep-alive http.client per thread, a thread pool
that times each call, and httpx.AsyncClient workers."""

from __future__ import annotations

import asyncio
import http.client
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx


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
        except Exception:  # a failed call is counted, the run goes on
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


async def async_calls(
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
