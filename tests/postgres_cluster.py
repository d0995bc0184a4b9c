"""A throwaway PostgreSQL cluster for the test session, and a fresh database per test.

`initdb` in a temporary folder, `postgres` on a free port of 127.0.0.1 with its socket in that
folder, durability off (fsync, synchronous_commit, full_page_writes: nothing here outlives the
session), stopped and removed at the end. As root the programs run as the `postgres` user
(initdb refuses root). Without PostgreSQL's programs the tests that need it skip, saying why.

A fresh database is a copy of a template migrated once (`CREATE DATABASE tN TEMPLATE ...`),
which is much faster than migrating each one. Administration (create, drop) goes through one
connection on a private event loop in a thread of its own, so it serves sync and async callers
and any test's event loop.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

TEMPLATE = "sidecar_template"
SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    " -c listen_addresses=127.0.0.1"
)
# For a benchmark (bench/notes_bench.py, bench/crash_harness.py): PostgreSQL's own durability
# defaults, so each commit costs what it costs in production.
DURABLE_SERVER_OPTIONS = "-c max_connections=300 -c listen_addresses=127.0.0.1"


def postgres_bin() -> Path | None:
    """The folder of initdb, pg_ctl and postgres: Debian's newest, else the one on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def why_not() -> str | None:
    """Why no cluster can start here, or None."""
    if postgres_bin() is None:
        return "no PostgreSQL programs (initdb); scripts/test installs Debian's postgresql as root"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run PostgreSQL as"
    return None


def _copy_of_template(name: str) -> str:
    # FILE_COPY copies the files (a checkpoint, cheap with fsync off): about 4x faster here than
    # the default WAL_LOG, which writes every block of the copy to the WAL.
    return f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Loop:
    """An event loop in a thread of its own, for administration from anywhere."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()


class PostgresCluster:
    def __init__(self, *, durable: bool = False) -> None:
        """`durable`: keep fsync and synchronous commits on (for measurements, not tests)."""
        self.options = DURABLE_SERVER_OPTIONS if durable else SERVER_OPTIONS
        bin_dir = postgres_bin()
        assert bin_dir is not None, why_not()
        self.bin = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="sidecar-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        self._names = itertools.count(1)
        self._admin: Any = None
        self._admin_turn: asyncio.Lock | None = None
        self._loop: _Loop | None = None
        # Copies of the template made ahead, while the tests before the one taking it ran.
        self._spares: collections.deque[tuple[str, Future[None]]] = collections.deque()

    # --- the server ----------------------------------------------------------------------------

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            log = self.folder / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed: {done.stderr or done.stdout}\n{tail}")

    def start(self) -> None:
        if self._as_root:
            shutil.chown(self.folder, user="postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.folder} {self.options}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w",
                  "-o", options, "start")  # fmt: skip
        self._loop = _Loop()
        self._wait(self._connect_admin())

    def stop(self) -> None:
        try:
            for _, making in self._spares:
                with contextlib.suppress(Exception):
                    making.result(timeout=120)
            if self._loop is not None:
                if self._admin is not None:
                    self._wait(self._admin.close())
                self._loop.stop()
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    # --- administration ------------------------------------------------------------------------

    def _wait(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return self._loop.submit(coro).result(timeout=120)

    async def _later(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return await asyncio.wrap_future(self._loop.submit(coro))

    async def _connect_admin(self) -> None:
        import asyncpg

        self._admin = await asyncpg.connect(self.url("postgres"))

    async def _sql(self, sql: str) -> None:
        if self._admin_turn is None:
            self._admin_turn = asyncio.Lock()
        async with self._admin_turn:  # one connection: one statement at a time
            await self._admin.execute(sql)

    def execute(self, sql: str) -> None:
        """Run administration SQL (CREATE/DROP DATABASE) on the `postgres` database."""
        self._wait(self._sql(sql))

    def build_template(self) -> None:
        """The database every test's copies: the core's migrations applied once."""
        from sidecar.db import open_database

        async def migrate() -> None:
            db = await open_database(self.url(TEMPLATE))
            await db.close()

        self.execute(f"CREATE DATABASE {TEMPLATE}")
        self._wait(migrate())

    def new_name(self) -> str:
        return f"t{next(self._names)}"

    def _make_spare(self) -> None:
        assert self._loop is not None
        name = self.new_name()
        self._spares.append((name, self._loop.submit(self._sql(_copy_of_template(name)))))

    def take_copy(self) -> tuple[str, Future[None]]:
        """A copy of the template (its name, and its CREATE, most often done already), and the
        next one begun, ready for whoever asks next. Drop it (`drop`) when done."""
        if not self._spares:
            self._make_spare()
        taken = self._spares.popleft()
        self._make_spare()
        return taken

    def copy_now(self) -> str:
        """A copy of the template, made; returns its name."""
        name, making = self.take_copy()
        making.result(timeout=120)
        return name

    def create(self, name: str) -> str:
        """A fresh, migrated database; returns its URL."""
        self.execute(_copy_of_template(name))
        return self.url(name)

    async def create_async(self, name: str) -> str:
        await self._later(self._sql(_copy_of_template(name)))
        return self.url(name)

    def drop(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class FreshDatabases:
    """Under MENTOR_SIDECAR_TEST_DATABASE=postgresql: every `Settings` a test builds without a
    database_url gets one of a database of its own (one per data folder, so an app restarted on
    the same folder finds its data again): a copy of the template, most often made while the
    tests before ran; opening it waits for its CREATE if that is still under way. The copies are
    dropped when the test ends."""

    def __init__(self, cluster: PostgresCluster) -> None:
        self.cluster = cluster
        self._by_folder: dict[str, str] = {}
        self._making: dict[str, Future[None]] = {}
        self._fixed: str | None = None

    def url_for(self, data_dir: Path) -> str:
        if self._fixed is not None:
            return self._fixed
        key = str(data_dir.resolve())
        if key not in self._by_folder:
            name, making = self.cluster.take_copy()
            self._making[name] = making
            self._by_folder[key] = self.cluster.url(name)
        return self._by_folder[key]

    def created_now(self) -> str:
        """One database made at once, used by every Settings of the test and given to child
        processes in MENTOR_SIDECAR_DATABASE_URL (nothing here waits for its CREATE there)."""
        if self._fixed is None:
            name, making = self.cluster.take_copy()
            self._making[name] = making
            making.result(timeout=120)
            self._fixed = self.cluster.url(name)
        return self._fixed

    async def _ensure(self, url: str) -> None:
        making = self._making.get(url.rsplit("/", 1)[-1])
        if making is not None:
            await asyncio.wrap_future(making)

    def install(self, monkeypatch: Any) -> None:
        from sidecar.db import postgres
        from sidecar.settings import Settings

        fresh = self
        settings_init = Settings.__init__
        open_postgres = postgres.open_postgres

        def init(self: Settings, *args: Any, **values: Any) -> None:
            if "database_url" not in values:
                data_dir = Path(values.get("data_dir", Settings.model_fields["data_dir"].default))
                values["database_url"] = fresh.url_for(data_dir)
            settings_init(self, *args, **values)

        async def open_created(url: str, *args: Any, **kwargs: Any) -> Any:
            await fresh._ensure(url)
            return await open_postgres(url, *args, **kwargs)

        monkeypatch.setattr(Settings, "__init__", init)
        monkeypatch.setattr(postgres, "open_postgres", open_created)

    def drop_all(self) -> None:
        for name, making in self._making.items():
            with contextlib.suppress(Exception):
                making.result(timeout=120)  # a DROP before its CREATE ends would leave it
            self.cluster.drop(name)
