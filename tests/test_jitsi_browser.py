"""The call page in a real browser, against the real service and a real SMTP server.

What stands in for what:
- `STAND_IN_API` stands in for Jitsi's `external_api.js` (the IFrame API): a local aiohttp
  server serves it at the configured MENTOR_SIDECAR_JITSI_BASE_URL, so the page loads it exactly
  as it would a real server's (script element, CSP `script-src` widened to that origin). It
  defines `JitsiMeetExternalAPI`, puts a visible placeholder iframe (also from that server, so
  CSP `frame-src` is exercised) into `parentNode`, records the options it was given, supports
  addListener/on/removeListener/executeCommand/dispose, and lets the test emit the iframe API's
  events (with the payloads of the handbook's "Events" page) through page.evaluate.
- Nothing stands in for the service, the browser or the SMTP server: they are the real ones.

Screenshots: /tmp/jitsi-call-wide.png (1400x900), /tmp/jitsi-call-narrow.png (420x860),
/tmp/jitsi-call-panel-hidden.png, /tmp/jitsi-call-ended.png, /tmp/jitsi-panel-link.png.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from sidecar.keys import DATABASE, REPOS
from tests.browser_support import (
    ConsoleWatch,
    new_context,
    requires_chromium,
    screenshot,
    wait_until_ready,
)
from tests.conftest import ClientFactory, Pair, add_meeting, make_pair
from tests.platform_settings import app_of, needs
from tests.smtp_server import SmtpServer
from tests.test_jitsi_tokens import SECRET, jitsi_settings
from tests.waiting import eventually, outbox_empty

pytestmark = [requires_chromium, needs("jitsi")]

STAND_IN_API = r"""
(function () {
  "use strict";
  const instances = [];
  function plain(options) {
    const copy = Object.assign({}, options);
    copy.parentNode = options.parentNode ? options.parentNode.id || true : null;
    return JSON.parse(JSON.stringify(copy));
  }
  class JitsiMeetExternalAPI {
    constructor(domain, options) {
      this.domain = domain;
      this.options = options;
      this.listeners = {};
      this.commands = [];
      this.disposed = false;
      const iframe = document.createElement("iframe");
      iframe.id = "jitsiConferenceFrame" + instances.length;
      iframe.title = "Stand-in Jitsi meeting";
      iframe.src = location.protocol + "//" + domain + "/" + encodeURIComponent(options.roomName);
      iframe.allow = "camera; microphone; display-capture; autoplay; clipboard-write";
      iframe.style.width = options.width || "100%";
      iframe.style.height = options.height || "100%";
      iframe.style.border = "0";
      (options.parentNode || document.body).appendChild(iframe);
      this.iframe = iframe;
      instances.push(this);
      window.__jitsiStandIn = {
        domain: domain,
        options: plain(options),
        instances: instances.length,
        emit: (name, payload) => this.emit(name, payload),
        commands: () => this.commands.slice(),
        disposed: () => this.disposed,
      };
    }
    addListener(name, fn) {
      (this.listeners[name] = this.listeners[name] || []).push(fn);
      return this;
    }
    on(name, fn) {
      return this.addListener(name, fn);
    }
    removeListener(name, fn) {
      this.listeners[name] = (this.listeners[name] || []).filter((f) => f !== fn);
      return this;
    }
    emit(name, payload) {
      (this.listeners[name] || []).forEach((fn) => fn(payload));
    }
    executeCommand(name, ...args) {
      this.commands.push([name].concat(args));
      if (name === "hangup") {
        this.emit("videoConferenceLeft", { roomName: this.options.roomName });
        this.emit("readyToClose");
      }
    }
    dispose() {
      this.disposed = true;
      this.iframe.remove();
    }
  }
  window.JitsiMeetExternalAPI = JitsiMeetExternalAPI;
})();
"""

STAND_IN_ROOM_PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
html,body{margin:0;height:100%;background:#1f2b36;color:#dfe8ef;font:16px system-ui,sans-serif}
body{display:grid;place-items:center}.tile{display:grid;gap:8px;text-align:center}
.me{width:220px;height:150px;border-radius:12px;background:#2f4252;margin:0 auto}
</style></head><body><div class="tile"><div class="me"></div>
<p>Stand-in Jitsi meeting</p></div></body></html>"""


async def stand_in_app() -> web.Application:
    async def external_api(request: web.Request) -> web.Response:
        return web.Response(text=STAND_IN_API, content_type="application/javascript")

    async def room(request: web.Request) -> web.Response:
        return web.Response(text=STAND_IN_ROOM_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/external_api.js", external_api)
    app.router.add_get("/{room}", room)
    return app


@pytest.fixture
async def jitsi_stand_in(aiohttp_server: ClientFactory) -> TestServer:
    server: TestServer = await aiohttp_server(await stand_in_app())
    return server


@pytest.fixture
async def jserver(
    aiohttp_server: ClientFactory, tmp_path: Path, smtp: SmtpServer, jitsi_stand_in: TestServer
) -> TestServer:
    """The real service, its Jitsi being the stand-in, its email going to the real SMTP server."""
    base = str(jitsi_stand_in.make_url("")).rstrip("/")
    settings = jitsi_settings(
        tmp_path, jitsi_base_url=base, outbox_poll_seconds=0.1, **smtp.settings()
    )
    server: TestServer = await aiohttp_server(app_of(settings))
    return server


def expect(locator: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(locator)


async def signin_path(server: TestServer, person_id: str, next_path: str) -> str:
    code = await server.app[REPOS].tokens.create_signin_link(person_id, timedelta(hours=1))
    return f"/signin/{code}?next={next_path}"


async def open_page(
    browser: Any, server: TestServer, path: str, console: ConsoleWatch, **size: int
) -> Any:
    context = await new_context(browser, **size)  # type: ignore[arg-type]
    page = console.watch(await context.new_page())
    await page.goto(str(server.make_url(path)))
    await wait_until_ready(page)
    return page


async def emit(page: Any, name: str, payload: Any = None) -> None:
    await page.evaluate("([n, p]) => window.__jitsiStandIn.emit(n, p)", [name, payload])


async def attendance(server: TestServer, meeting_id: str, person_id: str) -> dict[str, Any] | None:
    return await server.app[DATABASE].fetch_one(
        "SELECT * FROM meeting_attendance WHERE meeting_id = ? AND person_id = ?",
        (meeting_id, person_id),
    )


async def wait_for(condition: Any, what: str) -> None:
    await eventually(condition, what=what)


async def test_the_call_beside_the_panel_from_join_to_summary(
    browser: Any,
    jserver: TestServer,
    jitsi_stand_in: TestServer,
    console: ConsoleWatch,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    pair: Pair = await make_pair(jserver.app, "b")
    meeting = await add_meeting(
        jserver.app, pair, datetime.now(UTC) - timedelta(minutes=2), title="Portfolio review"
    )
    call_path = f"/meetings/{meeting.id}/call"

    # The panel links to the call when Jitsi is set up.
    panel = await open_page(
        browser,
        jserver,
        await signin_path(jserver, pair.mentee_id, f"/meetings/{meeting.id}"),
        console,
        width=1280,
    )
    link = panel.get_by_role("link", name="Open the video call")
    await expect(link).to_be_visible(timeout=30_000)
    assert await link.get_attribute("href") == call_path
    await panel.locator(".panel-header").screenshot(path="/tmp/jitsi-panel-link.png")
    await panel.context.close()

    page = await open_page(
        browser,
        jserver,
        await signin_path(jserver, pair.mentee_id, call_path),
        console,
        width=1400,
        height=900,
    )
    frame = page.locator("#jitsi-frame iframe")
    await expect(frame).to_be_visible(timeout=30_000)
    side = page.locator("#call-side")
    await expect(side.locator(".panel-title")).to_have_text("Portfolio review", timeout=30_000)
    await expect(side.get_by_role("link", name="Open the video call")).to_be_hidden()

    # What the page gave the iframe API.
    seen = await page.evaluate("window.__jitsiStandIn")
    options = seen["options"]
    assert seen["domain"] == f"127.0.0.1:{jitsi_stand_in.port}"
    assert re.fullmatch(r"ms-[0-9a-f]{32}", options["roomName"])
    assert options["parentNode"] == "jitsi-frame"
    assert options["userInfo"] == {"displayName": "b Mentee", "email": "mentee.b@example.org"}
    config = options["configOverwrite"]
    assert config["prejoinConfig"] == {"enabled": False}
    assert config["customToolbarButtons"][0]["id"] == "sidecar-panel"
    assert config["customToolbarButtons"][0]["icon"].startswith("data:image/svg+xml,")
    assert {"hangup", "sidecar-panel"} <= set(config["toolbarButtons"])
    assert {"key": "hangup", "preventExecution": False} in config["buttonsWithNotifyClick"]
    claims = jwt.decode(options["jwt"], SECRET, algorithms=["HS256"], audience="jitsi")
    assert claims["room"] == options["roomName"]
    assert claims["context"]["user"]["id"] == pair.mentee_id

    # The call is large, the panel beside it at about 400 px.
    call_box = await page.locator(".call-main").bounding_box()
    side_box = await side.bounding_box()
    assert 380 <= side_box["width"] <= 420
    assert call_box["width"] >= 950 and side_box["x"] >= call_box["x"] + call_box["width"] - 1
    assert (await frame.bounding_box())["height"] >= 780

    # Joining the call is recorded, and the meeting is live.
    await emit(
        page,
        "videoConferenceJoined",
        {
            "roomName": options["roomName"],
            "id": "a1b2c3d4",
            "displayName": "b Mentee",
            "avatarURL": "",
            "breakoutRoom": False,
        },
    )
    await expect(page.locator(".call-state")).to_have_text("In the call")

    async def mentee_joined() -> bool:
        row = await attendance(jserver, meeting.id, pair.mentee_id)
        return row is not None and row["joined_call_at"] is not None

    await wait_for(mentee_joined, "the join to be recorded")
    await emit(page, "participantJoined", {"id": "e5f6a7b8", "displayName": "b Mentor"})
    await screenshot(page, tmp_path, "wide.png", copy_to="/tmp/jitsi-call-wide.png")

    # Jitsi's toolbar button hides and shows the panel; so does the toggle above the call.
    await emit(page, "toolbarButtonClicked", {"key": "sidecar-panel", "preventExecution": False})
    await expect(side).to_be_hidden()
    await expect(page.get_by_role("button", name="Show panel")).to_have_attribute(
        "aria-expanded", "false"
    )
    assert (await page.locator(".call-main").bounding_box())["width"] >= 1390
    await screenshot(page, tmp_path, "hidden.png", copy_to="/tmp/jitsi-call-panel-hidden.png")
    await emit(page, "toolbarButtonClicked", {"key": "sidecar-panel", "preventExecution": False})
    await expect(side).to_be_visible()
    await page.get_by_role("button", name="Hide panel").click()
    await expect(side).to_be_hidden()
    await page.get_by_role("button", name="Show panel").click()
    await expect(side).to_be_visible()

    # The mentor has left; the mentee hangs up: the call is over, one summary goes out.
    before = len(smtp.inbox.messages)
    await emit(page, "participantLeft", {"id": "e5f6a7b8"})
    await emit(page, "toolbarButtonClicked", {"key": "hangup", "preventExecution": False})
    await emit(page, "videoConferenceLeft", {"roomName": options["roomName"]})
    await emit(page, "readyToClose")
    await expect(page.locator(".call-notice")).to_contain_text(
        "The meeting has ended", timeout=30_000
    )
    assert await page.evaluate("window.__jitsiStandIn.disposed()") is True
    await expect(side.locator("#meeting-ended")).to_be_visible(timeout=30_000)

    async def two_mails() -> bool:
        return len(smtp.inbox.messages) >= before + 2

    await wait_for(two_mails, "the summary emails")
    await outbox_empty(jserver.app[DATABASE])  # nothing more can arrive
    summaries = [m for m in smtp.inbox.messages[before:] if "Summary" in str(m["Subject"])]
    for address in ("mentor.b@example.org", "mentee.b@example.org"):
        assert len([m for m in summaries if address in str(m["To"])]) == 1
    assert len(smtp.inbox.messages) == before + 2
    row = await attendance(jserver, meeting.id, pair.mentee_id)
    assert row is not None and row["left_call_at"] is not None and row["call_source"] == "jitsi"
    ended = await jserver.app[REPOS].meetings.get(meeting.id, viewer=pair.mentee_id)
    assert ended.status == "ended" and ended.ended_by == "jitsi"
    await screenshot(page, tmp_path, "ended.png", copy_to="/tmp/jitsi-call-ended.png")

    # A narrow window: the call on top, the panel below it.
    narrow = await open_page(
        browser,
        jserver,
        await signin_path(jserver, pair.mentor_id, call_path),
        console,
        width=420,
        height=860,
    )
    await expect(narrow.locator("#jitsi-frame iframe")).to_be_visible(timeout=30_000)
    await expect(narrow.locator("#call-side .panel-title")).to_be_visible(timeout=30_000)
    top = await narrow.locator(".call-main").bounding_box()
    below = await narrow.locator("#call-side").bounding_box()
    assert below["y"] >= top["y"] + top["height"] - 1 and below["width"] >= 400
    await screenshot(narrow, tmp_path, "narrow.png", copy_to="/tmp/jitsi-call-narrow.png")

    assert console.unexpected() == []


async def test_leaving_while_the_other_stays_offers_to_rejoin(
    browser: Any, jserver: TestServer, console: ConsoleWatch
) -> None:
    pair = await make_pair(jserver.app, "r")
    meeting = await add_meeting(jserver.app, pair, datetime.now(UTC) - timedelta(minutes=1))
    page = await open_page(
        browser,
        jserver,
        await signin_path(jserver, pair.mentor_id, f"/meetings/{meeting.id}/call"),
        console,
        width=1280,
    )
    await expect(page.locator("#jitsi-frame iframe")).to_be_visible(timeout=30_000)
    room = (await page.evaluate("window.__jitsiStandIn.options"))["roomName"]
    await emit(
        page, "videoConferenceJoined", {"roomName": room, "id": "m1", "displayName": "r Mentor"}
    )
    await emit(page, "participantJoined", {"id": "m2", "displayName": "r Mentee"})
    await page.evaluate("window.__jitsiStandIn.emit('toolbarButtonClicked', {key: 'hangup'})")
    # Jitsi reports the end of the hang-up with readyToClose.
    await page.evaluate("window.__jitsiStandIn.emit('readyToClose')")
    notice = page.locator(".call-notice")
    await expect(notice).to_contain_text("You left the call", timeout=30_000)
    live = await jserver.app[REPOS].meetings.get(meeting.id, viewer=pair.mentor_id)
    assert live.status == "live", "the mentee is still in the call"

    await notice.get_by_role("button", name="Rejoin the call").click()
    await expect(page.locator("#jitsi-frame iframe")).to_be_visible(timeout=30_000)
    assert await page.evaluate("window.__jitsiStandIn.instances") == 2
    assert console.unexpected() == []


async def test_without_jitsi_the_call_page_says_so_beside_the_panel(
    browser: Any, aiohttp_server: ClientFactory, tmp_path: Path, console: ConsoleWatch
) -> None:
    server: TestServer = await aiohttp_server(app_of(jitsi_settings(tmp_path, jitsi_base_url="")))
    pair = await make_pair(server.app, "n")
    page = await open_page(
        browser,
        server,
        await signin_path(server, pair.mentee_id, f"/meetings/{pair.meeting_id}/call"),
        console,
        width=1280,
    )
    await expect(page.locator(".call-notice")).to_contain_text("Video calls are not set up")
    await expect(page.locator(".call-notice")).to_contain_text("MENTOR_SIDECAR_JITSI_BASE_URL")
    await expect(page.locator("#call-side .panel-title")).to_be_visible(timeout=30_000)
    assert await page.evaluate("typeof window.JitsiMeetExternalAPI") == "undefined"
    assert console.unexpected() == []
