"""Wait for a condition with a timeout, never for a fixed time."""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    """A condition did not hold in time; the message says what was expected."""


def wait_until(
    condition: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.02,
) -> T:
    """Poll `condition` until it returns something truthy, and return that.

    Raises WaitTimeout naming `what` when `timeout` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except (OSError, httpx.HTTPError) as error:  # not up yet: keep polling
            last_error = error
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for {what}{detail}")
        time.sleep(interval)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every poll: httpx.get would load the CA bundle again for each call
    (tens of milliseconds of CPU each, seconds over a test run)."""
    return ssl.create_default_context()


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The status code of GET url, or None when nothing answers."""
    try:
        return httpx.get(url, timeout=timeout, verify=_tls()).status_code
    except httpx.HTTPError:
        return None


def wait_for_http(
    url: str, *, status: int | tuple[int, ...] = 200, timeout: float = 30, what: str | None = None
) -> int:
    """Wait until GET url answers with `status` (one code or several)."""
    wanted = (status,) if isinstance(status, int) else status
    return wait_until(
        lambda: (code := http_status(url)) in wanted and code,
        timeout=timeout,
        what=what or f"{url} to answer {'/'.join(map(str, wanted))}",
    )


def wait_for_count(fetch: Callable[[], list[T]], count: int, timeout: float, what: str) -> list[T]:
    """Poll `fetch` until it returns at least `count` records, and return them all.

    `what` names the records ("triggers of job 'x'"); the timeout message says how many."""
    return wait_until(
        lambda: len(got := fetch()) >= count and got,
        timeout=timeout,
        what=f"{count} {what}",
    )
