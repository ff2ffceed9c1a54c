"""The Dapr CLI's multi-app run template schema (`dapr.yaml`) as pydantic models.

The fields follow dapr/cli: `pkg/runfileconfig/run_file_config.go` (RunFileConfig, App) and
`pkg/standalone/run.go` (RunConfig, SharedRunConfig). Unknown fields are refused (extra=forbid);
NOT_SUPPORTED lists the CLI's fields that `workbook run` refuses, each with the reason. Loading,
merging `common:` and resolving paths and defaults is template.py's part.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictBool, StrictInt


def _scalar_text(value: Any) -> Any:
    """yaml.v2 (the CLI's parser) reads any scalar into a string field: 6280 becomes "6280"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_scalar_text)]
LogDestination = Literal["file", "console", "fileAndConsole"]
Protocol = Literal["http", "https", "grpc", "grpcs", "h2c"]

# Fields of the CLI's schema that `workbook run` does not do, and why (refused, never ignored).
NOT_SUPPORTED = {
    "unixDomainSocket": "workbook run talks to daprd over TCP ports only",
    "runtimePath": "workbook run always uses the pinned daprd (workbook.config.DAPR_BIN)",
    "appSSL": "deprecated in the Dapr CLI; use appProtocol: https or grpcs",
    "componentsPath": "the Dapr CLI 1.18 reads no such key (it ignores it); use resourcesPaths",
    "containerImage": "used only by `dapr run -k` (Kubernetes)",
    "containerImagePullPolicy": "used only by `dapr run -k` (Kubernetes)",
    "createService": "used only by `dapr run -k` (Kubernetes)",
    "envFile": "workbook run does not read dotenv files; list the variables under env:",
}


class SharedFields(BaseModel):
    """SharedRunConfig: the fields `common:` may give every app (pkg/standalone/run.go)."""

    model_config = ConfigDict(extra="forbid")

    configFilePath: Text | None = None
    appProtocol: Protocol | None = None
    apiListenAddresses: Text | None = None
    enableProfiling: StrictBool | None = None
    logLevel: Literal["debug", "info", "warn", "error", "fatal", "panic"] | None = None
    appMaxConcurrency: StrictInt | None = None
    placementHostAddress: Text | None = None
    schedulerHostAddress: Text | None = None
    resourcesPath: Text | None = None
    resourcesPaths: list[Text] | None = None
    maxBodySize: Text | None = None
    readBufferSize: Text | None = None
    enableAppHealthCheck: StrictBool | None = None
    appHealthCheckPath: Text | None = None
    appHealthProbeInterval: StrictInt | None = None
    appHealthProbeTimeout: StrictInt | None = None
    appHealthThreshold: StrictInt | None = None
    enableApiLogging: StrictBool | None = None
    env: dict[Text, Text] | None = None
    daprdLogDestination: LogDestination | None = None
    appLogDestination: LogDestination | None = None


class AppFields(SharedFields):
    """One entry of `apps:` (RunConfig's own fields plus the shared ones)."""

    appDirPath: Text
    appID: Text | None = None
    appChannelAddress: Text | None = None
    appPort: StrictInt | None = None
    daprHTTPPort: StrictInt | None = None
    daprGRPCPort: StrictInt | None = None
    daprInternalGRPCPort: StrictInt | None = None
    metricsPort: StrictInt | None = None
    profilePort: StrictInt | None = None
    command: list[Text] | Text | None = None


class TemplateFile(BaseModel):
    """RunFileConfig: the file's top level."""

    model_config = ConfigDict(extra="forbid")

    version: StrictInt
    name: Text | None = None
    common: SharedFields | None = None
    apps: list[AppFields] | None = None


PORT_FIELDS = ("appPort", "daprHTTPPort", "daprGRPCPort", "daprInternalGRPCPort", "metricsPort")
