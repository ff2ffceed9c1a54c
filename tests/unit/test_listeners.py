"""Every listener the workbook gives a Dapr binary is on loopback: the flag pairs of
workbook/runtime/listeners.py, in the scheduler's, placement's and daprd's command lines."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from workbook import config
from workbook.run import launch
from workbook.run.template import load_template
from workbook.runtime.listeners import loopback_listener, service_listeners
from workbook.runtime.placement import Placement
from workbook.runtime.scheduler import Scheduler


def test_a_listener_is_a_port_and_a_loopback_address():
    assert loopback_listener("metrics", 9090) == [
        *("--metrics-port", "9090"),
        *("--metrics-listen-address", "127.0.0.1"),
    ]
    assert loopback_listener("", 50006) == ["--port", "50006", "--listen-address", "127.0.0.1"]
    ports = {"port": 1, "healthz_port": 2, "metrics_port": 3, "raft_port": 4}
    assert service_listeners(ports) == [
        *loopback_listener("", 1),
        *loopback_listener("healthz", 2),
        *loopback_listener("metrics", 3),
    ]


def flag_values(args: list[str]) -> dict[str, str]:
    """What follows each flag (every word maps to the next; only the flags' entries are read)."""
    return dict(itertools.pairwise(args[1:]))


@pytest.fixture
def binaries(monkeypatch):
    """Command lines only: a made-up path stands for each Dapr binary (nothing is started)."""
    monkeypatch.setattr(config, "dapr_binary", lambda name: Path("/nowhere/bin") / name)


def every_port_listens_on_loopback(args: list[str], ports: list[str]) -> None:
    values = flag_values(args)
    for port_flag in ports:
        assert port_flag in values, port_flag
        address_flag = port_flag.removesuffix("port") + "listen-address"
        assert values[address_flag] == "127.0.0.1", address_flag


def test_scheduler_and_placement_listen_on_loopback_only(binaries, tmp_path):
    scheduler = Scheduler.isolated(tmp_path / "scheduler").args()
    placement = Placement.isolated(tmp_path / "placement").args()
    common = ["--port", "--healthz-port", "--metrics-port"]
    every_port_listens_on_loopback(scheduler, [*common, "--etcd-client-port"])
    every_port_listens_on_loopback(placement, common)
    assert scheduler[0] == "/nowhere/bin/scheduler"
    assert placement[0] == "/nowhere/bin/placement"


def test_daprd_of_a_template_app_keeps_its_internal_ports_on_loopback(binaries):
    ports = dict(daprHTTPPort=1, daprGRPCPort=2, daprInternalGRPCPort=3, metricsPort=4)
    for app in load_template(config.ROOT).apps:
        args = launch.daprd_args(app, {**ports, "profilePort": 5})
        every_port_listens_on_loopback(args, ["--metrics-port", "--dapr-internal-grpc-port"])
        assert flag_values(args)["--dapr-internal-grpc-port"] == "3"
