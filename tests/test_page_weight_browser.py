"""What script each page really downloads (issue 15), measured in Chromium against the service.

The panel's code is split (web/build.mjs: esbuild splitting, main.js imports the page's own
chunk): a light page must not download the notes editor, the Jitsi call or the Zoom SDK. Each
test loads a page, records every script the browser fetched from /static/, and adds up the
shipped gzip twins of those files (what aiohttp sends to a browser that accepts gzip); a
platform's own script (/static/platforms/<name>/..., sidecar/platforms/hookspecs.py FrontEnd)
counts with its gzip twin when it ships one, else whole.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from sidecar.demo import DemoSeed, seed_demo
from sidecar.platforms.loader import installed_platforms
from tests.browser_support import ConsoleWatch, new_context, requires_chromium, wait_until_ready
from tests.conftest import ClientFactory, add_meeting, make_pair
from tests.platform_settings import needs
from tests.test_jitsi_browser import jitsi_stand_in, jserver, signin_path  # noqa: F401
from tests.test_zoom_browser import (  # noqa: F401 (fixtures)
    fake_zoom,
    panel_frame,
    zoom_server,
)
from tests.test_zoom_support import context_claims, seal_context
from zoom_app.state import ZOOM

pytestmark = requires_chromium

STATIC = Path(__file__).resolve().parents[1] / "sidecar" / "static"
KB = 1024
LIGHT_PAGE_LIMIT = 40 * KB  # /, invite, profile, agreement, signed-out, Zoom pages outside Zoom
PANEL_LIMIT = 150 * KB  # the meeting panel, with the live notes editor
ZOOM_SDK = "sdk.es-"  # esbuild names the chunk after @zoom/appssdk's dist/sdk.es.js
JITSI_CALL = "platforms/jitsi/call.js"  # jitsi_app/static/call.js, Jitsi's own script


class Scripts:
    """The /static/*.js files a browser context fetched, in order, each once."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def record(self, response: Any) -> None:
        path = response.url.split("?", 1)[0].split("/static/", 1)
        if len(path) == 2 and path[1].endswith(".js") and path[1] not in self.paths:
            assert response.status == 200, response.url
            self.paths.append(path[1])

    def gzip_bytes(self) -> int:
        return sum(served_bytes(path) for path in self.paths)

    def names(self) -> list[str]:
        return [path.rsplit("/", 1)[-1] for path in self.paths]

    def fetched(self, prefix: str) -> bool:
        """A file named so, or under that folder of /static/, was fetched."""
        return any(
            p.startswith(prefix) or p.rsplit("/", 1)[-1].startswith(prefix) for p in self.paths
        )

    def report(self) -> str:
        return f"{self.gzip_bytes() / KB:.1f} KB gzip in {len(self.paths)} files: {self.names()}"


def served_bytes(path: str) -> int:
    """What aiohttp sends for /static/<path> to a browser that accepts gzip."""
    if path.startswith("platforms/"):
        _, name, rest = path.split("/", 2)
        front = installed_platforms()[name].front_end
        assert front is not None, name
        file = front.static_dir / rest
    else:
        file = STATIC / path
    twin = file.with_name(f"{file.name}.gz")
    return (twin if twin.exists() else file).stat().st_size


async def load(
    browser: Any, server: TestServer, path: str, console: ConsoleWatch, **kw: Any
) -> Scripts:
    """Open `path` (signed in first through `signin`, a sign-in link, when given) with the
    browser's cache off, and return what it fetched."""
    context = await new_context(browser, width=1000)
    page = console.watch(await context.new_page())
    if kw.get("signin"):
        await page.goto(str(server.make_url(kw["signin"])))
        await wait_until_ready(page)
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    scripts = Scripts()
    context.on("response", scripts.record)
    await page.goto(str(server.make_url(path)))
    await wait_until_ready(page)
    await context.close()
    return scripts


async def test_light_pages_download_only_their_own_script(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    async def member(path: str) -> Scripts:  # a sign-in link is good once: one per page
        signin = await signin_path(server, demo.mentor.id, "/")
        return await load(browser, server, path, console, signin=signin)

    light = {
        "/": await member("/"),
        "/me": await member("/me"),
        "agreement": await member(f"/mentorships/{demo.mentorship_id}/agreement"),
        "/ signed out": await load(browser, server, "/", console),
        "invite": await load(browser, server, "/invite/no-such-code", console),
        "/signed-out": await load(browser, server, "/signed-out", console),
    }
    panel = await member(f"/meetings/{demo.meeting_id}")
    sizes = {name: scripts.report() for name, scripts in {**light, "panel": panel}.items()}
    print("\n".join(f"{name}: {size}" for name, size in sizes.items()))
    for name, scripts in light.items():
        assert scripts.gzip_bytes() <= LIGHT_PAGE_LIMIT, f"{name}: {scripts.report()}"
        assert not scripts.fetched(ZOOM_SDK), f"{name} fetched the Zoom SDK"
        assert not scripts.fetched(JITSI_CALL), f"{name} fetched the Jitsi call page's code"
        assert scripts.gzip_bytes() < panel.gzip_bytes() / 3, f"{name} carries the editor"
    assert not panel.fetched(ZOOM_SDK) and not panel.fetched(JITSI_CALL), panel.report()
    # Chromium logs the signed-out /api/v1/me 401 and the unknown invite's 404 as errors.
    assert not console.unexpected((401, "/api/v1/me"), (404, "/api/v1/invites/no-such-code"))


async def test_the_meeting_panel_downloads_at_most_150_kb_gzip(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    signin = demo.mentor.signin_path
    panel = await load(browser, server, f"/meetings/{demo.meeting_id}", console, signin=signin)
    print(f"\npanel: {panel.report()}")
    assert panel.gzip_bytes() <= PANEL_LIMIT, f"panel: {panel.report()}"


@needs("zoom")
async def test_the_zoom_sdk_loads_only_inside_zoom(
    browser: Any,
    aiohttp_server: ClientFactory,
    zoom_server: TestServer,  # noqa: F811
    console: ConsoleWatch,
) -> None:
    demo = await seed_demo(zoom_server.app)
    outside = await load(browser, zoom_server, "/zoom/home", console)  # the link page
    assert not outside.fetched(ZOOM_SDK), outside.report()
    assert outside.gzip_bytes() <= LIGHT_PAGE_LIMIT, outside.report()

    await zoom_server.app[ZOOM].store.link_account(
        demo.mentee.id,
        zoom_user_id="zoom-arjun",
        zoom_email="",
        tokens=None,
        token_expires_at=None,
        scope="",
    )
    # As open_in_zoom does, with the scripts recorded from the first request on.
    context = await new_context(browser, width=1000, height=900)
    scripts = Scripts()
    context.on("response", scripts.record)
    page = console.watch(await context.new_page())
    home = str(zoom_server.make_url("/zoom/home"))

    async def with_context_header(route: Any) -> None:
        header = seal_context(context_claims("zoom-arjun", mid="occurrence-1=="))
        await route.continue_(headers={**route.request.headers, "x-zoom-app-context": header})

    await page.route(home, with_context_header)
    await page.goto(str(zoom_server.make_url("/_test/zoom-client")))
    frame = panel_frame(page)
    choice = frame.locator(f'li.zoom-choice[data-mentorship-id="{demo.mentorship_id}"]')
    await choice.wait_for()
    picking = Scripts()
    picking.paths = list(scripts.paths)
    await choice.get_by_role("button").click()
    await frame.locator("section#notes").wait_for()
    await frame.locator("body[data-state=ready]").wait_for(state="attached")
    print(f"\nZoom, picking: {picking.report()}\nZoom, panel: {scripts.report()}")
    assert picking.fetched(ZOOM_SDK), picking.report()
    assert picking.gzip_bytes() <= LIGHT_PAGE_LIMIT, picking.report()
    assert not scripts.fetched(JITSI_CALL), scripts.report()
    await context.close()


@needs("jitsi")
async def test_the_jitsi_call_code_loads_only_on_the_call_page(
    browser: Any,
    jserver: TestServer,  # noqa: F811
    console: ConsoleWatch,
) -> None:
    pair = await make_pair(jserver.app, "w")
    meeting = await add_meeting(jserver.app, pair, datetime.now(UTC) - timedelta(minutes=2))
    signin = await signin_path(jserver, pair.mentor_id, "/")
    call = await load(browser, jserver, f"/meetings/{meeting.id}/call", console, signin=signin)
    signin = await signin_path(jserver, pair.mentor_id, "/")
    panel = await load(browser, jserver, f"/meetings/{meeting.id}", console, signin=signin)
    print(f"\nJitsi call: {call.report()}\npanel: {panel.report()}")
    assert call.fetched(JITSI_CALL), call.report()
    assert not panel.fetched(JITSI_CALL), panel.report()
    assert not call.fetched(ZOOM_SDK), call.report()
