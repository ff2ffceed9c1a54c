"""The Dapr CLI's multi-app run template (`dapr.yaml`) as a typed model, loaded the CLI's way.

The schema and the rules follow dapr/cli: `pkg/runfileconfig/run_file_config.go` (RunFileConfig,
App), `pkg/standalone/run.go` (RunConfig, SharedRunConfig) and
`pkg/runfileconfig/run_file_config_parser.go` (GetApps: validate, resolve paths, merge
`common`, set defaults). `workbook run` honours every field of the schema (template_schema.py)
or refuses the template with one line naming the field and the file, before anything starts.

    template = load_template(Path("."))    # a folder means its dapr.yaml, as `dapr run -f .`
    for app in template.apps: ...          # AppSpec: everything resolved, defaults applied
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError as PydanticValidationError

from workbook import config
from workbook.run.template_schema import (
    NOT_SUPPORTED,
    PORT_FIELDS,
    AppFields,
    SharedFields,
    TemplateFile,
)


class TemplateError(ValueError):
    """A template `workbook run` cannot run: the message is one line naming field and file."""


@dataclass
class AppSpec:
    """One app, resolved: what `workbook run` starts (an app process and its daprd)."""

    app_id: str
    app_dir: Path
    command: list[str]
    app_port: int | None = None
    http_port: int | None = None
    grpc_port: int | None = None
    internal_grpc_port: int | None = None
    metrics_port: int | None = None
    profile_port: int | None = None
    app_protocol: str = "http"
    app_channel_address: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    config_file: Path | None = None
    resources_paths: list[Path] = field(default_factory=list)
    log_level: str | None = None
    api_listen_addresses: str | None = None
    enable_profiling: bool = False
    app_max_concurrency: int = -1
    placement_address: str | None = "localhost:50005"
    scheduler_address: str = "localhost:50006"
    max_body_size: str = "4Mi"
    read_buffer_size: str = "4Ki"
    enable_app_health_check: bool = False
    app_health_check_path: str | None = None
    app_health_probe_interval: int = 0
    app_health_probe_timeout: int = 0
    app_health_threshold: int = 0
    enable_api_logging: bool = False
    daprd_log_destination: str = "file"
    app_log_destination: str = "fileAndConsole"

    def ports(self) -> dict[str, int]:
        """The fixed ports this app asks for, by template field name."""
        given = {
            "appPort": self.app_port,
            "daprHTTPPort": self.http_port,
            "daprGRPCPort": self.grpc_port,
            "daprInternalGRPCPort": self.internal_grpc_port,
            "metricsPort": self.metrics_port,
        }
        return {name: port for name, port in given.items() if port and port > 0}


@dataclass
class RunTemplate:
    path: Path  # the template file itself (a folder given as -f is resolved to its dapr.yaml)
    name: str | None
    apps: list[AppSpec]


def template_path(given: Path | str) -> Path:
    """The template file `-f` means (cmd/run.go getRunFilePath): a folder means its dapr.yaml."""
    path = Path(given).expanduser()
    if path.is_dir():
        path = path / "dapr.yaml"
        if not path.is_file():
            raise TemplateError(f"{path.parent}: no dapr.yaml in this folder")
    elif not path.exists():
        raise TemplateError(f"{path}: no such file")
    elif path.suffix not in (".yaml", ".yml"):
        raise TemplateError(f'file "{path}" is not a YAML file')
    return path.resolve()


def load_template(given: Path | str) -> RunTemplate:
    """Read, validate and resolve a run template; TemplateError (one line) if it is not runnable."""
    path = template_path(given)
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise TemplateError(f"{path}: not valid YAML{at}: {problem}") from None
    if not isinstance(doc, dict):
        raise TemplateError(f"{path}: a run template is a mapping with version and apps")
    _refuse_unsupported(doc, path)
    _refuse_empty_mappings(doc, path)
    try:
        parsed = TemplateFile.model_validate(doc)
    except PydanticValidationError as error:
        raise TemplateError(_one_line(error, doc, path)) from None
    if parsed.version == 0:
        raise TemplateError(f"{path}: required field 'version' not found (it must be non-zero)")
    if not parsed.apps:
        raise TemplateError(f"{path}: No apps to run (apps: is empty or missing)")
    apps = [_resolve(app, parsed.common, path, i) for i, app in enumerate(parsed.apps)]
    _refuse_shared_ports(apps, path)
    return RunTemplate(path=path, name=parsed.name, apps=apps)


def load_single_app(fields: dict[str, Any], base: Path) -> RunTemplate:
    """The one-app template that `workbook run --app-id ID ... -- CMD` stands for."""
    where = Path(base) / "(command line)"
    try:
        app = AppFields.model_validate(fields)
    except PydanticValidationError as error:
        raise TemplateError(_one_line(error, fields, where)) from None
    return RunTemplate(path=where, name=None, apps=[_resolve(app, None, where, 0)])


def _refuse_unsupported(doc: dict, path: Path) -> None:
    sections = [("common", doc.get("common"))]
    apps = doc.get("apps")
    if isinstance(apps, list):
        sections += [(f"apps[{i}]", app) for i, app in enumerate(apps)]
    for where, section in sections:
        if not isinstance(section, dict):
            continue
        for key in section:
            if key in NOT_SUPPORTED:
                raise TemplateError(
                    f"{path}: {where}.{key} is not supported by workbook run "
                    f"({NOT_SUPPORTED[key]}); use the Dapr CLI for it"
                )


def _refuse_empty_mappings(doc: dict, path: Path) -> None:
    """`env:` with nothing under it reads as null: say so plainly instead of guessing."""
    sections = [("common", doc.get("common"))]
    if isinstance(doc.get("apps"), list):
        sections += [(f"apps[{i}]", app) for i, app in enumerate(doc["apps"])]
    for where, section in sections:
        if isinstance(section, dict) and "env" in section and section["env"] is None:
            raise TemplateError(
                f"{path}: {where}.env is empty: give it NAME: value lines, or remove the key"
            )
    if "common" in doc and doc["common"] is None:
        raise TemplateError(f"{path}: common is empty: give it shared fields, or remove the key")


def _one_line(error: PydanticValidationError, doc: dict, path: Path) -> str:
    first = error.errors()[0]
    loc = first["loc"]
    # pydantic appends the union branch or literal name to loc: keep the template's own keys.
    keys = [part for part in loc if isinstance(part, int) or part in _known_keys(doc, loc)]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in keys)
    where = where.lstrip(".") or "the file"
    kind = first["type"]
    if kind == "extra_forbidden":
        key = loc[-1]
        if loc[0] == "common" and key in AppFields.model_fields:
            return (
                f"{path}: {where} is not a shared field: the Dapr CLI reads it from each app "
                "only (and ignores it in common:), so give it under the app"
            )
        return (
            f"{path}: {where} is not a field of the Dapr CLI's run template "
            "(the CLI would ignore it silently)"
        )
    if kind == "missing":
        return f"{path}: required field {where} not found"
    got = first.get("input")
    msg = first["msg"]
    return f"{path}: {where}: {msg[:1].lower()}{msg[1:]} (got {got!r})"


def _known_keys(doc: Any, loc: tuple) -> set:
    """Every key on the path `loc` that is really in the document."""
    known, node = set(), doc
    for part in loc:
        if isinstance(node, dict):
            known.add(part)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            break
    return known


def _merged(app: AppFields, common: SharedFields | None) -> dict[str, Any]:
    """mergeCommonAndAppsSharedRunConfig: a shared field the app leaves unset comes from common.

    (The CLI merges by Go zero value, so an app cannot turn common's `true` into `false` or a
    number into 0: the same holds here for those values.)
    """
    values = app.model_dump()
    if common is None:
        values["env"] = dict(app.env or {})
        return values
    for name, shared in common.model_dump().items():
        if name == "env":
            continue
        if values.get(name) in (None, False, 0, "", []) and shared is not None:
            values[name] = shared
    # mergeCommonAndAppsEnv: the app's env wins over common's.
    values["env"] = {**(common.env or {}), **(app.env or {})}
    return values


def _resolve(app: AppFields, common: SharedFields | None, path: Path, index: int) -> AppSpec:
    base = path.parent
    app_dir = _existing(base, app.appDirPath, path, f"apps[{index}].appDirPath")
    v = _merged(app, common)
    app_id = app.appID or app_dir.name  # setAppIDIfEmpty: the folder's name
    where = f"apps[{index}] ({app_id})"
    command = v["command"]
    if isinstance(command, str):
        command = shlex.split(command)
    if not command:
        raise TemplateError(
            f"{path}: {where}.command is missing: workbook run does not start a sidecar alone"
        )
    for name in (*PORT_FIELDS, "profilePort"):
        if v.get(name) is not None and not 0 <= v[name] <= 65535:
            raise TemplateError(f"{path}: {where}.{name}: {v[name]} is not a TCP port")
    return AppSpec(
        app_id=app_id,
        app_dir=app_dir,
        command=list(command),
        app_port=v["appPort"] or None,
        http_port=v["daprHTTPPort"],
        grpc_port=v["daprGRPCPort"],
        internal_grpc_port=v["daprInternalGRPCPort"],
        metrics_port=v["metricsPort"],
        profile_port=v["profilePort"],
        app_protocol=v["appProtocol"] or "http",
        app_channel_address=v["appChannelAddress"],
        env=dict(v["env"]),
        config_file=_config_file(app, common, app_dir, base, path, where),
        resources_paths=_resources(app, common, app_dir, base, path, where),
        log_level=v["logLevel"],
        api_listen_addresses=v["apiListenAddresses"],
        enable_profiling=bool(v["enableProfiling"]),
        app_max_concurrency=v["appMaxConcurrency"] if (v["appMaxConcurrency"] or 0) > 0 else -1,
        placement_address=_with_port(v["placementHostAddress"], 50005, disable_if_empty=True),
        scheduler_address=_with_port(v["schedulerHostAddress"], 50006, disable_if_empty=False),
        max_body_size=v["maxBodySize"] or "4Mi",
        read_buffer_size=v["readBufferSize"] or "4Ki",
        enable_app_health_check=bool(v["enableAppHealthCheck"]),
        app_health_check_path=v["appHealthCheckPath"],
        app_health_probe_interval=v["appHealthProbeInterval"] or 0,
        app_health_probe_timeout=v["appHealthProbeTimeout"] or 0,
        app_health_threshold=v["appHealthThreshold"] or 0,
        enable_api_logging=bool(v["enableApiLogging"]),
        daprd_log_destination=v["daprdLogDestination"] or "file",
        app_log_destination=v["appLogDestination"] or "fileAndConsole",
    )


def _with_port(address: str | None, port: int, *, disable_if_empty: bool) -> str | None:
    """validatePlacementHostAddr / validateSchedulerHostAddress (cmd/run.go)."""
    if address is None:
        address = "localhost"
    elif address == "":
        if disable_if_empty:
            return None  # placementHostAddress: "" turns placement off
        address = "localhost"  # schedulerHostAddress: "" cannot turn the scheduler off
    host_part = address.rsplit("]", 1)[-1]
    return address if ":" in host_part else f"{address}:{port}"


def _existing(base: Path, given: str, path: Path, where: str) -> Path:
    """resolvePathToAbsAndValidate: `~/` expanded, relative to `base`, and it must exist."""
    resolved = (base / Path(given).expanduser()).resolve()
    if not resolved.exists():
        raise TemplateError(f"{path}: {where}: {given} does not exist ({resolved})")
    return resolved


def _resources(app, common, app_dir, base, path, where) -> list[Path]:
    """App resourcesPaths (+resourcesPath) > <appDir>/.dapr/resources > common > ~/.dapr."""
    own = [*(app.resourcesPaths or []), *([app.resourcesPath] if app.resourcesPath else [])]
    if own:
        return [_existing(app_dir, p, path, f"{where}.resourcesPaths") for p in own]
    if (app_dir / ".dapr" / "resources").is_dir():
        return [app_dir / ".dapr" / "resources"]
    if common:
        shared = [
            *(common.resourcesPaths or []),
            *([common.resourcesPath] if common.resourcesPath else []),
        ]
        if shared:
            return [_existing(base, p, path, "common.resourcesPaths") for p in shared]
    return [config.DAPR_HOME / "components"]


def _config_file(app, common, app_dir, base, path, where) -> Path:
    """App configFilePath > <appDir>/.dapr/config.yaml > common's > ~/.dapr/config.yaml."""
    if app.configFilePath:
        return _existing(app_dir, app.configFilePath, path, f"{where}.configFilePath")
    if (app_dir / ".dapr" / "config.yaml").is_file():
        return app_dir / ".dapr" / "config.yaml"
    if common and common.configFilePath:
        return _existing(base, common.configFilePath, path, "common.configFilePath")
    return config.DAPR_HOME / "config.yaml"


def _refuse_shared_ports(apps: list[AppSpec], path: Path) -> None:
    """validatePort: one port for two purposes is refused before anything starts."""
    seen: dict[int, str] = {}
    for app in apps:
        for name, port in app.ports().items():
            here = f"{app.app_id}.{name}"
            if port in seen:
                raise TemplateError(f"{path}: {here} and {seen[port]} both ask for port {port}")
            seen[port] = here
