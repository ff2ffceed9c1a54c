"""Sentry, Dapr's certificate authority, and mTLS between daprd and the scheduler, self-hosted.

`dapr init` starts no Sentry in self-hosted mode; the Dapr docs' "Setup & configure mTLS
certificates" page has it run by hand: `sentry --issuer-credentials <dir> --trust-domain ...`
creates a root and an issuer certificate in <dir> (ca.crt, issuer.crt, issuer.key) when the
folder is empty, then signs the certificate every sidecar and control-plane service asks for.

    sentry = Sentry.isolated(folder).start()          # free ports; certificates in folder/certs
    scheduler = MTLSScheduler.isolated(sentry, folder).start()   # --tls-enabled
    MTLSSidecar("app", sentry=sentry, scheduler_address=scheduler.address).start()
        # daprd --enable-mtls --sentry-address ..., DAPR_TRUST_ANCHORS=<ca.crt>
    Sidecar("app", scheduler_address=scheduler.address)         # no certificate: refused

sentry and etcdctl are built by runtime/extras.sh (`make extras`), never on `make run`'s path.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from workbook import config
from workbook.runtime.apps import JobService
from workbook.runtime.dapr_service import ControlPlaneService
from workbook.runtime.detect import Found
from workbook.runtime.etcd_store import extras_binary
from workbook.runtime.processes import free_port
from workbook.runtime.scheduler import DEFAULT_PORTS as SCHEDULER_PORTS
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import http_status

DEFAULT_PORTS = {"port": 50001, "healthz_port": 8080, "metrics_port": 9090}
TRUST_DOMAIN = "cluster.local"  # the docs' self-hosted example
# Sentry's own configuration (a Dapr Configuration resource; in self-hosted mode, a file).
SENTRY_CONFIG = """\
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprsystem
spec:
  mtls:
    enabled: true
    workloadCertTTL: "24h"
    allowedClockSkew: "15m"
"""


def _base(base_dir: Path | None, prefix: str) -> Path:
    return Path(base_dir or tempfile.mkdtemp(prefix=prefix, dir=config.scratch_dir()))


class Sentry(ControlPlaneService):
    """One Sentry process; it creates its root and issuer certificates on first start."""

    service = "sentry"
    DEFAULT_PORTS = DEFAULT_PORTS

    def __init__(
        self,
        *,
        certs_dir: Path,
        log_path: Path,
        trust_domain: str = TRUST_DOMAIN,
        **ports: int,
    ):
        self.certs_dir = Path(certs_dir)
        self.config_path = self.certs_dir.parent / "sentry-config.yaml"
        self.trust_domain = trust_domain
        super().__init__(log_path=log_path, **ports)

    @classmethod
    def isolated(cls, base_dir: Path | None = None) -> Sentry:
        base = _base(base_dir, "sentry-")
        ports = {name: free_port() for name in DEFAULT_PORTS}
        return cls(certs_dir=base / "certs", log_path=base / "sentry.log", **ports)

    @property
    def trust_anchors(self) -> Path:
        """The root certificate every sidecar and service is given to trust."""
        return self.certs_dir / "ca.crt"

    def find_running(self) -> Found | None:
        return None  # a Sentry is always this object's own (it owns its certificates)

    def prepare(self) -> None:
        self.certs_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(SENTRY_CONFIG)

    def healthy(self) -> bool:
        # ready once it answers /healthz and has written the trust anchors it will sign with
        return http_status(self.healthz_url, timeout=0.5) == 200 and self.trust_anchors.is_file()

    def args(self) -> list[str]:
        p = self.ports
        return [
            str(extras_binary("sentry")),
            "--issuer-credentials",
            str(self.certs_dir),
            "--trust-domain",
            self.trust_domain,
            "--config",
            str(self.config_path),
            "--port",
            str(p["port"]),
            "--listen-address",
            "127.0.0.1",
            "--healthz-port",
            str(p["healthz_port"]),
            "--healthz-listen-address",
            "127.0.0.1",
            "--metrics-port",
            str(p["metrics_port"]),
            "--metrics-listen-address",
            "127.0.0.1",
            "--log-level",
            "info",
        ]


class MTLSScheduler(Scheduler):
    """A scheduler that serves its gRPC API over mTLS only, with a certificate from Sentry."""

    def __init__(self, sentry: Sentry, **options):
        self.sentry = sentry
        super().__init__(**options)

    @classmethod
    def isolated(cls, sentry: Sentry, base_dir: Path | None = None) -> MTLSScheduler:
        base = _base(base_dir, "scheduler-mtls-")
        ports = {name: free_port() for name in SCHEDULER_PORTS}
        return cls(sentry, data_dir=base / "data", log_path=base / "scheduler.log", **ports)

    def find_running(self) -> Found | None:
        return None  # never reuse a scheduler that may not speak mTLS

    def args(self) -> list[str]:
        return [
            *super().args(),
            "--tls-enabled",
            "--trust-anchors-file",
            str(self.sentry.trust_anchors),
            "--trust-domain",
            self.sentry.trust_domain,
            "--sentry-address",
            self.sentry.address,
            # where it writes the certificate Sentry gave it (the default is one shared folder
            # under /tmp, which two schedulers on one machine would overwrite)
            "--identity-directory-write",
            str(self.data_dir.parent / "identity"),
        ]


class MTLSSidecar(Sidecar):
    """daprd with mTLS on: it asks Sentry for its certificate at start-up."""

    def __init__(self, app_id: str, *, sentry: Sentry, **options):
        self.sentry = sentry
        options["extra_args"] = [
            "--enable-mtls",
            "--sentry-address",
            sentry.address,
            "--control-plane-trust-domain",
            sentry.trust_domain,
            *(options.get("extra_args") or []),
        ]
        super().__init__(app_id, **options)

    def env(self) -> dict[str, str]:
        # the root certificate it trusts, as the docs' self-hosted steps export it
        return {**super().env(), "DAPR_TRUST_ANCHORS": self.sentry.trust_anchors.read_text()}


class MTLSJobService(JobService):
    """job_service with an mTLS sidecar (same ports, same app environment)."""

    def __init__(self, scheduler: MTLSScheduler, **options):
        super().__init__(scheduler, **options)
        plain = self.sidecar
        self.sidecar = MTLSSidecar(
            plain.app_id,
            sentry=scheduler.sentry,
            scheduler_address=plain.scheduler_address,
            app_port=plain.app_port,
            http_port=plain.http_port,
            grpc_port=plain.grpc_port,
            log_path=plain.log_path,
        )


def certificate_text(path: Path) -> str:
    """Subject, issuer, names and dates of a PEM certificate, as `openssl x509` prints them."""
    command = ["openssl", "x509", "-in", str(path), "-noout", "-issuer", "-ext", "subjectAltName"]
    out = subprocess.run(  # noqa: S603 (Debian's openssl, an argument list, no shell)
        command,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return out.stdout
