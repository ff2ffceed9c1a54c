"""`workbook`: the command line of the workbook (installed into .venv by `make`).

workbook quickstart                    `make run`: the droid storyline under the real Dapr CLI
                                       1.18 if it is on PATH, else under `workbook run`
workbook run -f . [--exit-with ID]     like `dapr run -f .`: every app of dapr.yaml
workbook run --app-id ID [--app-port N] [--dapr-http-port N] ... -- CMD...
                                       like `dapr run`: one app with its sidecar
workbook stop -f . | --app-id ID       end such a run (also what a killed one left)
workbook scheduler start|stop|status   the scheduler in the background
workbook wait-for-trigger NAME --app-port N
                                       wait until job_service has received job NAME
workbook notebooks run|check [NB...]   execute notebooks and save outputs / check them
workbook lab [--port N]                scheduler + JupyterLab on loopback (make lab)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import httpx

from workbook import config
from workbook.run import multiapp
from workbook.runtime.waiting import WaitTimeout, wait_until


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command](args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbook", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    add_run_parsers(sub)

    sched = sub.add_parser("scheduler", help="the scheduler in the background")
    sched.add_argument("action", choices=["start", "stop", "status"])

    wait = sub.add_parser("wait-for-trigger", help="wait until job_service received a job")
    wait.add_argument("name")
    wait.add_argument("--app-port", type=int, default=6200)
    wait.add_argument("--timeout", type=float, default=30)

    lab = sub.add_parser("lab", help="scheduler + JupyterLab, opened at notebook 01")
    lab.add_argument("--port", type=int, default=8888)
    lab.add_argument("--root", type=Path, help="folder to serve (default: notebooks/)")

    nbs = sub.add_parser("notebooks", help="execute and save notebooks, or check them")
    nbs.add_argument("action", choices=["run", "check"])
    nbs.add_argument("paths", nargs="*")

    return parser


# `dapr run` flags the single-app mode takes (dapr/cli cmd/run.go init), and their template key.
SINGLE_APP_FLAGS = {
    "app_port": "appPort",
    "dapr_http_port": "daprHTTPPort",
    "dapr_grpc_port": "daprGRPCPort",
    "app_protocol": "appProtocol",
    "config": "configFilePath",
    "resources_path": "resourcesPaths",
    "log_level": "logLevel",
    "placement_host_address": "placementHostAddress",
    "scheduler_host_address": "schedulerHostAddress",
}


def add_run_parsers(sub) -> None:
    run = sub.add_parser("run", help="run dapr.yaml, or one app with its sidecar")
    run.add_argument("-f", "--run-file", type=Path, help="multi-app run template or its folder")
    run.add_argument(
        "--exit-with",
        metavar="APP_ID",
        help="stop everything when this app exits (the workbook's addition: `dapr run -f` "
        "keeps running until Ctrl-C or `dapr stop`)",
    )
    run.add_argument("-a", "--app-id")
    run.add_argument("-p", "--app-port", type=int)
    run.add_argument("-H", "--dapr-http-port", type=int)
    run.add_argument("-G", "--dapr-grpc-port", type=int)
    run.add_argument("-P", "--app-protocol")
    run.add_argument("-c", "--config")
    run.add_argument("--resources-path", action="append")
    run.add_argument("--log-level")
    run.add_argument("--placement-host-address")
    run.add_argument("--scheduler-host-address")
    run.add_argument("app_command", nargs="*", help="the app's command, after --")

    stop = sub.add_parser("stop", help="stop a `workbook run`")
    stop.add_argument("-f", "--run-file", type=Path)
    stop.add_argument("--app-id")

    quick = sub.add_parser("quickstart", help="the droid storyline (make run)")
    quick.add_argument(
        "--stand-in", action="store_true", help="use `workbook run` even if the Dapr CLI is there"
    )


def single_app_fields(args) -> dict:
    """The one-app template `workbook run --app-id ...` stands for (appDirPath: here)."""
    fields = {"appDirPath": ".", "appID": args.app_id, "command": list(args.app_command)}
    fields["logLevel"] = "info"  # the single-app default of `dapr run --log-level`
    for name, key in SINGLE_APP_FLAGS.items():
        value = getattr(args, name)
        if value is not None:
            fields[key] = value
    return fields


def cmd_run(args) -> int:
    from workbook.run.template import TemplateError, load_single_app, load_template

    try:
        if args.run_file:
            ignored = [f"--{n.replace('_', '-')}" for n in SINGLE_APP_FLAGS if getattr(args, n)]
            ignored += ["--app-id"] if args.app_id else []
            if ignored:  # detectIncompatibleFlags in cmd/run.go warns the same way
                multiapp.say(
                    "The following flags are ignored when using --run-file and should be "
                    f"configured in the run file instead: {', '.join(ignored)}"
                )
            return multiapp.run(load_template(args.run_file), exit_with=args.exit_with)
        if not (args.app_id and args.app_command):
            sys.exit("workbook run: give -f TEMPLATE, or --app-id ID -- COMMAND")
        template = load_single_app(single_app_fields(args), Path.cwd())
    except TemplateError as error:
        sys.exit(f"workbook run: {error}")
    return multiapp.run(template, exit_with=args.exit_with, single_app=True)


def cmd_stop(args) -> int:
    from workbook.run.template import TemplateError, template_path

    if args.run_file:
        try:
            key = str(template_path(args.run_file))  # `-f .` and `-f dapr.yaml`: one run
        except TemplateError as error:
            sys.exit(f"workbook stop: {error}")
    elif args.app_id:
        key = args.app_id
    else:
        sys.exit("workbook stop: give -f TEMPLATE or --app-id ID")
    return multiapp.stop_run(key)


def cmd_quickstart(args) -> int:
    from workbook.run.dapr_cli import quickstart

    return quickstart(stand_in=args.stand_in)


def cmd_scheduler(args) -> int:
    """The control plane (scheduler AND placement) in the background: start, stop, status."""
    from workbook.runtime import controlplane, detect

    if args.action == "start":
        try:
            plane = controlplane.start_background()
        except (detect.PortTaken, FileNotFoundError) as error:
            sys.exit(f"workbook scheduler start: {error}")
        for line in plane.describe():
            print(line)
        if not plane.scheduler.reused:
            scheduler = plane.scheduler
            print(f"scheduler data in {scheduler.data_dir}, logs in {scheduler.log_path}")
        if plane.reused:
            print("nothing started: `make stop` will leave these running")
    elif args.action == "stop":
        stopped = controlplane.stop_background()
        print(
            ", ".join(f"{name} stopped" for name in stopped)
            if stopped
            else "nothing to stop: no scheduler or placement started by `workbook scheduler start`"
        )
        for _, running, line in controlplane.status():
            if running:
                print(f"{line}: not started by `workbook scheduler start`, left running")
    else:
        lines = controlplane.status()
        for _, _, line in lines:
            print(line)
        print(f"(Dapr {config.RUNTIME_VERSION}, {config.DAPR_BIN})")
        return 0 if all(running for _, running, _ in lines) else 1
    return 0


def cmd_wait_for_trigger(args) -> int:
    url = f"http://127.0.0.1:{args.app_port}/received"
    try:
        got = wait_until(
            lambda: httpx.get(url, params={"name": args.name}, timeout=2).json(),
            timeout=args.timeout,
            what=f"job {args.name} to reach the app",
        )
    except WaitTimeout as error:
        sys.exit(str(error))
    for trigger in got:
        print(f"{args.name} triggered -> {trigger['status']}: {trigger['body']}")
    return 0


def cmd_lab(args) -> int:
    from workbook.notebooks.lab_server import run_lab

    return run_lab(args.port, args.root)


def cmd_notebooks(args) -> int:
    from workbook.notebooks import (
        execute as nbtools,
    )  # nbclient is a dev dependency: import it only here

    return nbtools.main(args.action, args.paths)


COMMANDS = {
    "lab": cmd_lab,
    "notebooks": cmd_notebooks,
    "quickstart": cmd_quickstart,
    "run": cmd_run,
    "stop": cmd_stop,
    "scheduler": cmd_scheduler,
    "wait-for-trigger": cmd_wait_for_trigger,
}

if __name__ == "__main__":
    sys.exit(main())
