"""What `workbook run` starts for one app of a template: its daprd, then the app itself.

The daprd flags and the app's environment follow the Dapr CLI (dapr/cli
`pkg/standalone/run.go`: getArgs builds daprd's flags from RunConfig, getEnv the app's
environment; `cmd/run.go` startDaprdProcess sets DAPR_HOST_IP in template mode). Where the
workbook differs on purpose it says so below: every listener is bound to loopback.
"""

from __future__ import annotations

import os
from pathlib import Path

from workbook import config
from workbook.run.template import AppSpec
from workbook.runtime.listeners import loopback_listener
from workbook.runtime.processes import ManagedProcess, free_port
from workbook.runtime.sidecar import Sidecar


def daprd_args(app: AppSpec, ports: dict[str, int]) -> list[str]:
    """daprd's command line for `app`, in the order getArgs emits it; `ports` holds every port.

    The workbook's additions (not in the CLI): every listener on 127.0.0.1 unless the template
    asks for apiListenAddresses, and the internal gRPC and metrics ports on loopback too.
    """
    args = [
        str(config.dapr_binary("daprd")),
        "--config",
        str(app.config_file),
        "--app-protocol",
        app.app_protocol,
        "--dapr-listen-addresses",
        app.api_listen_addresses or "127.0.0.1",
    ]
    if app.enable_profiling:
        args.append("--enable-profiling")
    if app.log_level:
        args += ["--log-level", app.log_level]
    args += ["--app-max-concurrency", str(app.app_max_concurrency)]
    if app.placement_address is not None:
        args += ["--placement-host-address", app.placement_address]
    else:
        args += ["--placement-host-address", ""]  # placementHostAddress: "" turns it off
    for path in app.resources_paths:
        args += ["--resources-path", str(path)]
    args += ["--max-body-size", app.max_body_size, "--read-buffer-size", app.read_buffer_size]
    if app.enable_app_health_check:
        args.append("--enable-app-health-check")
    if app.app_health_check_path:
        args += ["--app-health-check-path", app.app_health_check_path]
    for flag, value in (
        ("--app-health-probe-interval", app.app_health_probe_interval),
        ("--app-health-probe-timeout", app.app_health_probe_timeout),
        ("--app-health-threshold", app.app_health_threshold),
    ):
        if value:
            args += [flag, str(value)]
    if app.enable_api_logging:
        args.append("--enable-api-logging")
    args += ["--scheduler-host-address", app.scheduler_address, "--app-id", app.app_id]
    if app.app_channel_address and app.app_channel_address != "127.0.0.1":
        args += ["--app-channel-address", app.app_channel_address]
    args += [
        "--app-port",
        str(app.app_port or 0),
        "--dapr-http-port",
        str(ports["daprHTTPPort"]),
        "--dapr-grpc-port",
        str(ports["daprGRPCPort"]),
        "--profile-port",
        str(ports["profilePort"]) if app.enable_profiling else "-1",
        *loopback_listener("metrics", ports["metricsPort"]),
        *loopback_listener("dapr-internal-grpc", ports["daprInternalGRPCPort"]),
    ]
    return args


def chosen_ports(app: AppSpec) -> dict[str, int]:
    """The template's ports, and a free port for each one it leaves out (validatePort)."""
    return {
        "daprHTTPPort": app.http_port or free_port(),
        "daprGRPCPort": app.grpc_port or free_port(),
        "daprInternalGRPCPort": app.internal_grpc_port or free_port(),
        "metricsPort": app.metrics_port or free_port(),
        "profilePort": app.profile_port or free_port(),
    }


def app_env(app: AppSpec, ports: dict[str, int]) -> dict[str, str]:
    """getEnv: what the CLI gives the app, then the template's env (which wins)."""
    env = {
        "APP_ID": app.app_id,
        "APP_CHANNEL_ADDRESS": app.app_channel_address or "",
        "DAPR_HTTP_PORT": str(ports["daprHTTPPort"]),
        "DAPR_GRPC_PORT": str(ports["daprGRPCPort"]),
        "DAPR_METRICS_PORT": str(ports["metricsPort"]),
        "APP_PROTOCOL": app.app_protocol,
    }
    if app.app_port:
        env["APP_PORT"] = str(app.app_port)
    return {**env, **app.env}


def daprd_env(*, template_mode: bool) -> dict[str, str]:
    """startDaprdProcess: in template mode daprd gets DAPR_HOST_IP=127.0.0.1 unless it is set."""
    if template_mode and "DAPR_HOST_IP" not in os.environ:
        return {"DAPR_HOST_IP": "127.0.0.1"}
    return {}


def log_paths(app: AppSpec, stamp: str) -> tuple[Path, Path]:
    """createLogFile: <appDirPath>/.dapr/logs/<appID>_{app,daprd}_<YYYYMMDDHHMMSS>.log."""
    logs = app.app_dir / ".dapr" / "logs"
    return logs / f"{app.app_id}_app_{stamp}.log", logs / f"{app.app_id}_daprd_{stamp}.log"


class TemplateSidecar(Sidecar):
    """A daprd started with the flags `dapr run` would give it for this app."""

    def __init__(self, app: AppSpec, ports: dict[str, int], *, log_path: Path, echo: bool,
                 template_mode: bool):  # fmt: skip
        super().__init__(
            app.app_id,
            scheduler_address=app.scheduler_address,
            app_port=app.app_port,
            http_port=ports["daprHTTPPort"],
            grpc_port=ports["daprGRPCPort"],
            app_protocol=app.app_protocol,
            log_path=log_path,
        )
        self.app = app
        self.ports = ports
        self.echo = echo
        self.template_mode = template_mode

    def args(self) -> list[str]:
        return daprd_args(self.app, self.ports)

    def env(self) -> dict[str, str]:
        return daprd_env(template_mode=self.template_mode)

    def launch(self) -> TemplateSidecar:
        self.process = ManagedProcess(
            f"daprd[{self.app_id}]",
            self.args(),
            log_path=self.log_path,
            env=self.env(),
            cwd=self.app.app_dir,  # the CLI starts daprd in appDirPath
            echo_prefix="" if self.echo else None,
        ).start()
        return self


def app_process(
    app: AppSpec, ports: dict[str, int], *, log_path: Path, echo: bool, prefix: str
) -> ManagedProcess:
    """The app, in appDirPath, its output echoed with `prefix` when its destination says so."""
    return ManagedProcess(
        app.app_id,
        app.command,
        cwd=app.app_dir,
        log_path=log_path,
        env=app_env(app, ports),
        echo_prefix=prefix if echo else None,
    )
