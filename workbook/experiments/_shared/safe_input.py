"""Reading a request body that may be hostile, for the experiment apps (standard library only).

Python's json module raises more than JSONDecodeError: RecursionError for arrays or objects
nested about a thousand levels deep (a 2 KB body), and a plain ValueError for an integer of
more than 4,300 digits (sys.get_int_max_str_digits()). Uncaught, either is a 500 and a
traceback, and Dapr retries a 500. `parse_json` refuses nesting deeper than MAX_DEPTH before
parsing (the same answer whatever the call stack) and turns every such body into BadBody,
whose str() is the one-line reason; `read_limited` stops reading a body past a size or a time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import sys
from collections.abc import AsyncIterator

MAX_BODY_BYTES = 64 * 1024  # larger bodies are refused (413); Dapr's triggers are far smaller
BODY_TIMEOUT_VARIABLE = "BODY_TIMEOUT_SECONDS"  # another time limit (the unit tests use 2.5 s)


def body_seconds(default: float = 5.0) -> float:
    """The time limit for a body: BODY_TIMEOUT_SECONDS if set (a number above 0), else 5 s."""
    text = os.environ.get(BODY_TIMEOUT_VARIABLE, "")
    try:
        seconds = float(text) if text else default
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise SystemExit(f"{BODY_TIMEOUT_VARIABLE}={text!r} is not a number of seconds above 0")
    return seconds


BODY_SECONDS = body_seconds()  # a body must arrive within this time (408): daprd sends it at once
MAX_DEPTH = 32  # arrays and objects nested deeper are refused, before json.loads sees them
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')  # a JSON string (brackets inside do not count)


class BadBody(ValueError):
    """A body the app can never process; str() is the one-line reason."""


def parse_json(body: bytes) -> object:
    """The JSON value of a UTF-8 body, or BadBody saying why there is none."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody("body is not UTF-8 text") from None
    if nesting_depth(text) > MAX_DEPTH:
        raise BadBody(f"body nests arrays or objects deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BadBody(f"body is not JSON: {error}") from None
    except RecursionError:
        raise BadBody("body nests arrays or objects too deeply to be read") from None
    except ValueError:  # the int-from-string limit
        digits = sys.get_int_max_str_digits()
        raise BadBody(f"body has a number of more than {digits} digits") from None


def nesting_depth(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets in strings left out)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot be too deep: skip the scan
    steps = (1 if c in "[{" else -1 for c in _STRING.sub("", text) if c in "[]{}")
    return max(itertools.accumulate(steps), default=0)


class TooLarge(BadBody):
    status = 413


class TooSlow(BadBody):
    status = 408


async def read_limited(
    chunks: AsyncIterator[bytes], limit: int = MAX_BODY_BYTES, seconds: float = BODY_SECONDS
) -> bytes:
    """The whole body from an async iterator of chunks (Starlette's request.stream()), or
    TooLarge past `limit` bytes, or TooSlow when it takes longer than `seconds`."""

    async def read() -> bytes:
        got, size = [], 0
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"body larger than {limit} bytes")
            got.append(chunk)
        return b"".join(got)

    try:
        return await asyncio.wait_for(read(), timeout=seconds)
    except TimeoutError:
        raise TooSlow(f"body did not arrive within {seconds:g} s") from None


def printable_output() -> None:
    """Print any text without failing: a name or a body with characters the terminal's
    encoding lacks (or a lone surrogate) is escaped instead of raising UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(errors="backslashreplace")
