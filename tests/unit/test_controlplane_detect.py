"""How the workbook decides that a scheduler or placement is already running: the pure pieces,
and ports held by things that are not Dapr (no Dapr runtime needed)."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading

import pytest

from workbook import config
from workbook.runtime import detect
from workbook.runtime.processes import free_port

LISTENS_SILENTLY = """
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("listening", flush=True)
time.sleep(60)
"""


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "STATE_DIR", tmp_path / "state")


def test_a_settings_frame_on_stream_zero_is_what_a_grpc_server_answers():
    assert detect.is_settings_frame(b"\x00\x00\x06\x04\x00\x00\x00\x00\x00" + b"\x00" * 6)
    assert detect.is_settings_frame(detect.EMPTY_SETTINGS_FRAME)
    assert not detect.is_settings_frame(b"HTTP/1.1 400 Bad Request\r\n")
    assert not detect.is_settings_frame(b"\x00\x00\x00\x04\x00\x00\x00\x00\x01")  # stream 1
    assert not detect.is_settings_frame(b"\x00\x00")


def test_the_health_port_is_read_from_the_holders_command_line():
    assert detect.health_port_from_args(["scheduler", "--healthz-port", "58081"]) == 58081
    assert detect.health_port_from_args(["placement", "--healthz-port=9999"]) == 9999
    assert detect.health_port_from_args(["scheduler", "--port", "50006"]) is None
    assert detect.health_port_from_args(["scheduler", "--healthz-port"]) is None


def test_health_candidates_come_from_the_holder_then_the_record_then_dapr_init():
    own = ["/home/me/.dapr/bin/scheduler", "--healthz-port", "40001"]
    assert detect.candidate_health_ports("scheduler", own, 40002) == [40001, 40002, 58081]
    # A scheduler binary started with its defaults: health on 8080, its own default.
    assert detect.candidate_health_ports("scheduler", ["./scheduler"], None) == [8080, 58081]
    # Something else holds the port (or psutil cannot see it): never 8080 on its own.
    assert detect.candidate_health_ports("placement", ["python3", "-m", "http.server"], None) == [
        58080
    ]
    assert detect.candidate_health_ports("placement", None, 58080) == [58080]


def test_records_are_removed_only_by_their_writer():
    detect.write_record("scheduler", 41000, 41001, pid=123)
    assert detect.read_record("scheduler", 41000) == 41001
    detect.remove_record("scheduler", 41000, pid=456)
    assert detect.read_record("scheduler", 41000) == 41001
    detect.remove_record("scheduler", 41000, pid=123)
    assert detect.read_record("scheduler", 41000) is None


def test_a_free_port_means_not_running():
    assert detect.find("scheduler", free_port()) is None


def test_a_silent_listener_is_refused_with_its_pid_and_command():
    port = free_port()
    holder = subprocess.Popen(
        [sys.executable, "-c", LISTENS_SILENTLY, str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "listening"
        with pytest.raises(detect.PortTaken) as refused:
            detect.find("placement", port)
        message = str(refused.value)
        assert f"port {port} (the placement's gRPC port) is taken by pid {holder.pid}" in message
        assert f"{sys.executable} -c" in message
        assert "does not answer as a gRPC server" in message
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_a_web_server_that_answers_healthz_is_not_a_scheduler():
    """Any dev server may answer GET /healthz 200: without gRPC on the port it is refused."""

    class Healthy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    detect.write_record("scheduler", port, port, pid=1)  # even if a record points at it
    try:
        with pytest.raises(detect.PortTaken, match="does not answer as a gRPC server"):
            detect.find("scheduler", port)
    finally:
        server.shutdown()
        server.server_close()


def test_speaks_grpc_is_false_for_a_closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert detect.speaks_grpc(port) is False
