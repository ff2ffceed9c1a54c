"""Slow, stalled and truncated bodies sent over a raw socket to the real apps (uvicorn on a free
port, no Dapr needed): a body that stalls is answered 408 within the apps' time limit, a client
that leaves mid-body costs one log line, a slow but complete body is served, and each app keeps
answering others meanwhile. The bench receiver's own HTTP parser refuses malformed requests.

The apps run here with a time limit of LIMIT seconds (BODY_TIMEOUT_SECONDS) instead of their
default 5 s, so a stalled body costs 2.5 s of waiting, not 5; each app's log shows the limit it
applied. The slow but complete body takes well under that limit.
"""

from __future__ import annotations

import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from job_service import app as job_service_app
from job_service.app import BODY_SECONDS
from workbook.experiments._shared import safe_input
from workbook.runtime.processes import ManagedProcess, free_port
from workbook.runtime.waiting import wait_for_http, wait_until

ORDER = b'{"droid": "R2-D2", "task": "Oil Change", "answer": 200}'
APPS = {
    "job_service": lambda port: [sys.executable, "-m", "job_service"],
    "failing_receiver": lambda port: [
        sys.executable,
        "-m",
        "workbook.experiments.failing_receiver.app",
    ],
    "cron_binding": lambda port: [
        *(sys.executable, "-m", "workbook.experiments.cron_binding.app"),
        *("--port", str(port)),
    ],
    "bench_raw": lambda port: [
        *(sys.executable, "-m", "workbook.experiments.bench_receiver.app"),
        *("--port", str(port), "--server", "raw"),
    ],
}
HTTP_APPS = ["job_service", "failing_receiver", "cron_binding"]
LIMIT = 2.5  # the apps' time limit for a body in these tests (their default is BODY_SECONDS)
# One kept-alive client per app: a health check is then one request on an open connection
# (a new client per check costs ~20 ms of CPU, enough on a busy machine to make a slow body late).
CLIENTS: dict[int, httpx.Client] = {}


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    base = tmp_path_factory.mktemp("slow-bodies")
    running = {}
    try:
        for name, command in APPS.items():
            port = free_port()
            process = ManagedProcess(
                name,
                command(port),
                log_path=base / f"{name}.log",
                env={"APP_PORT": str(port), "BODY_TIMEOUT_SECONDS": str(LIMIT)},
            ).start()
            running[name] = (process, port)
        for name, (_process, port) in running.items():
            wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=30, what=name)
            CLIENTS[port] = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
        yield running
    finally:
        for client in CLIENTS.values():
            client.close()
        CLIENTS.clear()
        with ThreadPoolExecutor(len(APPS)) as pool:  # all four stop at once
            list(pool.map(lambda process: process.stop(), [p for p, _ in running.values()]))


def connect(port: int, timeout: float) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    conn.settimeout(timeout)
    return conn


def head(path: str, length: int | str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {length}\r\n\r\n"
    ).encode()


def read_answer(conn: socket.socket) -> bytes:
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = conn.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def status_of(answer: bytes) -> int | None:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def healthy(port: int) -> bool:
    return CLIENTS[port].get("/healthz").status_code == 200


def log_lines(process: ManagedProcess, text: str) -> list[str]:
    return [line for line in process.log_text().splitlines() if text in line]


def test_the_time_limit_is_the_same_everywhere():
    assert BODY_SECONDS == safe_input.BODY_SECONDS == 5.0


@pytest.mark.parametrize("read", [job_service_app._body_seconds, safe_input.body_seconds])
def test_another_time_limit_comes_from_the_environment_or_is_refused_plainly(read, monkeypatch):
    monkeypatch.setenv("BODY_TIMEOUT_SECONDS", "2.5")
    assert read() == 2.5
    monkeypatch.setenv("BODY_TIMEOUT_SECONDS", "")
    assert read() == 5.0
    for bad in ("soon", "0", "-1", "nan", "inf"):
        monkeypatch.setenv("BODY_TIMEOUT_SECONDS", bad)
        with pytest.raises(SystemExit) as refused:
            read()
        assert (
            str(refused.value) == f"BODY_TIMEOUT_SECONDS={bad!r} is not a number of seconds above 0"
        )


def test_a_stalled_body_is_answered_408_in_time_and_others_are_served(apps):
    """Content-Length says 1,000 bytes, 10 arrive, then nothing: all three apps at once."""
    conns = {}
    for name in HTTP_APPS:
        conns[name] = connect(apps[name][1], timeout=LIMIT + 10)
        conns[name].sendall(head("/job/stalled", 1000) + ORDER[:10])
    started = time.monotonic()
    for name in HTTP_APPS:  # meanwhile each app answers everyone else
        assert healthy(apps[name][1]), name
    with ThreadPoolExecutor(len(conns)) as pool:
        answers = dict(zip(conns, pool.map(read_answer, conns.values()), strict=True))
    waited = time.monotonic() - started
    for conn in conns.values():
        conn.close()
    assert {name: status_of(a) for name, a in answers.items()} == dict.fromkeys(HTTP_APPS, 408)
    assert LIMIT - 0.5 <= waited <= LIMIT + 8, waited
    for name in HTTP_APPS:
        process, port = apps[name]
        assert healthy(port)
        said = log_lines(process, "did not arrive within")
        assert [line.split("did not arrive within ")[1] for line in said] == [f"{LIMIT:g} s"], name


def send_slowly(port: int) -> tuple[int | None, float]:
    """The order in 8 pieces 0.1 s apart (0.7 s, well within the limit), each app asked for its
    health between pieces; the answer's status and how long the body took to send."""
    with connect(port, timeout=LIMIT + 10) as conn:
        conn.sendall(head("/job/slow", len(ORDER)))
        started = time.monotonic()
        for start in range(0, len(ORDER), 7):
            conn.sendall(ORDER[start : start + 7])
            assert healthy(port)  # one slow client blocks no one
            time.sleep(0.1)  # the slowness is the point of this test
        took = time.monotonic() - started
        return status_of(read_answer(conn)), took


def test_a_slow_but_complete_body_is_served(apps):
    """All three apps at once, each receiving its own slow body."""
    with ThreadPoolExecutor(len(HTTP_APPS)) as pool:
        ports = [apps[name][1] for name in HTTP_APPS]
        sent = dict(zip(HTTP_APPS, pool.map(send_slowly, ports), strict=True))
    assert all(took < LIMIT for _, took in sent.values()), sent  # slow, but within the limit
    assert {name: status for name, (status, _) in sent.items()} == dict.fromkeys(HTTP_APPS, 200)


def test_a_client_that_leaves_mid_body_costs_one_line_and_no_traceback(apps):
    for name in HTTP_APPS:
        process, port = apps[name]
        with connect(port, timeout=5) as conn:
            conn.sendall(head("/job/truncated", 1000) + ORDER[:10])
            time.sleep(0.2)  # let the app start reading before the client goes
        wait_until(
            lambda process=process: log_lines(process, "went away"),
            timeout=5,
            what=f"{name} to log the client that left",
        )
        assert len(log_lines(process, "went away")) == 1, process.log_text()
        assert "Traceback" not in process.log_text()
        assert healthy(port)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (head("/job/x", "abc"), 400),
        (head("/job/x", "-5"), 400),
        (head("/job/x", "²"), 400),
        (head("/job/x", 10**9), 413),
        (b"NONSENSE\r\n\r\n", 400),
        (b"GET /count HTTP/1.1 extra\r\n\r\n", 400),
        (b"POST /job/x HTTP/1.1\r\n" + b"x-filler: " + b"y" * 70_000, 413),
    ],
)
def test_the_bench_receiver_refuses_malformed_requests(apps, request_bytes, status):
    process, port = apps["bench_raw"]
    before = len(log_lines(process, "refused a request"))
    with connect(port, timeout=10) as conn:
        conn.sendall(request_bytes)
        answer = read_answer(conn)
        assert conn.recv(1) == b""  # and it closes the connection
    assert status_of(answer) == status
    assert len(log_lines(process, "refused a request")) == before + 1
    assert "Traceback" not in process.log_text()
    assert CLIENTS[port].get("/count").status_code == 200
