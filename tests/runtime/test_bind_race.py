"""A control-plane port held for a moment by another socket's bind (as an outgoing connection's
source port holds it: nothing listens there): the service is started once more, not failed."""

from __future__ import annotations

import socket

import pytest

from workbook.runtime import dapr_service
from workbook.runtime.placement import Placement


@pytest.fixture
def placement():
    service = Placement.isolated()
    yield service
    service.stop()


def test_a_port_held_by_a_non_listening_socket_is_retried_once(placement, monkeypatch, capsys):
    holder = socket.socket()
    holder.bind(("127.0.0.1", placement.ports["healthz_port"]))  # bound, never listening
    real_port_in_use = dapr_service.port_in_use

    def release_then_check(port):  # the outgoing connection ends once the bind has failed
        if placement.process and not placement.process.alive():
            holder.close()
        return real_port_in_use(port)

    monkeypatch.setattr(dapr_service, "port_in_use", release_then_check)
    placement.start(timeout=30)
    assert placement.rebound is True
    assert placement.healthy()
    assert "could not bind a port a moment ago" in capsys.readouterr().out


def test_a_second_lost_bind_is_reported_with_its_cause(placement):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", placement.ports["healthz_port"]))
        with pytest.raises(RuntimeError) as failure:
            placement.start(timeout=30)
    report = str(failure.value).splitlines()
    assert report[0].startswith("the placement exited (exit code ")
    assert report[1] == "its errors:"
    assert "address already in use" in "\n".join(report[2:])
    assert placement.rebound is True
