"""A platform brings its own panel script (sidecar/platforms/hookspecs.py, FrontEnd), in Chromium.

A third platform that exists only in the tests (tests/fake_platform: a package with
static/panel.js, registered like an entry point) is installed beside Zoom and Jitsi: the core
serves its folder under /static/platforms/fakecall/, the meeting panel page loads its script
(and only that page: it is declared for `panel`), and the script's `panel` hook runs once the
panel drew itself: a link in the header and a marker on <body>, under the service's strict
Content-Security-Policy. Screenshots at 400x800 and 1280x800 in /tmp/shots/front/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.demo import seed_demo
from sidecar.settings import Settings
from tests import fake_platform
from tests.browser_support import ConsoleWatch, new_context, requires_chromium, wait_until_ready
from tests.conftest import ClientFactory
from tests.platform_settings import TESTED
from tests.smtp_server import SmtpServer
from tests.test_jitsi_browser import signin_path

pytestmark = requires_chromium

SHOTS = Path("/tmp/shots/front")
SHOTS.mkdir(parents=True, exist_ok=True)
SCRIPT = "/static/platforms/fakecall/panel.js"


@pytest.fixture
async def fake_server(
    aiohttp_server: ClientFactory,
    tmp_path: Path,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[TestServer]:
    """The service with the fake platform installed and chosen, beside the suite's own."""
    chosen = "all" if TESTED == "all" else ",".join(filter(None, [TESTED, fake_platform.NAME]))
    with fake_platform.installed(monkeypatch):
        settings = Settings(data_dir=tmp_path / "data", platforms=chosen, **smtp.settings())
        server: TestServer = await aiohttp_server(create_app(settings))
        yield server


async def test_a_third_platforms_panel_script_is_served_and_runs_in_the_panel(
    browser: Any, fake_server: TestServer, console: ConsoleWatch
) -> None:
    demo = await seed_demo(fake_server.app)
    for width in (400, 1280):
        context = await new_context(browser, width=width, height=800)
        page = console.watch(await context.new_page())
        fetched: list[tuple[str, int, str]] = []

        def record(response: Any, into: list[tuple[str, int, str]] = fetched) -> None:
            into.append((response.url, response.status, response.headers.get("content-type", "")))

        page.on("response", record)
        # The sign-in link leads to the panel.
        panel = f"/meetings/{demo.meeting_id}"
        await page.goto(
            str(fake_server.make_url(await signin_path(fake_server, demo.mentor.id, panel)))
        )
        await wait_until_ready(page)
        assert page.url.endswith(panel)

        # Served by the core from the platform's package, as JavaScript, versioned.
        script = [f for f in fetched if f[0].split("?")[0].endswith(SCRIPT)]
        assert len(script) == 1, fetched
        url, status, content_type = script[0]
        assert status == 200 and "javascript" in content_type and "?v=" in url
        # The script ran after the panel drew itself: its marker and its link in the header.
        marker = await page.get_attribute("body", "data-fakecall-panel")
        assert marker == demo.meeting_id
        link = page.locator(".panel-top .status-row a.fakecall-link")
        assert await link.inner_text() == "Join on FakeCall"
        assert await link.is_visible()
        await page.locator(".panel-top").screenshot(
            path=str(SHOTS / f"fake-platform-panel-{width}.png")
        )

        # Declared for the panel only: the profile page does not load it.
        fetched.clear()
        await page.goto(str(fake_server.make_url("/me")))
        await wait_until_ready(page)
        # (Other platforms' scripts may be there: Zoom adds its card to the profile.)
        assert SCRIPT not in (await page.get_attribute("body", "data-platform-scripts") or "")
        assert not [f for f in fetched if SCRIPT in f[0]], fetched
        await context.close()
    # No CSP violation, no error: the core's strict policy allows its own origin's scripts.
    assert console.unexpected() == []
