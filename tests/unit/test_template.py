"""The run-template model: loading, defaults, `common:` merging, and every refusal (one line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbook import config
from workbook.run.template import TemplateError, load_template, template_path
from workbook.run.template_schema import NOT_SUPPORTED


def write(tmp_path: Path, text: str, *folders: str) -> Path:
    for folder in folders or ("svc",):
        (tmp_path / folder).mkdir(exist_ok=True)
    path = tmp_path / "dapr.yaml"
    path.write_text(text)
    return path


def refusal(tmp_path: Path, text: str, *folders: str) -> str:
    path = write(tmp_path, text, *folders)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    message = str(caught.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: "), message
    return message.removeprefix(f"{path}: ")


MINIMAL = "version: 1\napps:\n  - appDirPath: ./svc/\n    command: [python, app.py]\n"


def test_the_workbooks_own_template():
    template = load_template(config.ROOT)
    assert template.path == config.ROOT / "dapr.yaml"
    service, scheduler = template.apps
    assert (service.app_id, service.app_port, service.http_port, service.grpc_port) == (
        "job-service",
        6200,
        6280,
        6281,
    )
    assert service.app_dir == config.ROOT / "job_service"
    assert service.command == ["python", "-m", "job_service"]
    assert (scheduler.app_id, scheduler.app_port, scheduler.http_port) == (
        "job-scheduler",
        None,
        6380,
    )
    assert scheduler.env == {"JOB_SERVICE_DAPR_HTTP_PORT": "6280"}
    assert service.ports() == {"appPort": 6200, "daprHTTPPort": 6280, "daprGRPCPort": 6281}


def test_defaults_are_the_clis(tmp_path):
    (app,) = load_template(write(tmp_path, MINIMAL)).apps
    assert app.app_id == "svc"  # the folder's name
    assert app.app_protocol == "http"
    assert app.placement_address == "localhost:50005"
    assert app.scheduler_address == "localhost:50006"
    assert app.config_file == config.DAPR_HOME / "config.yaml"
    assert app.resources_paths == [config.DAPR_HOME / "components"]
    assert (app.daprd_log_destination, app.app_log_destination) == ("file", "fileAndConsole")
    assert (app.max_body_size, app.read_buffer_size, app.app_max_concurrency) == ("4Mi", "4Ki", -1)
    assert app.log_level is None
    assert app.ports() == {}


def test_a_folder_means_its_dapr_yaml(tmp_path):
    write(tmp_path, MINIMAL)
    assert template_path(tmp_path) == (tmp_path / "dapr.yaml").resolve()
    assert template_path(tmp_path / "dapr.yaml") == template_path(tmp_path)


def test_command_as_a_string_and_scalars_as_text(tmp_path):
    text = (
        "version: 1\napps:\n  - appDirPath: svc\n    command: python -m 'my app'\n"
        "    env: {PORT: 6280, DEBUG: true}\n"
    )
    (app,) = load_template(write(tmp_path, text)).apps
    assert app.command == ["python", "-m", "my app"]
    assert app.env == {"PORT": "6280", "DEBUG": "true"}


def test_common_gives_only_shared_fields_and_the_app_wins(tmp_path):
    (tmp_path / "res").mkdir()
    text = """version: 1
common:
  logLevel: debug
  appProtocol: grpc
  resourcesPath: ./res
  env: {A: common, B: common}
apps:
  - appDirPath: ./svc/
    appProtocol: http
    env: {B: app}
    command: [python, app.py]
"""
    (app,) = load_template(write(tmp_path, text)).apps
    assert app.log_level == "debug"
    assert app.app_protocol == "http"
    assert app.env == {"A": "common", "B": "app"}
    assert app.resources_paths == [(tmp_path / "res").resolve()]


def test_an_apps_own_paths_are_relative_to_its_folder(tmp_path):
    (tmp_path / "svc" / "components").mkdir(parents=True)
    (tmp_path / "svc" / "cfg.yaml").write_text("kind: Configuration\n")
    text = MINIMAL + "    resourcesPaths: [components]\n    configFilePath: cfg.yaml\n"
    (app,) = load_template(write(tmp_path, text)).apps
    assert app.resources_paths == [(tmp_path / "svc" / "components").resolve()]
    assert app.config_file == (tmp_path / "svc" / "cfg.yaml").resolve()


def test_the_apps_dot_dapr_folder_comes_before_common(tmp_path):
    (tmp_path / "svc" / ".dapr" / "resources").mkdir(parents=True)
    (tmp_path / "shared").mkdir()
    text = MINIMAL.replace("apps:", "common:\n  resourcesPaths: [shared]\napps:")
    (app,) = load_template(write(tmp_path, text)).apps
    assert app.resources_paths == [tmp_path.resolve() / "svc" / ".dapr" / "resources"]


@pytest.mark.parametrize(
    ("given", "placement", "scheduler"),
    [
        ('placementHostAddress: ""', None, "localhost:50006"),
        ('schedulerHostAddress: ""', "localhost:50005", "localhost:50006"),
        ("placementHostAddress: myhost", "myhost:50005", "localhost:50006"),
        ("schedulerHostAddress: 10.0.0.2:7000", "localhost:50005", "10.0.0.2:7000"),
    ],
)
def test_control_plane_addresses(tmp_path, given, placement, scheduler):
    (app,) = load_template(write(tmp_path, MINIMAL + f"    {given}\n")).apps
    assert (app.placement_address, app.scheduler_address) == (placement, scheduler)


@pytest.mark.parametrize("key", sorted(NOT_SUPPORTED))
def test_each_unsupported_field_is_refused_in_an_app(tmp_path, key):
    message = refusal(tmp_path, MINIMAL + f"    {key}: x\n")
    assert message == (
        f"apps[0].{key} is not supported by workbook run ({NOT_SUPPORTED[key]}); "
        "use the Dapr CLI for it"
    )


@pytest.mark.parametrize("key", sorted(NOT_SUPPORTED))
def test_each_unsupported_field_is_refused_in_common(tmp_path, key):
    message = refusal(tmp_path, MINIMAL.replace("apps:", f"common:\n  {key}: x\napps:"))
    assert message.startswith(f"common.{key} is not supported by workbook run")


BROKEN = {
    "yaml error": (
        "version: 1\napps: [\n",
        "not valid YAML (line 3, column 1): expected the node content, but found '<stream end>'",
    ),
    "not a mapping": ("- 1\n- 2\n", "a run template is a mapping with version and apps"),
    "no version": ("apps: []\n", "required field version not found"),
    "version 0": (MINIMAL.replace("version: 1", "version: 0"), None),
    "version as text": (
        MINIMAL.replace("version: 1", "version: '1'"),
        "version: input should be a valid integer (got '1')",
    ),
    "no apps": ("version: 1\n", "No apps to run (apps: is empty or missing)"),
    "empty apps": ("version: 1\napps: []\n", "No apps to run (apps: is empty or missing)"),
    "no appDirPath": (
        "version: 1\napps:\n  - command: [x]\n",
        "required field apps[0].appDirPath not found",
    ),
    "missing folder": (MINIMAL.replace("./svc/", "./nowhere/"), None),
    "empty env": (MINIMAL + "    env:\n", None),
    "empty common": (MINIMAL.replace("apps:", "common:\napps:"), None),
    "env as a list": (MINIMAL + "    env: [A, B]\n", None),
    "port as text": (
        MINIMAL + "    appPort: '6200'\n",
        "apps[0].appPort: input should be a valid integer (got '6200')",
    ),
    "port out of range": (MINIMAL + "    daprHTTPPort: 70000\n", None),
    "unknown field": (
        MINIMAL + "    appPorts: 6200\n",
        "apps[0].appPorts is not a field of the Dapr CLI's run template (the CLI would ignore "
        "it silently)",
    ),
    "app field in common": (MINIMAL.replace("apps:", "common:\n  appPort: 1\napps:"), None),
    "bad protocol": (MINIMAL + "    appProtocol: tcp\n", None),
    "bad log destination": (MINIMAL + "    daprdLogDestination: syslog\n", None),
    "no command": ("version: 1\napps:\n  - appDirPath: svc\n", None),
    "one port twice": (
        MINIMAL + "    daprHTTPPort: 7000\n    daprGRPCPort: 7000\n",
        "svc.daprGRPCPort and svc.daprHTTPPort both ask for port 7000",
    ),
}

BROKEN_EXPECTED = {
    "version 0": "required field 'version' not found (it must be non-zero)",
    "missing folder": "apps[0].appDirPath: ./nowhere/ does not exist (",
    "empty env": "apps[0].env is empty: give it NAME: value lines, or remove the key",
    "empty common": "common is empty: give it shared fields, or remove the key",
    "env as a list": "apps[0].env: input should be a valid dictionary (got ['A', 'B'])",
    "port out of range": "apps[0] (svc).daprHTTPPort: 70000 is not a TCP port",
    "app field in common": "common.appPort is not a shared field: the Dapr CLI reads it from "
    "each app only (and ignores it in common:), so give it under the app",
    "bad protocol": "apps[0].appProtocol: input should be 'http', 'https', 'grpc', 'grpcs' or "
    "'h2c' (got 'tcp')",
    "bad log destination": "apps[0].daprdLogDestination: input should be 'file', 'console' or "
    "'fileAndConsole' (got 'syslog')",
    "no command": "apps[0] (svc).command is missing: workbook run does not start a sidecar alone",
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_broken_form_is_one_clear_line(tmp_path, case):
    text, expected = BROKEN[case]
    message = refusal(tmp_path, text)
    expected = expected or BROKEN_EXPECTED[case]
    if case == "missing folder":
        assert message.startswith(expected), message
    else:
        assert message == expected


def test_a_folder_without_dapr_yaml(tmp_path):
    with pytest.raises(TemplateError, match=r"no dapr.yaml in this folder$"):
        load_template(tmp_path)


def test_a_file_that_is_not_yaml(tmp_path):
    (tmp_path / "run.txt").write_text(MINIMAL)
    with pytest.raises(TemplateError, match=r"is not a YAML file$"):
        load_template(tmp_path / "run.txt")
