"""Tidbok past one machine, on one machine: a private PostgreSQL primary, its streaming
replica, PgBouncer (transaction mode) in front of the primary, two app servers (gunicorn)
behind HAProxy sharing one Redis (CACHE_URL: the read-your-writes mark of tidbok/replica.py),
two task workers, the scheduler and an SMTP server, all on loopback on free ports, in one
temporary folder, stopped together (docs/deploy.md).

`make cluster` (`python -m deploy.cluster`) starts it, prints the addresses and runs until
Ctrl-C; deploy/tests/test_cluster.py starts the same `Cluster` and breaks parts of it. The
configuration is deploy/'s files themselves: pgbouncer.ini and haproxy.cfg are filled in as
templates, and each process runs its systemd unit's ExecStart line (`unit_command`).

PostgreSQL and PgBouncer refuse to run as root: when this runs as root (CI, containers)
they run as the `postgres` OS user (setpriv), and the folders they write are given to it.

`pgbouncer_in_front(url)` starts PgBouncer alone in front of an existing database (the bench
measures the calendar and the booking through it and direct)."""

import atexit
import contextlib
import os
import secrets
import shlex
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DB_NAME = "tidbok"
DB_USER = "postgres"
# The interpreter the units name; replaced by this one's.
UNIT_PYTHON = "/srv/tidbok/.venv/bin/python"
# Debian packages of the parts (PostgreSQL's server binaries, PgBouncer, HAProxy).
PACKAGES = {"initdb": "postgresql", "pgbouncer": "pgbouncer", "haproxy": "haproxy", "redis-server": "redis-server"}
START_TIMEOUT = 90  # seconds for any one part to come up


class ClusterError(RuntimeError):
    """A part did not start; the message says which and where its log is."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name: str) -> str | None:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else shutil.which(name)


def tool(name: str) -> str | None:
    """The path of initdb, pgbouncer, haproxy or redis-server, or None."""
    if name == "initdb":
        return pg_bin("initdb")
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}",) if Path(p).exists()), None)


def missing_packages() -> list[str]:
    return [package for binary, package in PACKAGES.items() if not tool(binary)]


def ensure_packages() -> None:
    """Install the Debian packages that are missing when root with apt-get; else stop with
    what to install."""
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)
        # Debian starts a packaged service at once; the cluster runs its own.
        for service in ("pgbouncer", "haproxy", "redis-server"):
            if service in missing and shutil.which("service"):
                subprocess.run(["service", service, "stop"], capture_output=True)
        return
    raise SystemExit(f"The cluster needs these Debian packages: {' '.join(missing)} (apt-get install {' '.join(missing)}).")


def as_db_user(cmd: list[str]) -> list[str]:
    """PostgreSQL and PgBouncer refuse root: run them as `postgres` when this is root."""
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *cmd]


def give_to_db_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def template(name: str, **values) -> str:
    """One of deploy/'s files with its ${...} filled in."""
    return string.Template((DEPLOY / name).read_text()).substitute(values)


def haproxy_config(**values) -> str:
    """deploy/haproxy.cfg filled in. HAProxy drops to its `user`/`group` and `chroot` after
    binding, which only root may do: started by anyone else (a developer's `make cluster`),
    those lines are left out."""
    text = template("haproxy.cfg", **values)
    if os.geteuid() == 0:
        return text
    return "\n".join(line for line in text.splitlines() if line.split()[:1] not in (["user"], ["group"], ["chroot"]))


def unit_command(unit: str, instance: str, env: dict) -> list[str]:
    """A systemd unit's ExecStart as arguments: `%i` the instance, ${NAME} from `env`, the
    unit's interpreter this one."""
    text = (DEPLOY / unit).read_text()
    line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    args = shlex.split(string.Template(line.removeprefix("ExecStart=").replace("%i", instance)).substitute(env))
    return [sys.executable if args[0] == UNIT_PYTHON else args[0], *args[1:]]


def wait_until(condition, seconds: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if condition():
                return
        except (OSError, psycopg.Error):
            pass
        if time.monotonic() > deadline:
            raise ClusterError(f"{what} did not come up within {seconds} s" + (f"; see {log}" if log else ""))
        time.sleep(0.2)


def http_status(port: int, path: str = "/api/v1/health", timeout: float = 5) -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        return conn.getresponse().status
    finally:
        conn.close()


def db_url(port: int, name: str = DB_NAME) -> str:
    return f"postgres://{DB_USER}@127.0.0.1:{port}/{name}"


class Processes:
    """Children each in their own process group, so a stop (or a test's SIGKILL) reaches a
    gunicorn's workers too; all stopped together, also at exit."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict | None = None, cwd: Path = ROOT) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        log.close()
        self.running[name] = proc
        return proc

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.running[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        procs = list(self.running.values())
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # what is left of the group
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


class PostgresServer:
    """A PostgreSQL cluster in a folder of its own, run with pg_ctl as the database user."""

    def __init__(self, data: Path, port: int, socket_dir: Path, log: Path):
        self.data, self.port, self.socket_dir, self.log = data, port, socket_dir, log

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(as_db_user([pg_bin("pg_ctl"), "-D", str(self.data), *args]), cwd=self.socket_dir,
                              capture_output=True, text=True, timeout=START_TIMEOUT, check=check)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
        try:
            self.pg_ctl("-o", options, "-l", str(self.log), "-w", "-t", str(START_TIMEOUT), "start")
        except subprocess.CalledProcessError as e:
            raise ClusterError(f"PostgreSQL on port {self.port} did not start: {e.stderr.strip()}; see {self.log}")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "-w", "stop", check=False)

    def url(self, name: str = DB_NAME) -> str:
        return db_url(self.port, name)

    def sql(self, query: str, params=(), name: str = DB_NAME):
        """One statement in autocommit; its rows (or None when it returns none)."""
        with psycopg.connect(self.url(name), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else None


def start_pgbouncer(processes: Processes, folder: Path, *, db_host: str, db_port: int, db_name: str,
                    pool_size: int = 20, lock_timeout_ms: int = 5000, name: str = "pgbouncer") -> int:
    """PgBouncer from deploy/pgbouncer.ini in front of one database; answers its port."""
    folder.mkdir(parents=True, exist_ok=True)
    give_to_db_user(folder)
    port = free_port()
    auth = folder / "userlist.txt"
    auth.write_text(f'"{DB_USER}" ""\n')
    ini = folder / "pgbouncer.ini"
    ini.write_text(template(
        "pgbouncer.ini", DB_NAME=db_name, DB_HOST=db_host, DB_PORT=db_port, LOCK_TIMEOUT_MS=lock_timeout_ms,
        LISTEN_ADDR="127.0.0.1", LISTEN_PORT=port, SOCKET_DIR=folder, LOG_FILE=folder / "pgbouncer.log",
        PID_FILE=folder / "pgbouncer.pid", POOL_SIZE=pool_size, AUTH_TYPE="trust", AUTH_FILE=auth, ADMIN_USER=DB_USER,
    ))
    for path in (auth, ini):
        give_to_db_user(path)
    proc = processes.start(name, as_db_user([tool("pgbouncer"), str(ini)]), cwd=folder)

    def answers() -> bool:
        if proc.poll() is not None:
            raise ClusterError(f"PgBouncer exited with {proc.returncode}; see {processes.log(name)}")
        with psycopg.connect(db_url(port, db_name), connect_timeout=2, prepare_threshold=None) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)

    wait_until(answers, START_TIMEOUT, "PgBouncer", processes.log(name))
    return port


class PgBouncerInFront:
    """PgBouncer alone in front of an existing database (`pgbouncer_in_front`)."""

    def __init__(self, url: str, pool_size: int = 20, lock_timeout_ms: int = 5000):
        parts = urlsplit(url)
        self.folder = Path(tempfile.mkdtemp(prefix="tidbok-pgbouncer-"))
        give_to_db_user(self.folder)
        (self.folder / "logs").mkdir()
        self.processes = Processes(self.folder / "logs")
        try:
            self.port = start_pgbouncer(self.processes, self.folder / "pgbouncer", db_host=parts.hostname or "127.0.0.1",
                                        db_port=parts.port or 5432, db_name=parts.path.lstrip("/"), pool_size=pool_size,
                                        lock_timeout_ms=lock_timeout_ms)
        except BaseException:
            self.stop()
            raise
        self.url = parts._replace(netloc=f"{parts.username or DB_USER}@127.0.0.1:{self.port}").geturl()

    def stop(self) -> None:
        self.processes.stop_all()
        shutil.rmtree(self.folder, ignore_errors=True)


def pgbouncer_in_front(url: str, **options) -> PgBouncerInFront:
    """Start PgBouncer (transaction mode, deploy/pgbouncer.ini) in front of the PostgreSQL
    database `url` names (trust authentication, on loopback); `.url` is the same database
    through it (run Tidbok on it with DATABASE_POOLER=pgbouncer), `.stop()` ends it."""
    if not tool("pgbouncer"):
        raise ClusterError("PgBouncer is not installed (apt-get install pgbouncer)")
    return PgBouncerInFront(url, **options)


class SmtpPrinter:
    """`make cluster`'s mail server: each message accepted is printed as one line."""

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        print(f"mail to {', '.join(envelope.rcpt_tos)}: {message['Subject']}", flush=True)
        return "250 Message accepted for delivery"


class Cluster:
    """The whole shape on loopback. `start()` brings it up (and stops what it started if a
    part fails); `stop()` ends it all; `url` is the load balancer's address.

    env: extra environment for the app servers, workers and scheduler (e.g. a short
    EMAIL_STALE_CLAIM_SECONDS). smtp_port: a mail server of the caller's; otherwise one that
    prints each mail."""

    def __init__(self, *, app_servers: int = 2, workers: int = 2, web_concurrency: int = 2, smtp_port: int | None = None,
                 env: dict | None = None, collectstatic: bool = True, keep: bool = False, demo: bool = False):
        self.app_count, self.worker_count, self.web_concurrency = app_servers, workers, web_concurrency
        self.smtp_port, self.extra_env, self.collectstatic, self.keep = smtp_port, env or {}, collectstatic, keep
        self.demo = demo  # `make cluster`: the demo data of `make run`, so there is someone to log in as
        self.base = Path(tempfile.mkdtemp(prefix="tidbok-cluster-"))
        self.logs = self.base / "logs"
        self.logs.mkdir()
        for folder in (self.base, self.logs):
            give_to_db_user(folder)
        self.processes = Processes(self.logs)
        self.primary = PostgresServer(self.base / "primary", free_port(), self.base, self.logs / "primary.log")
        self.replica = PostgresServer(self.base / "replica", free_port(), self.base, self.logs / "replica.log")
        self.lb_port = free_port()
        self.redis_port = free_port()
        self.app_ports = [free_port() for _ in range(app_servers)]
        self.secret_key = secrets.token_urlsafe(40)
        self.pgbouncer_port = 0  # known once PgBouncer runs
        self._smtp = None
        self._stopped = False

    # Addresses ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.lb_port}"

    @property
    def pooler_url(self) -> str:
        return db_url(self.pgbouncer_port)

    def env(self) -> dict:
        """The environment file of every unit here (deploy/tidbok.env.example, filled in)."""
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tidbok.settings",
            "DEBUG": "false",
            "SECRET_KEY": self.secret_key,
            "SITE_URL": self.url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "TIDBOK_DATA_DIR": str(self.base / "data"),
            "TRUSTED_PROXY_COUNT": "1",
            "BIND_ADDRESS": "127.0.0.1",
            "WEB_CONCURRENCY": str(self.web_concurrency),
            "DATABASE_URL": self.pooler_url,
            "DATABASE_POOLER": "pgbouncer",
            "DATABASE_REPLICA_URL": self.replica.url(),
            "CACHE_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "REPLICA_MAX_LAG_SECONDS": "5",
            "REPLICA_STICKY_SECONDS": "10",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp_port),
            "EMAIL_TIMEOUT": "10",
            "EMAIL_RETRY_DELAY": "1",
            "EMAIL_RETRY_MAX_DELAY": "5",
            "EMAIL_STALE_CLAIM_SECONDS": "30",
            "LOG_LEVEL": "INFO",
            **self.extra_env,
        }

    # Start ----------------------------------------------------------------------------------
    def start(self) -> "Cluster":
        atexit.register(self.stop)
        try:
            self._start_smtp()
            self._start_primary()
            self._start_replica()
            self.pgbouncer_port = start_pgbouncer(
                self.processes, self.base / "pgbouncer", db_host="127.0.0.1", db_port=self.primary.port, db_name=DB_NAME,
                lock_timeout_ms=int(self.extra_env.get("DB_LOCK_TIMEOUT_MS") or os.environ.get("DB_LOCK_TIMEOUT_MS") or 5000),
            )
            self._migrate()
            self._start_redis()
            for i in range(self.app_count):
                self.start_app(i, wait=False)
            for i in range(self.app_count):
                self._wait_app(i)
            self._start_haproxy()
            for i in range(self.worker_count):
                self.start_worker(i)
            self.processes.start("scheduler", unit_command("tidbok-scheduler.service", "", self.env()), env=self.env())
            self.wait_replica_caught_up()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_smtp(self) -> None:
        if self.smtp_port is not None:
            return
        from aiosmtpd.controller import Controller

        self.smtp_port = free_port()
        self._smtp = Controller(SmtpPrinter(), hostname="127.0.0.1", port=self.smtp_port, server_hostname="smtp.cluster")
        self._smtp.start()

    def _start_primary(self) -> None:
        data = self.primary.data
        subprocess.run(as_db_user([pg_bin("initdb"), "-D", str(data), "-U", DB_USER, "--auth=trust", "-E", "UTF8",
                                   "--locale=C.UTF-8"]),
                       cwd=self.base, check=True, capture_output=True, timeout=START_TIMEOUT)
        with open(data / "postgresql.conf", "a") as conf:
            # A replica streams from it; UTC so that Django sets no time zone per connection;
            # fsync off: a throw-away cluster (never on a real primary).
            conf.write("\nwal_level = replica\nmax_wal_senders = 5\nhot_standby = on\nmax_connections = 200\n"
                       "timezone = 'UTC'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write("\nhost replication all 127.0.0.1/32 trust\n")
        self.primary.start()
        self.primary.sql(f"CREATE DATABASE {DB_NAME}", name="postgres")

    def _start_replica(self) -> None:
        subprocess.run(as_db_user([pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", DB_USER,
                                   "-D", str(self.replica.data), "-R", "-X", "stream", "-c", "fast"]),
                       cwd=self.base, check=True, capture_output=True, timeout=START_TIMEOUT)
        self.replica.start()

    def _migrate(self) -> None:
        """Migrations go to the primary directly, never through the transaction pooler."""
        env = {**self.env(), "DATABASE_URL": self.primary.url(), "DATABASE_POOLER": "none"}
        log = open(self.logs / "migrate.log", "ab")
        with log:
            subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env,
                           stdout=log, stderr=subprocess.STDOUT, check=True, timeout=300)
            if self.collectstatic:
                subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, check=True, timeout=300)
            if self.demo:
                subprocess.run([sys.executable, "manage.py", "demo_data"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, check=True, timeout=300)

    def _start_redis(self) -> None:
        """The cache every app server shares; nothing in it needs to outlive a restart."""
        proc = self.processes.start("redis", [tool("redis-server"), "--bind", "127.0.0.1", "--port", str(self.redis_port),
                                              "--save", "", "--appendonly", "no", "--dir", str(self.base)])

        def answers() -> bool:
            if proc.poll() is not None:
                raise ClusterError(f"Redis exited with {proc.returncode}; see {self.processes.log('redis')}")
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")

        wait_until(answers, START_TIMEOUT, "Redis", self.processes.log("redis"))

    def start_app(self, i: int, wait: bool = True) -> None:
        port = str(self.app_ports[i])
        self.processes.start(f"app{i + 1}", unit_command("tidbok-web@.service", port, self.env()), env=self.env())
        if wait:
            self._wait_app(i)

    def _wait_app(self, i: int) -> None:
        name, proc = f"app{i + 1}", self.processes.running[f"app{i + 1}"]

        def healthy() -> bool:
            if proc.poll() is not None:
                raise ClusterError(f"{name} exited with {proc.returncode}; see {self.processes.log(name)}")
            return http_status(self.app_ports[i]) == 200

        wait_until(healthy, START_TIMEOUT, name, self.processes.log(name))

    def _start_haproxy(self) -> None:
        servers = "\n".join(f"    server app{i + 1} 127.0.0.1:{port}" for i, port in enumerate(self.app_ports))
        cfg = self.base / "haproxy.cfg"
        cfg.write_text(haproxy_config(BIND=f"127.0.0.1:{self.lb_port}", HEALTH_HOST="127.0.0.1", SERVERS=servers))
        check = subprocess.run([tool("haproxy"), "-c", "-q", "-f", str(cfg)], capture_output=True, text=True)
        if check.returncode:
            raise ClusterError(f"haproxy.cfg is not valid: {check.stdout}{check.stderr}")
        proc = self.processes.start("haproxy", [tool("haproxy"), "-db", "-f", str(cfg)])

        def answers() -> bool:
            if proc.poll() is not None:
                raise ClusterError(f"HAProxy exited with {proc.returncode}; see {self.processes.log('haproxy')}")
            return http_status(self.lb_port) == 200

        wait_until(answers, START_TIMEOUT, "HAProxy", self.processes.log("haproxy"))

    def start_worker(self, i: int) -> None:
        self.processes.start(f"worker{i + 1}", unit_command("tidbok-worker@.service", str(i + 1), self.env()),
                             env=self.env())

    # Faults ---------------------------------------------------------------------------------
    def kill(self, name: str) -> None:
        """SIGKILL a part and everything it started (`app1`, `worker2`, …)."""
        self.processes.kill(name, signal.SIGKILL)

    def wait_replica_caught_up(self, seconds: float = 60) -> None:
        target = self.primary.sql("SELECT pg_current_wal_lsn()", name="postgres")[0][0]

        def caught_up() -> bool:
            return self.replica.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target], name="postgres")[0][0]

        wait_until(caught_up, seconds, "the replica's replay", self.replica.log)

    # Stop -----------------------------------------------------------------------------------
    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        # A second Ctrl-C or SIGTERM (make and `timeout` pass theirs on too) must not cut the
        # stop short and leave a PostgreSQL or HAProxy running.
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)
        self.processes.stop_all()
        for server in (self.replica, self.primary):
            if (server.data / "postmaster.pid").exists():
                server.stop("immediate")
        if self._smtp is not None:
            self._smtp.stop()
        if not self.keep:
            shutil.rmtree(self.base, ignore_errors=True)


def main() -> None:
    ensure_packages()
    # Ctrl-C (also when started in the background, where SIGINT comes ignored) and SIGTERM
    # stop it all: both unwind to the cluster's stop.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("Starting the cluster (PostgreSQL primary and replica, PgBouncer, Redis, 2 app servers, HAProxy, 2 workers, "
          "the scheduler)…", flush=True)
    try:
        cluster = Cluster(env={"LOG_LEVEL": "WARNING"}, demo=True).start()
    except ClusterError as e:
        raise SystemExit(f"The cluster did not start: {e}")
    print(f"""
Tidbok is running at {cluster.url}/  (the load balancer; API docs: {cluster.url}/api/v1/docs)
  app servers   {', '.join(f'http://127.0.0.1:{p}/' for p in cluster.app_ports)}
  PgBouncer     {cluster.pooler_url}
  primary       {cluster.primary.url()}   (migrations go here)
  replica       {cluster.replica.url()}
  Redis         redis://127.0.0.1:{cluster.redis_port}/0   (the shared cache)
  SMTP          127.0.0.1:{cluster.smtp_port} (mails are printed below)
  logs          {cluster.logs}
Demo logins as for `make run` (README): terapeut@tidbok.se, klient@tidbok.se, admin@tidbok.se.
Another staff account: SECRET_KEY={cluster.secret_key} DATABASE_URL={cluster.primary.url()} \\
    {sys.executable} manage.py createsuperuser
Ctrl-C stops everything.""", flush=True)
    try:
        while True:
            for name, proc in cluster.processes.running.items():
                if proc.poll() is not None:
                    raise SystemExit(f"{name} stopped (exit code {proc.returncode}); see {cluster.processes.log(name)}. "
                                     "Stopping the cluster.")
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping the cluster…", flush=True)
        cluster.stop()


if __name__ == "__main__":
    main()
