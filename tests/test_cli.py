"""`mentor-sidecar demo --json` as a script would use it: a real process, port and SQLite file."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_demo(
    data_dir: Path, port: int, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """`demo --json` in a real process; `env` adds MENTOR_SIDECAR_* settings."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sidecar",
            "demo",
            "--json",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # the service prints one JSON line once it is listening
    if not line:
        process.kill()
        raise AssertionError(
            f"demo printed nothing: {process.stderr.read() if process.stderr else ''}"
        )
    return process, json.loads(line)


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, stderr
    return stderr


async def test_demo_prints_working_panel_links_and_stops_cleanly(
    tmp_path: Path, database_env: str | None
) -> None:
    """The demo on the suite's backend: SQLite in the data folder, or the PostgreSQL run's
    database (MENTOR_SIDECAR_DATABASE_URL, which the child inherits). How fast it starts is a
    benchmark's business, not this test's."""
    port = free_port()
    process, seed = start_demo(tmp_path, port)
    try:
        assert set(seed) == {"mentorship_id", "meeting_id", "mentor", "mentee"}
        mentor, mentee = seed["mentor"], seed["mentee"]
        assert mentor["timezone"] != mentee["timezone"]
        async with aiohttp.ClientSession() as session:
            async with session.get(mentor["panel_url"]) as panel:
                assert panel.status == 200
                assert panel.url.path == f"/meetings/{seed['meeting_id']}"
                assert 'data-page="panel"' in await panel.text()
            headers = {"Authorization": f"Bearer {mentee['token']}"}
            async with session.get(
                f"http://127.0.0.1:{port}/api/v1/meetings/{seed['meeting_id']}/agenda",
                headers=headers,
            ) as agenda:
                assert len((await agenda.json())["items"]) >= 5
            async with session.get(f"http://127.0.0.1:{port}/readyz") as ready:
                assert ready.status == 200
    finally:
        stderr = stop(process)
    assert "database closed" in stderr
    # Where the data went: the SQLite file only when no database URL was given.
    assert (tmp_path / "sidecar.sqlite3").exists() is (database_env is None)
    expected_loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert f"event loop: {expected_loop}" in stderr, "uvloop is the default where installed"

    again, second = start_demo(tmp_path, port)
    stop(again)
    assert second["mentorship_id"] == seed["mentorship_id"], (
        "the demo is seeded once per data folder"
    )
    assert second["mentor"]["token"] != seed["mentor"]["token"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MENTOR_SIDECAR_PORT", "eighty"),
        ("MENTOR_SIDECAR_EVENT_LOOP", "fastest"),
        ("MENTOR_SIDECAR_NOTES_COMMIT_WINDOW_MS", "-1"),
    ],
)
def test_bad_setting_in_the_environment_is_a_clear_error(
    tmp_path: Path, name: str, value: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sidecar", "serve", "--data-dir", str(tmp_path)],
        env={name: value, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert name in result.stderr


@pytest.mark.usefixtures("database_env")  # on PostgreSQL in its run
def test_the_access_log_holds_no_token_nor_code(tmp_path: Path) -> None:
    """y-websocket sends the token in the query string; codes travel in paths."""
    process, seed = start_demo(tmp_path, free_port())
    port = int(seed["mentor"]["panel_url"].split(":")[2].split("/")[0])
    token = seed["mentor"]["token"]
    signin = seed["mentor"]["panel_url"].split(f":{port}", 1)[1]
    urls = [
        f"http://127.0.0.1:{port}/api/v1/me?token={token}",
        f"http://127.0.0.1:{port}{signin}",
        f"http://127.0.0.1:{port}/calendar/not-a-real-feed-code.ics",
    ]

    async def visit() -> None:
        async with aiohttp.ClientSession() as session:
            for url in urls:
                async with session.get(url, allow_redirects=False) as response:
                    await response.read()

    asyncio.run(visit())
    log = stop(process)
    assert "GET /api/v1/me" in log
    assert "/calendar/{code}.ics" in log and "/signin/{code}" in log
    assert token not in log
    assert signin.rsplit("/", 1)[-1].split("?")[0] not in log
    assert "not-a-real-feed-code" not in log
