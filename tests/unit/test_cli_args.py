"""`workbook run` / `stop` / `quickstart` arguments, and the one-app template they stand for."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbook import config
from workbook.cli import build_parser, single_app_fields
from workbook.run import multiapp
from workbook.run.dapr_cli import VERSION_LINE
from workbook.run.template import TemplateError, load_single_app, load_template


def parse(*argv: str):
    return build_parser().parse_args(list(argv))


def test_run_template_with_exit_with():
    args = parse("run", "-f", ".", "--exit-with", "job-scheduler")
    assert (args.command, args.run_file, args.exit_with) == ("run", Path("."), "job-scheduler")
    assert args.app_id is None
    assert args.app_command == []


def test_single_app_like_dapr_run():
    args = parse(
        "run", "--app-id", "job-service", "--app-port", "6200", "--dapr-http-port", "6280",
        "--", "python", "-m", "job_service",
    )  # fmt: skip
    assert single_app_fields(args) == {
        "appDirPath": ".",
        "appID": "job-service",
        "command": ["python", "-m", "job_service"],
        "logLevel": "info",
        "appPort": 6200,
        "daprHTTPPort": 6280,
    }


def test_single_app_short_flags_and_repeated_resources():
    args = parse(
        "run", "-a", "svc", "-p", "7000", "-H", "7001", "-G", "7002", "-P", "grpc",
        "--resources-path", "a", "--resources-path", "b", "--log-level", "debug",
        "--placement-host-address", "", "--", "app",
    )  # fmt: skip
    fields = single_app_fields(args)
    assert fields["appProtocol"] == "grpc"
    assert fields["resourcesPaths"] == ["a", "b"]
    assert fields["logLevel"] == "debug"
    assert fields["placementHostAddress"] == ""
    assert (fields["appPort"], fields["daprHTTPPort"], fields["daprGRPCPort"]) == (7000, 7001, 7002)


def test_the_single_app_template(tmp_path):
    args = parse("run", "--app-id", "svc", "--app-port", "7000", "--", "python", "app.py")
    (app,) = load_single_app(single_app_fields(args), tmp_path).apps
    assert (app.app_id, app.app_dir, app.command) == ("svc", tmp_path, ["python", "app.py"])
    assert (app.app_port, app.log_level, app.placement_address) == (7000, "info", "localhost:50005")
    assert app.resources_paths == [config.DAPR_HOME / "components"]


def test_a_bad_single_app_flag_is_one_line(tmp_path):
    args = parse("run", "--app-id", "svc", "-P", "tcp", "--", "app")
    with pytest.raises(TemplateError) as caught:
        load_single_app(single_app_fields(args), tmp_path)
    assert str(caught.value) == (
        f"{tmp_path}/(command line): appProtocol: input should be 'http', 'https', 'grpc', "
        "'grpcs' or 'h2c' (got 'tcp')"
    )


def test_stop_forms():
    assert parse("stop", "-f", "dapr.yaml").run_file == Path("dapr.yaml")
    assert parse("stop", "--app-id", "job-service").app_id == "job-service"


def test_quickstart_forms():
    assert parse("quickstart").stand_in is False
    assert parse("quickstart", "--stand-in").stand_in is True


def test_run_dot_and_run_dapr_yaml_are_one_run():
    by_folder = load_template(config.ROOT)
    by_file = load_template(config.ROOT / "dapr.yaml")
    assert multiapp.run_key(by_folder, False) == multiapp.run_key(by_file, False)
    assert multiapp.record_path(multiapp.run_key(by_folder, False)).name == (
        str(config.ROOT / "dapr.yaml").strip("/").replace("/", "_") + ".json"
    )


@pytest.mark.parametrize(
    ("printed", "version"),
    [
        ("CLI version: 1.18.0 \nRuntime version: 1.18.3\n", "1.18.0"),  # cmd/version.go
        ("CLI version: 1.17.2 \nRuntime version: n/a\n", "1.17.2"),
        ("dapr: command not found\n", None),
    ],
)
def test_the_cli_version_line(printed, version):
    found = VERSION_LINE.search(printed)
    assert (found.group(1) if found else None) == version
