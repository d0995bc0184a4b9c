"""A real Redis for tests: Debian's redis-server on a free loopback port, one per test session.

Fixtures:
- `redis_server`: the session's server (a `RedisServer`); a test may `stop()` (or `kill()`) it
  and `start()` it again on the same port, for the outage tests. The next test finds it running.
- `redis_url`: a URL for this test, the server emptied first (FLUSHALL).
- `redis_env`: for tests that start the service as a child process: MENTOR_SIDECAR_REDIS_URL set
  in this process's environment (children inherit it), the URL returned.

Without redis-server (PATH or /usr/bin/redis-server) they skip, saying why.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_cli import free_port

REDIS_URL_VARIABLE = "MENTOR_SIDECAR_REDIS_URL"
# Generous: a loaded 2-core machine. It bounds a wait for an event, it is not a timed assertion.
START_DEADLINE_SECONDS = 30.0


def redis_server_program() -> str | None:
    """Where redis-server is: on PATH, or Debian's /usr/bin/redis-server."""
    found = shutil.which("redis-server")
    if found:
        return found
    return "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None


def why_not() -> str:
    """Why a real Redis cannot run here ("" when it can)."""
    if redis_server_program() is None:
        return (
            "redis-server not found (PATH or /usr/bin/redis-server): "
            "`apt-get install redis-server` (scripts/test does it as root)"
        )
    return ""


def child_env(url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for a child process of the service, on the Redis at `url`."""
    env = dict(os.environ if base is None else base)
    env[REDIS_URL_VARIABLE] = url
    return env


def _command(host: str, port: int, command: bytes, timeout: float = 2.0) -> bytes:
    """One inline command over a raw socket (no client library, no event loop): its reply line."""
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(command + b"\r\n")
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
        return reply


class RedisServer:
    """One redis-server process without persistence, restartable on the same port."""

    host = "127.0.0.1"

    def __init__(self, program: str) -> None:
        self.program = program
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="mentor-sidecar-redis-"))
        self.log_path = self.dir / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start it (again) on its port and wait until it answers PING."""
        if self.running:
            return
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    self.program,
                    "--port",
                    str(self.port),
                    "--bind",
                    self.host,
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.dir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with {self._process.returncode}: "
                    + self.log_path.read_text(errors="replace")[-2000:]
                )
            try:
                if _command(self.host, self.port, b"PING").startswith(b"+PONG"):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer on port {self.port}")
            time.sleep(0.02)  # polling for the server to listen, not synchronising a test

    def _end(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=START_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        """Stop it (SIGTERM, no save): clients see their connections closed, new ones refused."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """End it abruptly (SIGKILL), as a crashed Redis."""
        self._end(signal.SIGKILL)

    def flush(self) -> None:
        reply = _command(self.host, self.port, b"FLUSHALL")
        if not reply.startswith(b"+OK"):
            raise RuntimeError(f"FLUSHALL answered {reply!r}")

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """The session's real Redis (skips, saying why, without redis-server)."""
    reason = why_not()
    if reason:
        pytest.skip(reason)
    program = redis_server_program()
    assert program is not None
    server = RedisServer(program)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, running (a previous test may have stopped it) and emptied."""
    redis_server.start()
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def redis_env(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """MENTOR_SIDECAR_REDIS_URL set for child processes of this test; the URL."""
    monkeypatch.setenv(REDIS_URL_VARIABLE, redis_url)
    return redis_url
