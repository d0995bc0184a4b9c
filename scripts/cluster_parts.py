"""Several Mentor Sidecar instances behind one address, on one machine, from Debian's packages.

The pieces `scripts/cluster` runs, and tests/test_cluster.py and bench/cluster_bench.py start one
by one: a throwaway PostgreSQL cluster (tests/postgres_cluster.py), a Redis server without
persistence, service instances (`python -m sidecar serve`, or `demo` to seed the demo pair),
each with its own port and data folder and the same database and Redis, and HAProxy with the
shipped deploy/haproxy.cfg (its addresses given in the environment). Everything lives in one
folder (PostgreSQL in a folder of its own beside it) and is stopped by `Cluster.stop`.

It imports nothing of the service: the instances are processes, talked to over HTTP.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
HAPROXY_CONFIG = REPO / "deploy" / "haproxy.cfg"
# The shipped config names two instances, `a` and `b` (a `server` line each).
INSTANCE_NAMES = ("a", "b")
DEADLINE = 60.0  # seconds: a failure report on a loaded machine, not a measure of speed

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.postgres_cluster import PostgresCluster  # noqa: E402
from tests.postgres_cluster import why_not as postgres_missing  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_server_bin() -> str | None:
    return shutil.which("redis-server")


def haproxy_bin() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy",) if os.access(p, os.X_OK)), None
    )


def why_not() -> str | None:
    """Why a cluster cannot run here (a program missing), or None."""
    missing = postgres_missing()
    if missing:
        return missing
    if redis_server_bin() is None:
        return "no redis-server (Debian's redis-server package); scripts/test installs it as root"
    if haproxy_bin() is None:
        return "no haproxy (Debian's haproxy package); scripts/test installs it as root"
    return None


def until(
    predicate: Callable[[], bool], *, within: float = DEADLINE, what: str = "the condition"
) -> None:
    """Poll `predicate` until it holds; raise after `within` seconds (a start-up wait)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {within:.0f} s waiting for {what}")
        time.sleep(0.05)


def http_status(url: str, *, timeout: float = 2.0) -> int | None:
    """The status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


def _stop_process(process: subprocess.Popen[Any], grace: float = 15.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- PostgreSQL ---------------------------------------------------------------------------------


class Postgres:
    """The throwaway cluster of tests/postgres_cluster.py with one database, `sidecar`."""

    DATABASE = "sidecar"

    def __init__(self, *, durable: bool) -> None:
        self.cluster = PostgresCluster(durable=durable)

    @property
    def url(self) -> str:
        return self.cluster.url(self.DATABASE)

    @property
    def pid(self) -> int | None:
        """The postmaster's pid (its CPU, with its backends', is the database's)."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.cluster.data / "postmaster.pid").read_text().split()[0])
        return None

    def start(self) -> None:
        self.cluster.start()
        self.cluster.execute(f"CREATE DATABASE {self.DATABASE}")

    def pause(self) -> None:
        """Stop the server, keeping its data (an outage); `resume` starts it on the same port."""
        self.cluster._run("pg_ctl", "-D", str(self.cluster.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        options = f"-p {self.cluster.port} -k {self.cluster.folder} {self.cluster.options}"
        log = str(self.cluster.folder / "log")
        self.cluster._run("pg_ctl", "-D", str(self.cluster.data), "-l", log, "-w", "-o", options,
                          "start")  # fmt: skip

    def stop(self) -> None:
        # After a pause the cluster's admin connection is gone: closing it may fail, the stop
        # and the removal of the folder must not.
        with contextlib.suppress(Exception):
            self.cluster.stop()
        if self.cluster.folder.exists():
            with contextlib.suppress(Exception):
                self.cluster._run("pg_ctl", "-D", str(self.cluster.data), "-m", "immediate", "stop")
            shutil.rmtree(self.cluster.folder, ignore_errors=True)


# --- Redis --------------------------------------------------------------------------------------


class Redis:
    """Debian's redis-server on a port of 127.0.0.1, no persistence, its folder its own."""

    def __init__(self, folder: Path, port: int = 0) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        program = redis_server_bin()
        assert program is not None, why_not()
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [program, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.folder), "--daemonize", "no",
                   "--logfile", str(self.folder / "redis.log")]  # fmt: skip
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
        until(self._answers, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            _stop_process(self.process)
            self.process = None

    def restart(self) -> None:
        """Stop it (everything it held is gone) and start it again on the same port."""
        self.stop()
        self.start()


# --- the service --------------------------------------------------------------------------------


@dataclass
class Instance:
    """One `python -m sidecar serve` (or `demo`), its port and data folder its own."""

    name: str
    folder: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    demo_seed: dict[str, Any] | None = None
    # The module run with `python -m` (bench/cluster_bench.py runs a variant of the service).
    module: str = "sidecar"
    _log: IO[str] | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.folder / "service.log"

    def start(self, *, demo: bool = False) -> None:
        """Start it and wait until /readyz says 200; `demo`: run `demo --json`, seeding the
        demo pair (once per database) and keeping its JSON line in `demo_seed`."""
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        data = str(self.folder / "data")
        command = [sys.executable, "-m", self.module, "demo" if demo else "serve", "--host",
                   "127.0.0.1", "--port", str(self.port), "--data-dir", data]  # fmt: skip
        if demo:
            command.append("--json")
        self._log = self.log_path.open("a")
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if demo else self._log,
            stderr=self._log,
            text=True,
            start_new_session=True,  # Ctrl+C reaches scripts/cluster, which stops it in turn
        )
        if demo:
            assert self.process.stdout is not None
            line = self.process.stdout.readline()  # printed once it listens and has seeded
            if not line:
                raise RuntimeError(f"instance {self.name} printed nothing: {self.log_tail()}")
            self.demo_seed = dict(json.loads(line))
        self.wait_ready()

    def ready(self) -> bool:
        return http_status(self.origin + "/readyz") == 200

    def wait_ready(self) -> None:
        def up() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"instance {self.name} exited: {self.log_tail()}")
            return self.ready()

        until(up, what=f"instance {self.name} to be ready")

    def kill(self) -> None:
        """kill -9: no shutdown at all, as a crash of its machine would leave things."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM, as a deploy does: it closes its port, then its websockets with 1001."""
        if self.process is not None:
            _stop_process(self.process)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


# --- HAProxy ------------------------------------------------------------------------------------


@dataclass
class ServerState:
    status: str  # UP, DOWN, MAINT, NOLB ("UP 1/2" while rising and such are kept whole)
    sessions: int  # current sessions (websockets included), health checks not counted


class HAProxy:
    """haproxy -db (foreground) with deploy/haproxy.cfg; the addresses in its environment."""

    def __init__(self, folder: Path, instances: dict[str, int], port: int = 0) -> None:
        self.folder = folder
        self.instances = instances
        self.port = port or free_port()
        self.stats_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stats_url(self) -> str:
        return f"http://127.0.0.1:{self.stats_port}/stats"

    def environment(self) -> dict[str, str]:
        env = {
            "SIDECAR_PROXY_BIND": f"127.0.0.1:{self.port}",
            "SIDECAR_PROXY_STATS_BIND": f"127.0.0.1:{self.stats_port}",
        }
        for name, port in self.instances.items():
            env[f"SIDECAR_INSTANCE_{name.upper()}"] = f"127.0.0.1:{port}"
        return env

    def start(self) -> None:
        program = haproxy_bin()
        assert program is not None, why_not()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._log = (self.folder / "haproxy.log").open("ab")
        self.process = subprocess.Popen(
            [program, "-db", "-f", str(HAPROXY_CONFIG)],
            env={**os.environ, **self.environment()},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
        )
        self.wait_for(lambda states: all(s.status == "UP" for s in states.values()), "UP")

    def servers(self) -> dict[str, ServerState]:
        """Each instance's state as HAProxy sees it (its stats page, as CSV)."""
        with urllib.request.urlopen(self.stats_url + ";csv", timeout=2) as response:
            text = response.read().decode()
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return {
            row["svname"]: ServerState(row["status"], int(row["scur"] or 0))
            for row in rows
            if row["pxname"] == "instances" and row["svname"] in self.instances
        }

    def wait_for(
        self, check: Callable[[dict[str, ServerState]], bool], what: str, within: float = DEADLINE
    ) -> dict[str, ServerState]:
        seen: dict[str, ServerState] = {}

        def holds() -> bool:
            nonlocal seen
            if self.process is not None and self.process.poll() is not None:
                log = (self.folder / "haproxy.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"haproxy exited: {log}")
            try:
                seen = self.servers()
            except OSError:
                return False
            return len(seen) == len(self.instances) and check(seen)

        until(holds, within=within, what=f"HAProxy to see the instances {what} (saw {seen})")
        return seen

    def stop(self) -> None:
        if self.process is not None:
            _stop_process(self.process)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


# --- the whole ----------------------------------------------------------------------------------


class Cluster:
    """PostgreSQL, Redis, two instances and HAProxy in `folder`; `stop` ends them all."""

    def __init__(
        self,
        folder: Path,
        *,
        proxy_port: int = 0,
        durable: bool = True,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.folder = folder
        self.postgres = Postgres(durable=durable)
        self.redis = Redis(folder / "redis")
        instance_ports = {name: free_port() for name in INSTANCE_NAMES}
        self.proxy = HAProxy(folder / "haproxy", instance_ports, port=proxy_port)
        self.extra_env = dict(extra_env or {})
        self.instances = {
            name: Instance(name, folder / f"instance-{name}", {}, port=port)
            for name, port in instance_ports.items()
        }

    def instance_env(self) -> dict[str, str]:
        """What every instance shares: the database, Redis, the public address (the proxy's,
        so links in emails and the demo's point there) and one mail folder."""
        return {
            "MENTOR_SIDECAR_DATABASE_URL": self.postgres.url,
            "MENTOR_SIDECAR_REDIS_URL": self.redis.url,
            "MENTOR_SIDECAR_PUBLIC_URL": self.proxy.origin,
            "MENTOR_SIDECAR_TRUST_FORWARDED_HEADERS": "true",
            "MENTOR_SIDECAR_MAIL_FOLDER": str(self.folder / "mail"),
            **self.extra_env,
        }

    def start(self, *, demo: bool = False, say: Callable[[str], None] | None = None) -> None:
        """Start everything; `demo`: the first instance seeds the demo pair (`demo_seed`)."""
        tell = say or (lambda _: None)
        self.folder.mkdir(parents=True, exist_ok=True)
        tell(f"PostgreSQL (throwaway cluster in {self.postgres.cluster.folder}) ...")
        self.postgres.start()
        tell(f"Redis on port {self.redis.port} ...")
        self.redis.start()
        env = self.instance_env()
        for i, instance in enumerate(self.instances.values()):
            tell(f"instance {instance.name} on port {instance.port} ...")
            instance.env.update(env)
            instance.start(demo=demo and i == 0)  # one at a time: migrations run once
        tell(f"HAProxy on port {self.proxy.port} ...")
        self.proxy.start()

    @property
    def demo_seed(self) -> dict[str, Any] | None:
        return next(iter(self.instances.values())).demo_seed

    def stop(self) -> None:
        parts: list[HAProxy | Instance | Redis | Postgres] = [self.proxy]
        parts += [*self.instances.values(), self.redis, self.postgres]
        for part in parts:
            with contextlib.suppress(Exception):
                part.stop()
