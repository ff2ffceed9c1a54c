"""The benchmark's trigger receiver: records when each job trigger arrives, and nothing else.

Two servers, the same endpoints:

- `--server raw` (the default): an asyncio.Protocol that parses HTTP/1.1 itself. It costs a
  few hundredths of a millisecond per trigger, so the app side is out of the way when the
  benchmark measures the scheduler and the sidecar.
- `--server uvicorn`: a bare ASGI app on uvicorn (h11): what a lean Python web app costs,
  without a framework, access log or print per trigger.

Either way the arrival time is taken before anything else, the body is not parsed, and what
was recorded is read in bulk afterwards (`GET /arrivals`), so measuring does not slow delivery.

    python -m workbook.experiments.bench_receiver.app --port 6300 [--server raw|uvicorn]

    POST /job/<name>    a trigger: recorded, answered 200
    GET  /count         {"count": <triggers so far>}
    GET  /arrivals      [[name, epoch seconds], ...] (optional ?start=<index>)
    POST /reset         forget everything recorded
    GET  /healthz       {"status": "ok"}

A malformed request (a bad request line or Content-Length, a body over 64 KB, a bad ?start)
gets a 4xx and one line on stderr, never a traceback.

Set BENCH_PROFILE=<path> to run under cProfile and write the stats there on shutdown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from urllib.parse import parse_qs

_arrivals: list[tuple[str, float]] = []
MAX_BODY_BYTES = 64 * 1024  # larger bodies (and header blocks) are refused
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Content Too Large"}


class BadRequest(ValueError):
    """A request this receiver refuses; str() is the one-line reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


def refused(error: BadRequest) -> tuple[int, dict]:
    print(f"bench_receiver: refused a request ({error.status}): {error}", file=sys.stderr)
    return error.status, {"error": str(error)}


_OK_EMPTY = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]}
_EMPTY_BODY = {"type": "http.response.body", "body": b""}


def control(method: str, path: str, query: str) -> tuple[int, object]:
    """Everything but triggers: status and JSON value."""
    if path == "/count":
        return 200, {"count": len(_arrivals)}
    if path == "/arrivals":
        start = parse_qs(query).get("start", ["0"])[0]
        if not (start.isascii() and start.isdigit()):
            return refused(BadRequest(400, f"start must be a whole number, got {start[:40]!r}"))
        return 200, _arrivals[int(start) :]
    if path == "/reset" and method == "POST":
        _arrivals.clear()
        return 200, {"count": 0}
    if path == "/healthz":
        return 200, {"status": "ok"}
    return 404, {"error": "not found"}


class RawHTTP(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, just enough for daprd's triggers and the control calls."""

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        arrived = time.time()  # when the bytes came in: the earliest the app can know
        self.buffer += data
        try:
            self._answer_complete_requests(arrived)
        except BadRequest as error:
            self._reply(*refused(error))
            self.transport.close()  # the rest of the stream cannot be trusted

    def _answer_complete_requests(self, arrived: float) -> None:
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            length = content_length(head[1:])
            if len(self.buffer) < end + 4 + length:
                return  # the body is still on its way
            self.buffer = self.buffer[end + 4 + length :]
            parts = head[0].split(" ")
            if len(parts) != 3 or not parts[1].startswith("/"):
                raise BadRequest(400, f"bad request line {head[0][:80]!r}")
            method, target = parts[:2]
            path, _, query = target.partition("?")
            if path.startswith("/job/"):
                _arrivals.append((path[5:], arrived))
                self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                continue
            self._reply(*control(method, path, query))
        if len(self.buffer) > MAX_BODY_BYTES:
            raise BadRequest(413, f"no end of the headers in the first {MAX_BODY_BYTES} bytes")

    def _reply(self, status: int, value) -> None:
        body = json.dumps(value).encode()
        self.transport.write(
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n".encode()
            + body
        )


def content_length(header_lines: list[str]) -> int:
    """The Content-Length of a request (0 without one), or BadRequest."""
    for line in header_lines:
        if line[:15].lower() == "content-length:":
            value = line[15:].strip()
            if not (value.isascii() and value.isdigit()):
                raise BadRequest(400, f"bad Content-Length {value[:40]!r}")
            if int(value) > MAX_BODY_BYTES:
                raise BadRequest(413, f"body of {value} bytes is larger than {MAX_BODY_BYTES}")
            return int(value)
    return 0


async def serve_raw(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(RawHTTP, "127.0.0.1", port, backlog=4096)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path.startswith("/job/"):
        arrived = time.time()  # first thing: everything after this is the app's own cost
        size, message = 0, {"more_body": True}
        while message.get("more_body"):
            message = await receive()
            size += len(message.get("body", b""))
            if size > MAX_BODY_BYTES:
                error = BadRequest(413, f"body larger than {MAX_BODY_BYTES} bytes")
                await _json(send, *reversed(refused(error)))
                return
        _arrivals.append((path[5:], arrived))
        await send(_OK_EMPTY)
        await send(_EMPTY_BODY)
    else:
        status, value = control(scope["method"], path, scope["query_string"].decode())
        await _json(send, value, status)


async def _json(send, value, status: int = 200) -> None:
    body = json.dumps(value).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("APP_PORT", "6300")))
    parser.add_argument("--server", choices=("raw", "uvicorn"), default="raw")
    args = parser.parse_args()
    run = (
        (lambda: asyncio.run(serve_raw(args.port)))
        if args.server == "raw"
        else (lambda: run_uvicorn(args.port))
    )
    profile_path = os.environ.get("BENCH_PROFILE")
    if not profile_path:
        run()
        return
    import cProfile

    # uvicorn re-raises SIGTERM after its graceful shutdown; a no-op handler lets the
    # profile be written before the process ends.
    signal.signal(signal.SIGTERM, lambda *_: None)
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        run()
    finally:
        profiler.disable()
        profiler.dump_stats(profile_path)


def run_uvicorn(port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http="h11",
        loop="asyncio",
        lifespan="off",
        access_log=False,
        log_level="warning",  # a log line per trigger costs more than the rest
        backlog=4096,  # daprd may open up to 1024 connections at once in a burst
        timeout_keep_alive=60,  # keep daprd's connections open between waves of triggers
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
