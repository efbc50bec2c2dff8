"""The shipped gunicorn config serves `wsgi:app` and its limits: an oversize body gets a JSON 413 and a clean
close, and request lines and header fields as long as the documented nginx config lets through are accepted."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/api/v1/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@pytest.fixture(scope="module")
def gunicorn_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """gunicorn started as the systemd unit starts it (`--config deploy/gunicorn.conf.py`), on a fresh SQLite file."""
    tmp = tmp_path_factory.mktemp("limits")
    port = _free_port()
    env = {**os.environ, "WMS_DATABASE_URL": f"sqlite:///{tmp}/limits.db", "WMS_SECRET_KEY": secrets.token_urlsafe(32),
           "WMS_BIND": f"127.0.0.1:{port}", "WMS_WORKERS": "1", "WMS_THREADS": "2"}
    env.pop("WMS_CONFIG", None)
    subprocess.run([str(ROOT / ".venv" / "bin" / "wms"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    # Started from another directory: the config, not the caller's working directory, finds wsgi.py.
    process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--config",
                                str(ROOT / "deploy" / "gunicorn.conf.py")],
                               cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            assert process.poll() is None, "gunicorn exited:\n" + "".join(output)
            assert time.monotonic() < deadline, "gunicorn never answered:\n" + "".join(output)
            time.sleep(0.3)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        process.stdout.close()


def test_the_shipped_config_serves_the_wsgi_module() -> None:
    path = ROOT / "deploy" / "gunicorn.conf.py"
    config: dict[str, object] = {"__file__": str(path)}
    exec(path.read_text(), config)  # our own config file
    assert config["wsgi_app"] == "wsgi:app" and config["chdir"] == str(ROOT)
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c",
                          "import wsgi, flask; print(isinstance(wsgi.app, flask.Flask))"],
                         cwd=ROOT, capture_output=True, text=True, env={**os.environ, "WMS_SECRET_KEY": "x" * 32})
    assert out.stdout.strip() == "True", out.stderr


def test_an_oversize_body_gets_a_json_413_and_the_connection_closes_cleanly(gunicorn_port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn_port, timeout=30)
    try:
        body = b'{"sku": "' + b"x" * (3 * 1024 * 1024) + b'"}'
        conn.request("POST", "/api/v1/products", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        problem = json.loads(resp.read())
        assert resp.status == 413
        assert resp.getheader("Content-Type") == "application/problem+json"
        assert problem["status"] == 413 and "larger than the limit" in problem["detail"]
        # A keep-alive client learns from the answer itself that this connection is done.
        assert resp.getheader("Connection") == "close"
        assert resp.will_close
    finally:
        conn.close()
    assert _answers(gunicorn_port)


def test_a_small_body_keeps_the_connection_alive(gunicorn_port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn_port, timeout=30)
    try:
        conn.request("POST", "/api/v1/products", body=b"{}", headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 401 and resp.getheader("Connection") == "keep-alive"
        conn.request("GET", "/api/v1/health")
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def test_a_request_line_of_8000_bytes_reaches_the_app(gunicorn_port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn_port, timeout=30)
    try:
        conn.request("GET", "/api/v1/no-such-thing/" + "a" * 8000)
        resp = conn.getresponse()
        assert resp.status == 404 and resp.getheader("Content-Type") == "application/problem+json"
    finally:
        conn.close()


def test_a_header_field_of_8000_bytes_reaches_the_app(gunicorn_port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn_port, timeout=30)
    try:
        conn.request("GET", "/api/v1/health", headers={"X-Long": "b" * 8000})
        assert conn.getresponse().status == 200
    finally:
        conn.close()


NGINX_CONF = ROOT / "deploy" / "nginx-wms.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wms.example.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2)).sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def nginx_port(gunicorn_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The documented nginx config, unchanged but for ports, certificate and its own files, in front of gunicorn."""
    import shutil

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    tmp = tmp_path_factory.mktemp("nginx")
    cert, key = _self_signed(tmp)
    port, plain_port = _free_port(), _free_port()
    site = (NGINX_CONF.read_text()
            .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{gunicorn_port};")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;")
            .replace("listen 80;", f"listen 127.0.0.1:{plain_port};")
            .replace("/etc/ssl/wms/fullchain.pem", str(cert)).replace("/etc/ssl/wms/privkey.pem", str(key)))
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    assert f"127.0.0.1:{port} ssl" in site and str(cert) in site
    (tmp / "site.conf").write_text(site)
    temp_paths = "\n".join(f"{kind}_temp_path {tmp}/{kind};" for kind in
                           ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp / "nginx.conf").write_text(
        f"daemon off;\nmaster_process off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nevents {{}}\n"
        f"http {{\naccess_log off;\n{temp_paths}\ninclude {tmp}/site.conf;\n}}\n")
    check = subprocess.run([nginx, "-t", "-p", str(tmp), "-c", str(tmp / "nginx.conf")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf")],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while _https(port, "GET", "/api/v1/health") is None:
            assert process.poll() is None, (tmp / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx never answered"
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _https(port: int, method: str, path: str, body: bytes | None = None,
           headers: dict[str, str] | None = None) -> tuple[int, str, bytes] | None:
    """(status, content type, body) through nginx's TLS, or None when nothing answers yet."""
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    try:
        conn.request(method, path, body=body, headers={"Host": "wms.example.com", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    except ConnectionRefusedError:
        return None
    finally:
        conn.close()


def _problem(answer: tuple[int, str, bytes] | None, status: int) -> dict[str, object]:
    assert answer is not None and answer[0] == status, answer
    assert answer[1] == "application/problem+json", answer
    problem = json.loads(answer[2])
    assert problem["status"] == status and problem["type"].startswith("/problems/")
    return problem


def test_nginx_answers_an_oversized_api_header_with_a_json_problem(nginx_port: int) -> None:
    problem = _problem(_https(nginx_port, "GET", "/api/v1/health", headers={"X-Long": "b" * 9000}), 431)
    assert "8190 bytes" in str(problem["detail"])


def test_nginx_answers_an_oversized_page_header_with_its_own_page(nginx_port: int) -> None:
    answer = _https(nginx_port, "GET", "/", headers={"X-Long": "b" * 9000})
    assert answer is not None and answer[0] == 400 and answer[1].startswith("text/html")


def test_nginx_answers_an_oversized_body_with_a_json_problem(nginx_port: int) -> None:
    _problem(_https(nginx_port, "POST", "/api/v1/products", body=b"x" * (3 * 1024 * 1024),
                    headers={"Content-Type": "application/json"}), 413)


def test_nginx_answers_a_too_long_request_line_with_a_json_problem(nginx_port: int) -> None:
    _problem(_https(nginx_port, "GET", "/api/v1/no-such-thing/" + "a" * 9000), 414)


def test_what_nginx_lets_through_gunicorn_accepts(nginx_port: int) -> None:
    assert _https(nginx_port, "GET", "/api/v1/health", headers={"X-Long": "b" * 8000})[0] == 200  # type: ignore[index]
    _problem(_https(nginx_port, "GET", "/api/v1/no-such-thing/" + "a" * 8000), 404)


def test_the_nginx_and_gunicorn_limits_are_the_same_numbers() -> None:
    nginx = NGINX_CONF.read_text()
    gunicorn = GUNICORN_CONF.read_text()
    assert "large_client_header_buffers 4 8k;" in nginx  # 8192 bytes: 8190 and the CRLF
    assert "limit_request_line = 8190" in gunicorn and "limit_request_field_size = 8190" in gunicorn
    assert "client_max_body_size 2m;" in nginx and "2097152 bytes" in nginx
    for code in ("400", "413", "494"):
        assert f"error_page {code} = @wms_" in nginx
    assert "error_page 414 /wms-errors/" in nginx
