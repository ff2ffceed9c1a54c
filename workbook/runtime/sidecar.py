"""daprd, the Dapr sidecar: one per app instance, bound to loopback.

    Sidecar(app_id, scheduler_address="127.0.0.1:50006",
            placement_address="127.0.0.1:50005",   # None (default): no placement at all
            app_port=..., api_token=..., app_api_token=...)

`placement_address=None` passes `--placement-host-address ""` (daprd then needs no placement,
which the Jobs API does not use); `dapr run` passes localhost:50005, so a sidecar that should
behave as under the CLI takes `ControlPlane().placement_address` (controlplane.py).
Tokens reach daprd and the app only when given here: a DAPR_API_TOKEN / APP_API_TOKEN in the
environment that started the workbook is not inherited (processes.child_environment).
"""

from __future__ import annotations

from pathlib import Path

from workbook import config
from workbook.runtime.processes import ManagedProcess, free_port
from workbook.runtime.waiting import http_status, wait_until


class Sidecar:
    """A daprd process for `app_id`, started with explicit ports and waited on until healthy."""

    def __init__(
        self,
        app_id: str,
        *,
        scheduler_address: str,
        placement_address: str | None = None,
        app_port: int | None = None,
        http_port: int | None = None,
        grpc_port: int | None = None,
        app_protocol: str = "http",
        resources_path: Path | None = None,
        config_path: Path | None = None,
        log_path: Path | None = None,
        api_token: str | None = None,
        app_api_token: str | None = None,
        extra_args: list[str] | None = None,
    ):
        self.app_id = app_id
        self.scheduler_address = scheduler_address
        self.placement_address = placement_address
        self.app_port = app_port
        self.http_port = http_port or free_port()
        self.grpc_port = grpc_port or free_port()
        self.app_protocol = app_protocol
        self.resources_path = resources_path
        self.config_path = config_path
        self.api_token = api_token
        self.app_api_token = app_api_token
        self.extra_args = extra_args or []
        self.log_path = Path(log_path or config.STATE_DIR / "logs" / f"{app_id}-daprd.log")
        self.process: ManagedProcess | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def args(self) -> list[str]:
        args = [
            str(config.dapr_binary("daprd")),
            "--app-id",
            self.app_id,
            "--dapr-http-port",
            str(self.http_port),
            "--dapr-grpc-port",
            str(self.grpc_port),
            "--dapr-internal-grpc-port",
            str(free_port()),
            "--dapr-listen-addresses",
            "127.0.0.1",
            # Without this the internal (sidecar-to-sidecar) gRPC port listens on all interfaces.
            "--dapr-internal-grpc-listen-address",
            "127.0.0.1",
            "--profile-port",
            str(free_port()),
            "--enable-metrics=false",
            "--scheduler-host-address",
            self.scheduler_address,
            "--placement-host-address",
            self.placement_address or "",
            "--app-protocol",
            self.app_protocol,
            "--log-level",
            "info",
        ]
        if self.app_port:
            args += ["--app-port", str(self.app_port)]
        if self.resources_path:
            args += ["--resources-path", str(self.resources_path)]
        if self.config_path:
            args += ["--config", str(self.config_path)]
        return args + self.extra_args

    def env(self) -> dict[str, str]:
        env = {}
        if self.api_token:
            env["DAPR_API_TOKEN"] = self.api_token  # callers must send it as dapr-api-token
        if self.app_api_token:
            env["APP_API_TOKEN"] = self.app_api_token  # daprd sends it to the app
        return env

    def app_env(self) -> dict[str, str]:
        """What the app reads to find its sidecar (as `dapr run` sets it; the SDK reads it too)."""
        env = {
            "DAPR_HTTP_PORT": str(self.http_port),
            "DAPR_GRPC_PORT": str(self.grpc_port),
            "APP_ID": self.app_id,
        }
        if self.app_port:
            env["APP_PORT"] = str(self.app_port)
        if self.api_token:
            env["DAPR_API_TOKEN"] = self.api_token
        if self.app_api_token:
            env["APP_API_TOKEN"] = self.app_api_token
        return env

    def healthy(self) -> bool:
        return http_status(f"{self.http_url}/v1.0/healthz", timeout=0.5) == 204

    def start(self, timeout: float = 30) -> Sidecar:
        return self.launch().wait_ready(timeout)

    def launch(self) -> Sidecar:
        """Start daprd without waiting (several sidecars can then start side by side)."""
        self.process = ManagedProcess(
            f"daprd[{self.app_id}]", self.args(), log_path=self.log_path, env=self.env()
        ).start()
        return self

    def wait_ready(self, timeout: float = 30) -> Sidecar:
        def ready():
            if self.process and not self.process.alive():
                raise RuntimeError(
                    f"daprd for {self.app_id} exited; its log:\n{self.process.tail()}"
                )
            return self.healthy()

        wait_until(
            ready,
            timeout=timeout,
            what=f"daprd for {self.app_id} at {self.http_url}/v1.0/healthz to answer 204",
        )
        return self

    def stop(self, timeout: float = 10) -> None:
        if self.process:
            self.process.stop(timeout=timeout)
            self.process = None

    def __enter__(self) -> Sidecar:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
