"""Call platforms are plugins (sidecar/platforms/): the app runs with none, one or both.

MENTOR_SIDECAR_PLATFORMS chooses among the installed ones (entry points
`mentor_sidecar.platforms`); a platform not chosen has no routes, no API endpoints, no entry in
the OpenAPI document and no tables. A database from before issue 15, whose Zoom tables the core
made (its migration 10), keeps them and their rows: Zoom's migration 1 adopts them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar.app import create_app
from sidecar.db import open_database
from sidecar.keys import DATABASE
from sidecar.platforms.loader import installed_platforms
from sidecar.settings import Settings, SettingsError
from tests.conftest import ClientFactory
from tests.platform_settings import needs

Client = TestClient[web.Request, web.Application]
ZOOM_PATHS = ("/zoom/webhook", "/zoom/home", "/api/v1/me/zoom")
JITSI_PATHS = (
    "/jitsi/events/{kind}/{what}",
    "/meetings/{meeting_id}/call",
    "/api/v1/meetings/{meeting_id}/jitsi",
)


def routes(app: web.Application) -> set[str]:
    return {resource.canonical for resource in app.router.resources()}


async def tables(client: Client) -> set[str]:
    db = client.app[DATABASE]
    if db.dialect == "postgresql":
        rows = await db.fetch_all(
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema()"
        )
    else:
        rows = await db.fetch_all("SELECT name FROM sqlite_master WHERE type='table'")
    return {row["name"] for row in rows}


async def started(aiohttp_client: ClientFactory, tmp_path: Path, platforms: str) -> Client:
    return await aiohttp_client(create_app(Settings(data_dir=tmp_path, platforms=platforms)))


def test_zoom_and_jitsi_are_installed_platforms() -> None:
    assert set(installed_platforms()) >= {"zoom", "jitsi"}


async def test_with_no_platform_the_core_runs_alone(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await started(aiohttp_client, tmp_path, "")
    served = routes(client.app)
    assert not served & {*ZOOM_PATHS, *JITSI_PATHS}
    assert (await client.get("/healthz")).status == 200
    assert (await client.post("/zoom/webhook", json={})).status == 404
    document = await (await client.get("/api/v1/openapi.json")).json()
    assert not [path for path in document["paths"] if "zoom" in path or "jitsi" in path]
    present = await tables(client)
    assert not [t for t in present if t.startswith(("zoom_", "jitsi_"))]


@needs("jitsi")  # the suite's own platform choice trims the endpoints it registers
async def test_with_one_platform_only_its_routes_and_tables_exist(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await started(aiohttp_client, tmp_path, "jitsi")
    served = routes(client.app)
    assert set(JITSI_PATHS) <= served and not served & set(ZOOM_PATHS)
    present = await tables(client)
    assert "jitsi_rooms" in present and not [t for t in present if t.startswith("zoom_")]
    versions = await client.app[DATABASE].fetch_all(
        "SELECT platform, version FROM platform_schema_version"
    )
    assert versions == [{"platform": "jitsi", "version": 1}]


@needs("zoom", "jitsi")  # the suite's own platform choice trims the endpoints it registers
async def test_by_default_every_installed_platform_runs(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(Settings(data_dir=tmp_path)))
    assert {*ZOOM_PATHS, *JITSI_PATHS} <= routes(client.app)


def test_an_unknown_platform_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="MENTOR_SIDECAR_PLATFORMS: teams not installed"):
        create_app(Settings(data_dir=tmp_path, platforms="zoom,teams"))


async def test_zoom_tables_made_by_the_old_core_migration_are_adopted(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    # Databases from before issue 15 are SQLite files (PostgreSQL came with issue 16).
    sqlite = f"sqlite:///{tmp_path / 'sidecar.sqlite3'}"
    db = await open_database(sqlite)
    # What core migration 10 made before issue 15, with a row in it.
    await db.execute(
        "CREATE TABLE zoom_meeting_links (zoom_meeting_id TEXT NOT NULL, mentorship_id TEXT"
        " NOT NULL REFERENCES mentorships(id) ON DELETE CASCADE, linked_by TEXT NOT NULL"
        " REFERENCES people(id), created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
        " PRIMARY KEY (zoom_meeting_id, mentorship_id))"
    )
    await db.execute("PRAGMA foreign_keys=OFF")
    await db.execute(
        "INSERT INTO zoom_meeting_links VALUES ('85746065432', 'm', 'p', 'then', 'then')"
    )
    await db.close()
    settings = Settings(data_dir=tmp_path, platforms="zoom", database_url=sqlite)
    client = await aiohttp_client(create_app(settings))
    kept = await client.app[DATABASE].fetch_value("SELECT COUNT(*) FROM zoom_meeting_links")
    assert kept == 1
    assert {"zoom_accounts", "zoom_events"} <= await tables(client)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MENTOR_SIDECAR_PLATFORMS", "teams"),
        pytest.param("MENTOR_SIDECAR_ZOOM_WEBHOOK_MAX_AGE_SECONDS", "soon", marks=needs("zoom")),
    ],
)
def test_a_bad_platform_setting_stops_serve_naming_it(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sidecar.cli import main

    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        main(["serve"])
    assert stopped.value.code == 2
    assert name in capsys.readouterr().err


async def test_a_meeting_takes_link_or_an_enabled_platform(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    """Issue 15: the database stores any platform's name (migration 16); the API accepts
    `link` and the platforms this service runs, and names the field for any other."""
    from datetime import UTC, datetime, timedelta

    from tests.conftest import make_pair

    client = await started(aiohttp_client, tmp_path, "jitsi")
    pair = await make_pair(client.app, "p")
    start = datetime.now(UTC) + timedelta(days=2)
    times = {
        "scheduled_start": start.isoformat(),
        "scheduled_end": (start + timedelta(hours=1)).isoformat(),
    }
    url = f"/api/v1/mentorships/{pair.mentorship_id}/meetings"
    for platform, status in (("link", 201), ("jitsi", 201), ("zoom", 422), ("teams", 422)):
        response = await client.post(url, json={**times, "platform": platform}, headers=pair.auth())
        assert response.status == status, platform
        if status == 422:
            fields = [problem["loc"] for problem in (await response.json())["error"]["fields"]]
            assert fields == ["platform"]
    patched = await client.patch(
        f"/api/v1/meetings/{pair.meeting_id}", json={"platform": "zoom"}, headers=pair.auth()
    )
    assert patched.status == 422


async def test_a_platforms_front_end_is_served_and_named_by_the_pages_it_declares(
    aiohttp_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A third platform's FrontEnd (tests/fake_platform): its folder under
    /static/platforms/<name>/, its panel script preloaded and listed by the panel page only
    (tests/test_platform_scripts_browser.py runs it in Chromium)."""
    import re

    from tests import fake_platform
    from tests.conftest import make_pair

    with fake_platform.installed(monkeypatch):
        client = await started(aiohttp_client, tmp_path, fake_platform.NAME)
    script = await client.get("/static/platforms/fakecall/panel.js")
    assert script.status == 200 and script.content_type in {
        "text/javascript",
        "application/javascript",
    }
    assert await script.read() == (fake_platform.STATIC / "panel.js").read_bytes()
    assert (await client.get("/static/platforms/fakecall/nothing.js")).status == 404

    pair = await make_pair(client.app, "f")
    panel = await (await client.get(f"/meetings/{pair.meeting_id}", headers=pair.auth())).text()
    listed = re.search(r'data-platform-scripts="([^"]*)"', panel)
    assert listed and re.fullmatch(
        r"/static/platforms/fakecall/panel\.js\?v=[0-9a-f]{12}", listed[1]
    )
    assert f'<link rel="modulepreload" href="{listed[1]}">' in panel
    profile = await (await client.get("/me", headers=pair.auth())).text()
    assert 'data-platform-scripts=""' in profile and "modulepreload" not in profile


def test_a_platform_script_outside_its_folder_stops_the_start(tmp_path: Path) -> None:
    from sidecar.platforms.hookspecs import FrontEnd
    from sidecar.platforms.loader import ActivePlatform, PlatformError
    from sidecar.web.pages import platform_page_scripts
    from tests import fake_platform

    for path, problem in (("../secret.js", "not inside"), ("missing.js", "is not in")):
        front = FrontEnd(fake_platform.STATIC, {"panel": (path,)})
        monkeypatched = type("Odd", (fake_platform.FakeCallPlatform,), {"front_end": front})()
        active = ActivePlatform(monkeypatched, fake_platform.FakeCallSettings())
        with pytest.raises(PlatformError, match=problem):
            platform_page_scripts([active])


@needs("jitsi")
async def test_jitsis_pages_load_the_scripts_from_its_package(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    from tests.conftest import make_pair

    client = await started(aiohttp_client, tmp_path, "jitsi")
    pair = await make_pair(client.app, "j")
    call = await client.get(f"/meetings/{pair.meeting_id}/call", headers=pair.auth())
    assert call.status == 200
    assert 'data-platform-scripts="/static/platforms/jitsi/call.js?v=' in await call.text()
    served = await client.get("/static/platforms/jitsi/call.js")
    assert served.status == 200 and "JitsiMeetExternalAPI" in await served.text()
    # The panel page loads Jitsi's other script, its "Open the video call" link.
    panel = await (await client.get(f"/meetings/{pair.meeting_id}", headers=pair.auth())).text()
    assert 'data-platform-scripts="/static/platforms/jitsi/panel.js?v=' in panel
    assert "call.js" not in panel
