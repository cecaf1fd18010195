"""deploy/haproxy.cfg as docs/deploy.md has an operator use it: TLS ending at HAProxy, SITE_URL
https://…, so Tidbok redirects plain HTTP to HTTPS and trusts X-Forwarded-Proto
(SECURE_PROXY_SSL_HEADER). Real HAProxy with a self-signed certificate, a real gunicorn from
tidbok-web@.service's command; no database is read (the health endpoint, a redirect).

HAProxy must tell the app server that the client came over HTTPS, its health check too (else
Tidbok answers the check 301, HAProxy takes every server out and the site answers 503), and must
not pass on a client's own X-Forwarded-Proto. Bounded: every wait has a deadline."""

import http.client
import os
import ssl
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import free_port
from deploy.cluster import ClusterError, Processes, haproxy_config, tool, unit_command, wait_until

pytestmark = pytest.mark.skipif(tool("haproxy") is None, reason="needs the Debian package haproxy")


def _https_get(port: int, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # our own self-signed certificate
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    conn.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _http_get(port: int, path: str, headers: dict) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers={"Host": "127.0.0.1", **headers})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.fixture
def tls_front():
    """One app server with SITE_URL https behind HAProxy: TLS on one bind (the documented
    `ssl crt`), plain HTTP on another (where an operator redirects, or a misconfigured one
    serves). Yields (https port, http port); stops all and leaves nothing behind."""
    with tempfile.TemporaryDirectory(prefix="tidbok-tls-") as tmp:
        base = Path(tmp)
        pem = base / "tidbok.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
             "-keyout", str(base / "key.pem"), "-out", str(base / "cert.pem")],
            check=True, capture_output=True, timeout=60,
        )
        pem.write_text((base / "cert.pem").read_text() + (base / "key.pem").read_text())
        (base / "logs").mkdir()
        processes = Processes(base / "logs")
        https_port, http_port, app_port = free_port(), free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CACHE_URL"))}
        env |= {
            "DJANGO_SETTINGS_MODULE": "tidbok.settings", "DEBUG": "false", "SECRET_KEY": "tls-test-" + "x" * 40,
            "SITE_URL": f"https://127.0.0.1:{https_port}", "ALLOWED_HOSTS": "127.0.0.1",
            "TIDBOK_DATA_DIR": str(base / "data"), "TRUSTED_PROXY_COUNT": "1", "BIND_ADDRESS": "127.0.0.1",
            "WEB_CONCURRENCY": "1",
        }
        try:
            app = processes.start("app", unit_command("tidbok-web@.service", str(app_port), env), env=env)

            def app_answers() -> bool:
                if app.poll() is not None:
                    raise ClusterError(f"gunicorn exited; see {processes.log('app')}")
                return _http_get(app_port, "/api/v1/health", {}).status > 0

            wait_until(app_answers, 60, "gunicorn", processes.log("app"))
            cfg = base / "haproxy.cfg"
            cfg.write_text(haproxy_config(
                BIND=f"127.0.0.1:{https_port} ssl crt {pem}\n    bind 127.0.0.1:{http_port}",
                HEALTH_HOST="127.0.0.1", SERVERS=f"    server app1 127.0.0.1:{app_port}",
            ))
            check = subprocess.run([tool("haproxy"), "-c", "-q", "-f", str(cfg)], capture_output=True, text=True,
                                   timeout=30)
            assert check.returncode == 0, check.stdout + check.stderr
            haproxy = processes.start("haproxy", [tool("haproxy"), "-db", "-f", str(cfg)])
            yield https_port, http_port, haproxy.pid
        finally:
            processes.stop_all()


def test_tls_at_haproxy_reaches_tidbok_as_https(tls_front):
    https_port, http_port, _ = tls_front

    def serves() -> bool:
        return _https_get(https_port, "/api/v1/health").status == 200

    # The server comes up once two health checks (1 s apart) pass; a check answered 301 never does.
    try:
        wait_until(serves, 20, "the app server behind HAProxy's TLS")
    except ClusterError:
        pytest.fail(f"HAProxy over TLS answers {_https_get(https_port, '/api/v1/health').status}, not 200: "
                    "its health check (or the request) reached Tidbok as plain HTTP")
    # A page is served, not redirected to the very address it was asked at.
    assert _https_get(https_port, "/api/v1/health").getheader("Location") is None
    # On plain HTTP Tidbok redirects to HTTPS, also when the client claims it came over HTTPS.
    forged = _http_get(http_port, "/api/v1/health", {"X-Forwarded-Proto": "https"})
    assert forged.status == 301
    assert forged.getheader("Location") == "https://127.0.0.1/api/v1/health"


@pytest.mark.skipif(os.geteuid() != 0, reason="HAProxy drops privileges only when started as root")
def test_haproxy_started_as_root_gives_up_root_once_it_listens(tls_front):
    """The internet-facing TLS and HTTP parser: started as root by its package's unit, it runs
    as the user `haproxy`, jailed in /var/lib/haproxy, as Debian's own haproxy.cfg has it."""
    https_port, _, pid = tls_front
    wait_until(lambda: _https_get(https_port, "/api/v1/health").status == 200, 20, "HAProxy")

    status = Path(f"/proc/{pid}/status").read_text()
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert "0" not in uids
    assert os.readlink(f"/proc/{pid}/root") == "/var/lib/haproxy"
