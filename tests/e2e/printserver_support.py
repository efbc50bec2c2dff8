"""What the print daemon end-to-end tests share: the real WMS served on 127.0.0.1 (HTTP or HTTPS with a private
CA made here), a site with printers, the daemon as a real process, and a real cupsd on loopback."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from wms.db import db
from wms.enums import PrinterPlace
from wms.layout import services as layout
from wms.printing import jobs
from wms.printing.models import DocumentKind, JobState, PrintJob, PrintJobEvent

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def delivered(zebra: Any) -> bytes:
    """Every byte a fake Zebra received, in order, without the daemon's status queries."""
    from printserver.backends.raw import STATUS_QUERY

    return b"".join(bytes(conn.raw).replace(STATUS_QUERY, b"") for conn in zebra.connections)


# -- TLS ---------------------------------------------------------------------------------------------------


def make_private_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, server.key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "printserver test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem, cert_pem, key_pem = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return ca_pem, cert_pem, key_pem


# -- the WMS -------------------------------------------------------------------------------------------------


class WmsServer:
    """The real app under werkzeug's threaded server on 127.0.0.1; stop() and start() again on the same port."""

    def __init__(self, app: Flask, tls: tuple[Path, Path] | None = None) -> None:
        self.app, self.tls = app, tls
        self.port = free_port()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> WmsServer:
        ssl_context = None
        if self.tls:
            import ssl

            ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ssl_context.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True, ssl_context=ssl_context)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="wms-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)


@dataclass
class Site:
    app: Flask
    warehouse_id: int
    zones: dict[str, int]
    printers: dict[str, int] = field(default_factory=dict)

    def add_printer(self, code: str, connection: str, *, zone: str | None = None, backup: str | None = None) -> None:
        from wms.printing.models import Printer

        with self.app.app_context():
            from wms.layout.models import Warehouse, Zone

            wh = db.session.get(Warehouse, self.warehouse_id)
            zone_obj = db.session.get(Zone, self.zones[zone]) if zone else None
            backup_obj = db.session.get(Printer, self.printers[backup]) if backup else None
            printer = layout.add_printer(wh, code, place=PrinterPlace.RACK_HEAD, zone=zone_obj,
                                         connection=connection, backup=backup_obj)
            db.session.commit()
            self.printers[code] = printer.id

    def enqueue(self, zpl: bytes, *, zone: str | None = None, printer: str | None = None, reference: str = "OP",
                key: str | None = None, kind: DocumentKind = DocumentKind.PICK_ORDER,
                content_type: str = jobs.ZPL) -> int:
        from wms.printing.models import Printer

        with self.app.app_context():
            job = jobs.enqueue_job(
                warehouse_id=self.warehouse_id, kind=kind, reference=reference, payload=zpl,
                content_type=content_type, idempotency_key=key or f"test-{time.monotonic_ns()}",
                printer=db.session.get(Printer, self.printers[printer]) if printer else None,
                zone_id=self.zones[zone] if zone else None)
            db.session.commit()
            return job.id

    def enqueue_many(self, payloads: list[tuple[bytes, str]], *, reference: str = "JOB") -> list[int]:
        """Enqueue (payload, printer code) pairs in one transaction, in order."""
        from wms.printing.models import Printer

        with self.app.app_context():
            printers = {code: db.session.get(Printer, pid) for code, pid in self.printers.items()}
            ids = []
            for n, (payload, code) in enumerate(payloads):
                job = jobs.enqueue_job(warehouse_id=self.warehouse_id, kind=DocumentKind.PICK_ORDER,
                                       reference=f"{reference}-{n}", payload=payload, content_type=jobs.ZPL,
                                       idempotency_key=f"{reference}-{n}-{time.monotonic_ns()}",
                                       printer=printers[code])
                db.session.flush()
                ids.append(job.id)
            db.session.commit()
            return ids

    def jobs(self) -> dict[int, dict[str, Any]]:
        from wms.printing.models import Printer

        with self.app.app_context():
            codes = {p.id: p.code for p in db.session.scalars(select(Printer))}
            rows = db.session.scalars(select(PrintJob).where(PrintJob.warehouse_id == self.warehouse_id)).all()
            return {j.id: {"state": j.state, "printed_by": codes.get(j.printed_by_id), "attempts": j.attempts,
                           "possible_duplicate": j.possible_duplicate, "last_error": j.last_error,
                           "reference": j.reference} for j in rows}

    def events(self, job_id: int) -> list[tuple[str, str | None]]:
        with self.app.app_context():
            return [(e.state.value, e.detail) for e in db.session.scalars(
                select(PrintJobEvent).where(PrintJobEvent.job_id == job_id).order_by(PrintJobEvent.id))]

    def printer_status(self, code: str) -> tuple[str, str | None]:
        from wms.printing.models import Printer

        with self.app.app_context():
            p = db.session.get(Printer, self.printers[code])
            return p.status, p.status_detail

    def all_final(self, ids: list[int] | None = None) -> bool:
        rows = self.jobs()
        return all(rows[i]["state"] in (JobState.PRINTED, JobState.FAILED) for i in (ids or rows))


def make_site(app: Flask, zones: tuple[str, ...] = ("A", "B")) -> Site:
    from tests.factories import _seq  # noqa: F401 - the factories' counter keeps codes unique
    from wms.enums import ZoneKind

    with app.app_context():
        wh = layout.create_warehouse(f"PS{time.monotonic_ns() % 10**6}", "Print site")
        ids = {code: layout.add_zone(wh, code, ZoneKind.RACK, aisle_length_m=10).id for code in zones}
        db.session.commit()
        return Site(app, wh.id, ids)


def site_token(app: Flask, site: Site) -> str:
    from wms.auth.tokens import issue_token
    from wms.enums import TokenPurpose

    with app.app_context():
        _token, raw = issue_token(name="printserver-test", purpose=TokenPurpose.PRINT_SITE,
                                  warehouse_id=site.warehouse_id)
        db.session.commit()
        return raw


# -- the daemon ------------------------------------------------------------------------------------------------


class DaemonProcess:
    """`python -m printserver` as a real process, configured by PRINTSERVER_* variables."""

    def __init__(self, state_dir: Path, env: dict[str, str]) -> None:
        self.state_dir = state_dir
        self.env = env
        self.log = state_dir / "daemon.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> DaemonProcess:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([PYTHON, "-m", "printserver", "--log-level", "INFO"], cwd=ROOT,
                                            env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 60) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def daemon_env(url: str, token: str, state_dir: Path, **timing: object) -> dict[str, str]:
    env = {"PRINTSERVER_WMS_URL": url, "PRINTSERVER_TOKEN": token, "PRINTSERVER_STATE_DIR": str(state_dir),
           "PRINTSERVER_DAEMON_ID": "site-test", "PRINTSERVER_LONG_POLL_SECONDS": "2",
           "PRINTSERVER_STATUS_INTERVAL_SECONDS": "0.5", "PRINTSERVER_RETRY_BASE_SECONDS": "0.3",
           "PRINTSERVER_RETRY_MAX_SECONDS": "2", "PRINTSERVER_CONNECT_TIMEOUT_SECONDS": "1",
           "PRINTSERVER_STATUS_TIMEOUT_SECONDS": "1.5", "PRINTSERVER_WMS_BACKOFF_MAX_SECONDS": "1",
           "PRINTSERVER_STOP_TIMEOUT_SECONDS": "20"}
    env.update({f"PRINTSERVER_{k.upper()}": str(v) for k, v in timing.items()})
    return env


# -- a real cupsd on loopback ------------------------------------------------------------------------------------


class Cupsd:
    """`cupsd -f` with its own configuration, spool and port on 127.0.0.1; queues made with lpadmin."""

    def __init__(self) -> None:
        # Not under pytest's private tmp: cupsd's backends run as `lp` when we are root and must reach the spool.
        self.dir = Path(tempfile.mkdtemp(prefix="printserver-cups-"))
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Cupsd:
        d = self.dir
        for sub in ("spool", "spool/tmp", "cache", "log", "run", "state", "ppd"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(d / "spool", 0o1777)
        (d / "cupsd.conf").write_text(
            f"Listen 127.0.0.1:{self.port}\nLogLevel warn\nBrowsing No\nDefaultAuthType None\n"
            "WebInterface No\nMaxJobs 0\nPreserveJobHistory Yes\nJobRetryInterval 1\n"
            "<Location />\n  Order allow,deny\n  Allow 127.0.0.1\n</Location>\n"
            "<Location /admin>\n  Order allow,deny\n  Allow 127.0.0.1\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n")
        (d / "cups-files.conf").write_text(
            f"ServerRoot {d}\nRequestRoot {d}/spool\nTempDir {d}/spool/tmp\nCacheDir {d}/cache\n"
            f"StateDir {d}/state\nErrorLog {d}/log/error_log\nAccessLog {d}/log/access_log\n"
            f"PageLog {d}/log/page_log\nServerBin /usr/lib/cups\nDataDir /usr/share/cups\n"
            "FileDevice Yes\nSandboxing Relaxed\n"
            + _identity())
        with open(d / "log" / "stdout", "ab") as out:
            self.process = subprocess.Popen(
                ["/usr/sbin/cupsd", "-f", "-c", str(d / "cupsd.conf"), "-s", str(d / "cups-files.conf")],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until(self._answers, 20, "cupsd to listen")
        return self

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError("cupsd exited:\n" + self.logs())
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def logs(self) -> str:
        parts = []
        for name in ("log/stdout", "log/error_log"):
            path = self.dir / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def lpadmin(self, *args: str) -> None:
        subprocess.run(["/usr/sbin/lpadmin", "-h", self.server, *args], check=True, capture_output=True,
                       timeout=30)

    def raw_queue(self, name: str, device_uri: str) -> None:
        self.lpadmin("-p", name, "-v", device_uri, "-E", "-m", "raw")

    def run(self, *command: str) -> None:
        subprocess.run([command[0], "-h", self.server, *command[1:]], check=True, capture_output=True, timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _identity() -> str:
    """As root, cupsd runs its backends as its default `lp` user; otherwise as us."""
    import grp

    group = grp.getgrgid(os.getgid()).gr_name
    if os.getuid() == 0:
        return f"SystemGroup {group}\n"
    return f"User {os.getuid()}\nGroup {os.getgid()}\nSystemGroup {group}\n"


def cups_available() -> bool:
    return shutil.which("/usr/sbin/cupsd") is not None and "cups" in sys.modules or _try_import_cups()


def _try_import_cups() -> bool:
    try:
        import cups  # noqa: F401
    except ImportError:
        return False
    return Path("/usr/sbin/cupsd").exists()
