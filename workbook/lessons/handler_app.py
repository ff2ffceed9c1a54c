"""A second app for notebook 02: the learner's own trigger handler, served for real.

`HandlerApp` serves `POST /job/<name>` from a thread of the notebook's kernel and calls the
handler function it is given, `handler(name, body) -> status`, with exactly what Dapr sent; it
has its own sidecar (daprd) with its own app ID, so jobs scheduled through that sidecar are
delivered to it by the real scheduler. Every delivery is recorded (name, body, headers, the
status answered, the time, the error if the handler raised).
"""

from __future__ import annotations

import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jobs_client import JobsClient
from workbook.runtime.apps import unique_name
from workbook.runtime.processes import free_port
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_until


class HandlerApp:
    def __init__(self, scheduler: Scheduler, *, app_id: str | None = None, app_api_token=None):
        self.app_id = app_id or unique_name("droid-registry")
        self.port = free_port()
        self.handler = lambda name, body: 200
        self.deliveries: list[dict] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._request_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.sidecar = Sidecar(
            self.app_id,
            scheduler_address=scheduler.address,
            app_port=self.port,
            app_api_token=app_api_token,
        )
        self.jobs = JobsClient(self.sidecar.http_url)

    @property
    def sidecar_url(self) -> str:
        return self.sidecar.http_url

    def start(self) -> HandlerApp:
        self._thread.start()
        self.sidecar.start()
        return self

    def stop(self) -> None:
        self.jobs.close()
        self.sidecar.stop()
        self._server.shutdown()
        self._server.server_close()

    def received(self, name: str | None = None) -> list[dict]:
        with self._lock:
            return [d for d in self.deliveries if name is None or d["name"] == name]

    def wait_for(self, name: str, *, count: int = 1, timeout: float = 5) -> list[dict]:
        return wait_until(
            lambda: len(got := self.received(name)) >= count and got,
            timeout=timeout,
            what=f"{count} delivery(ies) of job {name!r} to {self.app_id}",
        )

    def _answer(self, name: str, body: bytes, headers: dict) -> int:
        record = {"name": name, "body": body, "headers": headers, "received_at": time.time()}
        try:
            status = self.handler(name, body)
            if isinstance(status, bool) or not isinstance(status, int):
                record["returned"] = status  # not a status code: answered as a server error
                status = 500
        except Exception as error:  # the learner's code: report it, answer 500 as a server would
            kind = type(error)
            where = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
            record["error"] = f"{where}{kind.__name__}: {error}"
            record["traceback"] = traceback.format_exc(limit=3)
            status = 500
        record["status"] = status
        with self._lock:
            self.deliveries.append(record)
        return status

    def _request_class(self):
        app = self

        class Request(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if not self.path.startswith("/job/"):
                    self._reply(404)
                    return
                name = self.path.removeprefix("/job/")
                self._reply(app._answer(name, body, dict(self.headers)))

            def do_GET(self):
                self._reply(200 if self.path == "/healthz" else 404)

            def _reply(self, status: int) -> None:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):  # the notebook shows deliveries, not access logs
                pass

        return Request
