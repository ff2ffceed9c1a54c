"""The flags that put a Dapr binary's listener on loopback: a port and its listen address.

Every Dapr binary names a listener NAME by a pair of flags, `--NAME-port` and
`--NAME-listen-address` (the main gRPC port: plain `--port` and `--listen-address`); the workbook
binds every one of them to 127.0.0.1, so nothing it starts is reachable from the network.

    loopback_listener("metrics", 9090)   ["--metrics-port", "9090",
                                          "--metrics-listen-address", "127.0.0.1"]
    service_listeners(ports)             a control-plane service's gRPC, health and metrics
"""

from __future__ import annotations

LOOPBACK = "127.0.0.1"


def loopback_listener(name: str, port: int) -> list[str]:
    """`--NAME-port PORT --NAME-listen-address 127.0.0.1` (name "" for `--port`)."""
    prefix = f"--{name}-" if name else "--"
    return [f"{prefix}port", str(port), f"{prefix}listen-address", LOOPBACK]


def service_listeners(ports: dict[str, int]) -> list[str]:
    """The gRPC, health and metrics listeners of a control-plane service (scheduler, placement,
    sentry), from its `port`, `healthz_port` and `metrics_port`."""
    return [
        *loopback_listener("", ports["port"]),
        *loopback_listener("healthz", ports["healthz_port"]),
        *loopback_listener("metrics", ports["metrics_port"]),
    ]
