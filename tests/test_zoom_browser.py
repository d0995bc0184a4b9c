"""The panel inside Zoom, in Chromium: a host page plays the Zoom client.

What stands in for what:
- The host page (served by the test app; see add_host_page) frames /zoom/home 400 px wide like
  Zoom's side panel and answers the Zoom Apps SDK's message bridge as the Zoom client does:
  the real bundled @zoom/appssdk posts `{jsCallId, apiName, data}` to its parent and gets
  `{type: "apiResponse", data: {jsCallId, result}}` and `{type: "event", name, data}` back.
- Playwright's routing adds the `x-zoom-app-context` header the Zoom client sends with the Home
  URL, sealed per Zoom's documented layout (tests/test_zoom_support.seal_context).
- FakeZoom stands in for Zoom's token endpoint and /v2/users/me (in-client OAuth).
Not simulated (needs a real Zoom client): the capability checks, real error codes, the webview.
Zoom's browser code is its own (zoom_app/static, the platform's FrontEnd, served under
/static/platforms/zoom/): its pages and the profile page's Zoom card.
Screenshots: /tmp/zoom-pick.png, /tmp/zoom-panel.png, /tmp/zoom-link.png, and the profile's
card, the link and problem pages at 400x800 and 1280x800 in /tmp/shots/zoom-front/.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from sidecar.demo import DemoSeed, seed_demo
from sidecar.keys import DATABASE, REPOS
from tests.browser_support import (
    ConsoleWatch,
    new_context,
    requires_chromium,
    screenshot,
    wait_until_ready,
)
from tests.conftest import ClientFactory
from tests.platform_settings import app_of, needs
from tests.smtp_server import SmtpServer
from tests.test_zoom_support import FakeZoom, context_claims, seal_context, zoom_settings
from tests.waiting import eventually
from zoom_app.state import ZOOM

pytestmark = [requires_chromium, needs("zoom")]
NUMBER = "85746065432"
SHOTS = Path("/tmp/shots/zoom-front")
ZOOM_SCRIPTS = "/static/platforms/zoom/"  # zoom_app/static, served through its FrontEnd

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Zoom (stand-in)</title></head>
<body style="margin:0;background:#242424;display:flex;gap:0">
<div style="flex:1;min-height:900px;color:#aaa;font:14px sans-serif;padding:16px">Video call</div>
<iframe id="panel" src="PANEL" style="width:400px;height:900px;border:0;background:#fff"></iframe>
<script>
window.calls = [];
window.zoomState = { uuid: "occurrence-1==", meetingID: "NUMBER", topic: "Mentoring call" };
const frame = document.getElementById("panel");
const origin = window.location.origin;
const reply = (message) => frame.contentWindow.postMessage(message, origin);
window.emit = (name, data) => reply({ type: "event", name, data });
window.addEventListener("message", async (event) => {
  if (event.source !== frame.contentWindow) return;
  let call;
  try { call = JSON.parse(event.data); } catch { return; }
  window.calls.push(call);
  const s = window.zoomState;
  const results = {
    config: { runningContext: "inMeeting", clientVersion: "6.3.0", unsupportedApis: [],
              auth: { status: "authorized", upgradable: false } },
    getMeetingUUID: { meetingUUID: s.uuid, parentUUID: s.uuid },
    getMeetingContext: { meetingTopic: s.topic, meetingID: s.meetingID },
    getUserContext: { screenName: "Someone", participantId: "16778240", role: "host",
                      status: "authorized" },
    getRunningContext: { context: "inMeeting" },
    openUrl: { message: "success" },
    authorize: { message: "success" },
  };
  if (!(call.apiName in results)) {
    reply({ type: "apiResponse", data: { jsCallId: call.jsCallId, errorCode: 10001,
            errorMessage: "not simulated" } });
    return;
  }
  reply({ type: "apiResponse", data: { jsCallId: call.jsCallId, result: results[call.apiName] } });
  if (call.apiName === "authorize") {
    // Zoom's consent: the code arrives later, as the onAuthorized event.
    const code = await window.zoomConsent(call.data.codeChallenge);
    emit("onAuthorized", { code, state: call.data.state, redirectUri: "", result: true,
                           timestamp: Date.now() });
  }
});
</script></body></html>"""


@pytest.fixture
async def fake_zoom(aiohttp_server: ClientFactory) -> tuple[FakeZoom, TestServer]:
    fake = FakeZoom(user_id="zoom-helena")
    server: TestServer = await aiohttp_server(fake.app())
    return fake, server


@pytest.fixture
async def zoom_server(
    aiohttp_server: ClientFactory,
    tmp_path: Path,
    smtp: SmtpServer,
    fake_zoom: tuple[FakeZoom, TestServer],
) -> TestServer:
    base = str(fake_zoom[1].make_url("")).rstrip("/")
    settings = zoom_settings(
        tmp_path, zoom_oauth_base_url=base, zoom_api_base_url=base, **smtp.settings()
    )
    app = app_of(settings)
    add_host_page(app)
    server: TestServer = await aiohttp_server(app)
    return server


def add_host_page(app: web.Application) -> None:
    """The stand-in Zoom client page, served by the service's own test app: our CSP only lets
    Zoom (and 'self') frame /zoom/home, so a host on another origin would be refused, as it
    should be. It sets its own policy (inline script, framing 'self')."""

    async def page(request: web.Request) -> web.Response:
        html = HOST_PAGE.replace("PANEL", "/zoom/home").replace("NUMBER", NUMBER)
        return web.Response(
            text=html,
            content_type="text/html",
            headers={"Content-Security-Policy": "script-src 'unsafe-inline'; frame-src 'self'"},
        )

    app.router.add_get("/_test/zoom-client", page)


async def open_in_zoom(
    browser: Any,
    aiohttp_server: ClientFactory,
    server: TestServer,
    zoom_uid: str,
    console: ConsoleWatch,
) -> Any:
    context = await new_context(browser, width=1000, height=900)
    page = console.watch(await context.new_page())
    home = str(server.make_url("/zoom/home"))

    async def with_context_header(route: Any) -> None:
        header = seal_context(context_claims(zoom_uid, mid="occurrence-1=="))
        await route.continue_(headers={**route.request.headers, "x-zoom-app-context": header})

    await page.route(home, with_context_header)
    await page.goto(str(server.make_url("/_test/zoom-client")))
    return page


def panel_frame(page: Any) -> Any:
    return page.frame_locator("#panel")


async def wait_for(predicate: Any) -> None:
    await eventually(predicate, what="the condition")


async def test_the_panel_inside_zoom_picks_the_mentorship_then_ends_with_the_call(
    browser: Any,
    aiohttp_server: ClientFactory,
    zoom_server: TestServer,
    console: ConsoleWatch,
    tmp_path: Path,
) -> None:
    demo: DemoSeed = await seed_demo(zoom_server.app)
    await zoom_server.app[ZOOM].store.link_account(
        demo.mentee.id,
        zoom_user_id="zoom-arjun",
        zoom_email="",
        tokens=None,
        token_expires_at=None,
        scope="",
    )
    page = await open_in_zoom(browser, aiohttp_server, zoom_server, "zoom-arjun", console)
    frame = panel_frame(page)

    # First time in this Zoom meeting: pick the mentorship.
    choice = frame.locator(f'li.zoom-choice[data-mentorship-id="{demo.mentorship_id}"]')
    await choice.wait_for(timeout=30_000)
    assert (
        await frame.locator("#zoom-pick h1").inner_text() == "Which mentorship is this meeting for?"
    )
    await frame.locator(".zoom-user", has_text="In Zoom as Someone").wait_for()
    await screenshot(page, tmp_path, "zoom-pick.png", copy_to="/tmp/zoom-pick.png")
    calls = await page.evaluate("window.calls")
    config = next(c for c in calls if c["apiName"] == "config")
    from tests.test_zoom_manifest import panel_capabilities

    assert sorted(config["data"]["js_api_lists"]) == sorted(panel_capabilities())
    assert {"getMeetingUUID", "getMeetingContext", "getUserContext"} <= {
        c["apiName"] for c in calls
    }

    await choice.get_by_role("button").click()
    await frame.locator("section#notes").wait_for(timeout=30_000)
    await frame.locator("li.person[data-role=mentee] .you-badge").wait_for()
    await page.wait_for_timeout(500)
    await screenshot(page, tmp_path, "zoom-panel.png", copy_to="/tmp/zoom-panel.png")
    store = zoom_server.app[ZOOM].store
    assert await store.mentorships_linked_to(NUMBER) == [demo.mentorship_id]
    assert await store.meeting_for_instance("occurrence-1==") == demo.meeting_id

    # The call is under way (the demo meeting starts in half an hour or so; only a live meeting
    # is ended by its call)...
    await zoom_server.app[REPOS].meetings.update(
        demo.meeting_id, {"status": "live"}, viewer=demo.mentor.id
    )
    # ...then the Zoom client says the meeting ended: the pair's meeting ends, one summary.
    await page.evaluate("emit('onMeeting', {action: 'ended'})")
    await page.evaluate("emit('onMeeting', {action: 'ended'})")

    async def ended() -> bool:
        meeting = await zoom_server.app[REPOS].meetings.get(demo.meeting_id, viewer=demo.mentor.id)
        return meeting.status == "ended"

    await wait_for(ended)
    count = await zoom_server.app[DATABASE].fetch_value(
        "SELECT COUNT(*) FROM summaries WHERE meeting_id = ?", (demo.meeting_id,)
    )
    assert count == 1
    assert not console.unexpected(), console.unexpected()


async def test_an_unknown_zoom_user_links_in_zoom_and_sees_nobody_elses_data(
    browser: Any,
    aiohttp_server: ClientFactory,
    zoom_server: TestServer,
    fake_zoom: tuple[FakeZoom, TestServer],
    console: ConsoleWatch,
    tmp_path: Path,
) -> None:
    fake, _ = fake_zoom
    demo: DemoSeed = await seed_demo(zoom_server.app)
    page = await open_in_zoom(browser, aiohttp_server, zoom_server, "zoom-helena", console)
    await page.expose_function("zoomConsent", fake.authorize)
    frame = panel_frame(page)
    await frame.locator("#zoom-link-form").wait_for(timeout=30_000)
    text = await frame.locator("main").inner_text()
    assert "Link your Zoom account" in text
    for secret in (demo.mentor.name, demo.mentee.name, "Check-in"):
        assert secret not in text
    await screenshot(page, tmp_path, "zoom-link.png", copy_to="/tmp/zoom-link.png")

    # Helena gets a link code from her profile (in her browser), types it in Zoom.
    code = await zoom_server.app[ZOOM].store.create_link_code(
        demo.mentor.id, "WXYZ-2345", timedelta(minutes=10)
    )
    assert code
    await frame.get_by_label("Link code").fill("wxyz-2345")
    await frame.get_by_role("button", name="Link with Zoom").click()
    choice = frame.locator(f'li.zoom-choice[data-mentorship-id="{demo.mentorship_id}"]')
    await choice.wait_for(timeout=30_000)
    assert await zoom_server.app[ZOOM].store.person_for_zoom_user("zoom-helena") == demo.mentor.id
    assert [g["grant_type"] for g in fake.grants] == ["authorization_code"]
    assert not console.unexpected(), console.unexpected()


async def test_outside_zoom_the_home_url_leads_a_signed_in_person_home(
    browser: Any, zoom_server: TestServer, console: ConsoleWatch
) -> None:
    demo: DemoSeed = await seed_demo(zoom_server.app)
    context = await new_context(browser, width=1000)
    page = console.watch(await context.new_page())
    await page.goto(str(zoom_server.make_url(demo.mentor.signin_path)))
    await page.goto(str(zoom_server.make_url("/zoom/home")))
    await page.wait_for_url(str(zoom_server.make_url("/")))
    await page.wait_for_selector("body[data-state=ready]")
    assert not console.unexpected(), console.unexpected()


def fetched_urls(page: Any) -> list[str]:
    """Every URL the page fetches from now on, without its query."""
    urls: list[str] = []
    page.on("response", lambda response: urls.append(response.url.split("?", 1)[0]))
    return urls


async def test_the_profile_pages_zoom_card_is_zooms_own_script(
    browser: Any, zoom_server: TestServer, console: ConsoleWatch
) -> None:
    """/me loads zoom_app/static/profile.js (the core's bundle has no Zoom code), whose card
    connects Zoom or gives a link code for linking from inside Zoom."""
    demo: DemoSeed = await seed_demo(zoom_server.app)
    for width in (400, 1280):
        context = await new_context(browser, width=width, height=800)
        page = console.watch(await context.new_page())
        fetched = fetched_urls(page)
        code = await zoom_server.app[REPOS].tokens.create_signin_link(
            demo.mentor.id, timedelta(hours=1)
        )
        await page.goto(str(zoom_server.make_url(f"/signin/{code}?next=/me")))
        await wait_until_ready(page)
        card = page.locator("section#zoom")
        await card.get_by_role("heading", name="Zoom").wait_for()
        connect = card.get_by_role("link", name="Connect Zoom")
        assert (await connect.get_attribute("href") or "").endswith("/zoom/install")
        await card.get_by_role("button", name="Get a link code for Zoom").click()
        link_code = await card.locator(".zoom-code-value").inner_text()
        await screenshot(page, SHOTS, f"profile-{width}.png")
        assert await zoom_server.app[ZOOM].store.redeem_link_code(link_code) == demo.mentor.id
        ours = [u for u in fetched if ZOOM_SCRIPTS in u]
        assert any(u.endswith("/platforms/zoom/profile.js") for u in ours), fetched
        assert not any("/sdk.es-" in u for u in fetched), "the profile page loaded the Zoom SDK"
        await context.close()
    assert not console.unexpected(), console.unexpected()


async def test_the_link_and_problem_pages_outside_zoom(
    browser: Any, zoom_server: TestServer, console: ConsoleWatch
) -> None:
    """Drawn by Zoom's pages.js: the link page for a plain browser with no session, the problem
    page for a Zoom context that could not be verified; neither loads the SDK outside Zoom."""
    home = str(zoom_server.make_url("/zoom/home"))
    for width in (400, 1280):
        context = await new_context(browser, width=width, height=800)
        page = console.watch(await context.new_page())
        fetched = fetched_urls(page)
        await page.goto(home)
        await wait_until_ready(page)
        await page.locator("#zoom-link h1", has_text="Link your Zoom account").wait_for()
        assert await page.locator("#zoom-link-form").count() == 0  # no Zoom client: no form
        await screenshot(page, SHOTS, f"zoom-link-{width}.png")

        async def tampered(route: Any) -> None:
            headers = {**route.request.headers, "x-zoom-app-context": "not-a-context"}
            await route.continue_(headers=headers)

        await page.route(home, tampered)
        await page.goto(home)
        await wait_until_ready(page)
        await page.locator(".notice--error h1", has_text="could not be verified").wait_for()
        await screenshot(page, SHOTS, f"zoom-problem-{width}.png")
        assert any(u.endswith("/platforms/zoom/pages.js") for u in fetched), fetched
        assert not any("/sdk.es-" in u for u in fetched), "the Zoom SDK loaded outside Zoom"
        await context.close()
    # The refused context is answered 401 (Chromium logs it).
    assert not console.unexpected((401, "/zoom/home")), console.unexpected((401, "/zoom/home"))
