"""Live notes when the connection ends, in a real browser (Debian's Chromium via Playwright).

Each close code the service uses shows its own words in the panel and keeps what was typed:
transient ones (1001, 1011, 1013, 4503) say "Reconnecting…" and come back by themselves; 4401
(a revoked session: through the API, and by signing out in another tab), 4410 (the mentorship
erased, from the profile page), 4400 and 1009 stop with what to do. The close codes come from
the service's own paths where there is one, else from its socket registry (the same call those
paths make). And nothing typed offline is lost when the tab is closed or the browser crashes:
the panel keeps the meeting's document in IndexedDB (y-indexeddb) and sends it when it opens
again. Screenshots at 400x800 and 1280x800 go to /tmp/shots/notes-panel/.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.demo import DemoSeed, seed_demo
from sidecar.keys import REPOS, WEBSOCKETS
from sidecar.settings import Settings
from sidecar.web.open_sockets import close_sockets
from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPORT_CSP_VIOLATIONS,
    ConsoleWatch,
    new_context,
    requires_chromium,
    wait_until_ready,
)
from tests.test_notes_browser import (
    editor_text,
    open_panel,
    place_cursor,
    rest_notes,
    shoot_both,
    show_notes,
    socket_noise,
    wait_connected,
    wait_for_text,
)
from tests.waiting import eventually

pytestmark = requires_chromium

ServerFactory = Callable[..., Awaitable[TestServer]]
LOCAL_PREFIX = "mentor-sidecar-notes-"

# The names of the notes databases this browser context holds.
LOCAL_COPIES = """
async (prefix) =>
  (await indexedDB.databases()).map((d) => d.name).filter((n) => n.startsWith(prefix))
"""

# Every byte stored in one notes database, as latin-1 text (an update inserting a string holds it
# as UTF-8). A read-only transaction runs after every write started before it, so once this
# answers, what the page typed so far is on disk.
LOCAL_BYTES = """
(name) => new Promise((resolve, reject) => {
  const open = indexedDB.open(name);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const all = db.transaction("updates", "readonly").objectStore("updates").getAll();
    all.onerror = () => reject(all.error);
    all.onsuccess = () => {
      db.close();
      resolve(all.result.map((u) => String.fromCharCode(...new Uint8Array(u))).join(""));
    };
  };
})
"""


class UpgradeGate:
    """Holds new notes-socket upgrades while closed, so "Reconnecting…" can be seen and shot;
    counts the upgrades, so a test can tell the panel tried (or did not try) to come back."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.open.set()
        self.upgrades = 0

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path.startswith("/ws/notes/"):
            self.upgrades += 1
            await self.open.wait()
        return await handler(request)

    def tried_since(self, upgrades: int) -> Callable[[], Awaitable[bool]]:
        async def tried() -> bool:
            return self.upgrades > upgrades

        return tried


async def gated_server(
    aiohttp_server: ServerFactory, settings: Settings, port: int | None = None
) -> tuple[TestServer, UpgradeGate]:
    app = create_app(settings)
    gate = UpgradeGate()
    app.middlewares.append(gate.middleware)
    server = await aiohttp_server(app, port=port) if port else await aiohttp_server(app)
    return server, gate


async def close_notes_sockets(server: TestServer, code: int, reason: str) -> int:
    """Close every open notes socket with `code`, as the service's own paths do."""
    sockets = server.app[WEBSOCKETS].where(lambda s: s.kind == "notes")
    return await close_sockets(sockets, code, reason)


def unexpected(console: ConsoleWatch) -> list[str]:
    """Console problems other than the browser's own lines while the service is away."""
    return [str(p) for p in console.problems if not socket_noise(p)]


async def status_of(page: Any) -> str:
    value: str = await page.get_attribute("#notes .notes-status", "data-connection")
    return value


async def local_copies(page: Any) -> list[str]:
    names: list[str] = await page.evaluate(LOCAL_COPIES, LOCAL_PREFIX)
    return names


async def local_bytes(page: Any, name: str) -> str:
    stored: str = await page.evaluate(LOCAL_BYTES, name)
    return stored


async def wait_stored(server: TestServer, demo: DemoSeed, part: str) -> str:
    text = ""

    async def stored() -> bool:
        nonlocal text
        text = await rest_notes(server, demo.mentor.token, demo.meeting_id)
        return part in text

    await eventually(stored, what=f"{part!r} at the service")
    return text


async def problem_of(page: Any) -> tuple[str, str]:
    problem = page.locator("#notes .notes-problem:not([hidden])")
    await problem.wait_for(state="attached")
    return await problem.get_attribute("data-kind") or "", await problem.inner_text()


async def typed_line(page: Any, words: str) -> None:
    await place_cursor(page, "end of document")
    await page.keyboard.type(words, delay=3)
    await wait_for_text(page, lambda text: words in text)


# --- transient closes --------------------------------------------------------------------------


async def test_transient_closes_say_reconnecting_and_come_back_by_themselves(
    browser: Any, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    server, gate = await gated_server(aiohttp_server, Settings(data_dir=tmp_path / "data"))
    demo = await seed_demo(server.app)
    console = ConsoleWatch()
    page = await open_panel(browser, server, demo.mentee.signin_path, console, width=420)
    status = page.locator("#notes .notes-status")

    for code in (1001, 1011, 1013, 4503):
        gate.open.clear()  # hold the panel's next connection until the message has been seen
        upgrades = gate.upgrades
        assert await close_notes_sockets(server, code, f"test close {code}") == 1
        await page.locator('#notes .notes-status[data-connection="reconnecting"]').wait_for()
        assert (await status.inner_text()).startswith("Reconnecting…")
        assert "kept in this browser" in await status.inner_text()
        assert await page.locator("#notes .notes-problem").is_hidden()
        words = f" typed while reconnecting after {code}"
        await typed_line(page, words)  # the editor stays editable
        await eventually(gate.tried_since(upgrades), what=f"a reconnect after {code}")
        if code == 1013:
            await shoot_both(page, "close-transient-reconnecting")
        gate.open.set()
        await wait_connected(page, console)
        await wait_stored(server, demo, words)
    assert unexpected(console) == []


# --- final closes ------------------------------------------------------------------------------


async def test_a_revoked_session_says_so_links_to_sign_in_and_keeps_the_text(
    browser: Any, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    server, _ = await gated_server(aiohttp_server, Settings(data_dir=tmp_path / "data"))
    demo = await seed_demo(server.app)
    console = ConsoleWatch()
    page = await open_panel(browser, server, demo.mentee.signin_path, console, width=420)
    await typed_line(page, " before the revoke")
    await wait_stored(server, demo, " before the revoke")

    # From another device: the mentee revokes this browser's session through the API.
    auth = {"Authorization": f"Bearer {demo.mentee.token}"}
    async with aiohttp.ClientSession(headers=auth) as session:
        async with session.get(server.make_url("/api/v1/me/tokens")) as response:
            tokens = (await response.json())["tokens"]
        [browser_session] = [t for t in tokens if t["kind"] == "session" and not t["revoked_at"]]
        url = server.make_url(f"/api/v1/me/tokens/{browser_session['id']}")
        async with session.delete(url) as response:
            assert response.status == 200, await response.text()

    kind, words = await problem_of(page)
    assert kind == "revoked"
    assert "Your access was revoked" in words and "Sign in again" in words
    assert "kept in this browser" in words
    assert await page.get_attribute("#notes .notes-problem a", "href") == "/"
    assert await status_of(page) == "closed"
    assert await page.locator("#notes-editor .cm-content[contenteditable=false]").count() == 1
    assert " before the revoke" in await editor_text(page)
    assert len(await local_copies(page)) == 1  # still here for when they sign in again
    await shoot_both(page, "close-4401-revoked")
    assert unexpected(console) == []


async def test_signing_out_in_another_tab_removes_the_local_copy(
    browser: Any, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    server, _ = await gated_server(aiohttp_server, Settings(data_dir=tmp_path / "data"))
    demo = await seed_demo(server.app)
    console = ConsoleWatch()
    panel = await open_panel(browser, server, demo.mentee.signin_path, console, width=1280)
    await typed_line(panel, " typed before signing out")
    assert len(await local_copies(panel)) == 1

    other_tab = console.watch(await panel.context.new_page())
    await other_tab.goto(str(server.make_url("/me")))
    await wait_until_ready(other_tab)
    await other_tab.get_by_role("button", name="Sign out").click()
    await other_tab.wait_for_url(str(server.make_url("/signed-out")))

    kind, words = await problem_of(panel)
    assert kind == "revoked" and "Your access was revoked" in words
    assert "copy anything you need" in words  # nothing is kept in this browser any more
    assert " typed before signing out" in await editor_text(panel)
    await eventually(lambda: _no_copies(panel), what="the local copy removed")
    await shoot_both(panel, "close-4401-signed-out")


async def _no_copies(page: Any) -> bool:
    return await local_copies(page) == []


async def test_erasing_the_mentorship_closes_both_panels_and_removes_local_copies(
    browser: Any, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", erase_grace_days=0)  # erased at once
    server, _ = await gated_server(aiohttp_server, settings)
    demo = await seed_demo(server.app)
    console = ConsoleWatch()
    mentor = await open_panel(browser, server, demo.mentor.signin_path, console, width=420)
    # The mentee's page runs on a clock the test can move on (time flows as usual until then).
    context = await new_context(browser, width=1280)
    await context.clock.install()
    mentee = console.watch(await context.new_page())
    await mentee.goto(str(server.make_url(demo.mentee.signin_path)))
    await wait_until_ready(mentee)
    await wait_connected(mentee, console)
    sockets: list[str] = []
    mentee.on("websocket", lambda ws: sockets.append(ws.url))
    await typed_line(mentee, " the mentee's last words")
    await typed_line(mentor, " the mentor's last words")
    for page in (mentor, mentee):
        assert len(await local_copies(page)) == 1

    # The mentor erases the mentorship on the profile page, in another tab.
    profile = console.watch(await mentor.context.new_page())
    await profile.goto(str(server.make_url("/me")))
    await wait_until_ready(profile)
    await profile.locator(".erase-start").click()
    await profile.locator(".erase-confirm").click()
    await profile.locator(".erase-row").wait_for(state="detached")

    for page, own in ((mentor, " the mentor's last words"), (mentee, " the mentee's last words")):
        kind, words = await problem_of(page)
        assert kind == "erased" and "This mentorship was erased" in words
        assert await status_of(page) == "closed"
        assert own in await editor_text(page)
        await eventually(lambda p=page: _no_copies(p), what="the local copy removed")
    await shoot_both(mentee, "close-4410-erased")

    # Never resent: moved past y-websocket's longest back-off (2.5 s) and past the panel's own
    # checks, the mentee's page opened no socket to the notes again.
    notes_sockets = [url for url in sockets if "/ws/notes/" in url]
    await mentee.clock.run_for(60_000)
    await mentee.evaluate("() => new Promise((done) => setTimeout(done, 0))")  # events delivered
    assert [url for url in sockets if "/ws/notes/" in url] == notes_sockets
    assert await status_of(mentee) == "closed"
    auth = {"Authorization": f"Bearer {demo.mentee.token}"}
    url = server.make_url(f"/api/v1/meetings/{demo.meeting_id}/notes")
    async with aiohttp.ClientSession(headers=auth) as session, session.get(url) as response:
        assert response.status == 404  # the meeting and its notes are not back


async def test_a_connection_problem_says_reloading_helps(
    browser: Any, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    server, _ = await gated_server(aiohttp_server, Settings(data_dir=tmp_path / "data"))
    demo = await seed_demo(server.app)
    console = ConsoleWatch()
    for code, shot in ((4400, "close-4400-problem"), (1009, "close-1009-too-big")):
        page = await open_panel(browser, server, await _signin(server, demo), console, width=420)
        words = f" typed before {code}"
        await typed_line(page, words)
        await wait_stored(server, demo, words)
        assert await close_notes_sockets(server, code, "test") == 1
        kind, message = await problem_of(page)
        assert kind == "broken"
        assert "This connection had a problem" in message and "reload the page" in message.lower()
        assert await status_of(page) == "closed"
        assert words in await editor_text(page)
        await shoot_both(page, shot)
        # Reloading helps: the panel connects again and has everything.
        await page.reload()
        await wait_until_ready(page)
        await show_notes(page)
        await wait_connected(page, console)
        await wait_for_text(page, lambda text, w=words: w in text)
        await page.context.close()
    assert unexpected(console) == []


async def test_full_notes_drop_the_refused_change_so_reloading_works(
    browser: Any, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", notes_max_document_bytes=4096)
    server, _ = await gated_server(aiohttp_server, settings)
    demo = await seed_demo(server.app)
    console = ConsoleWatch()
    page = await open_panel(browser, server, demo.mentor.signin_path, console, width=1280)
    await place_cursor(page, "end of document")
    await page.keyboard.insert_text("A long paste. " * 400)  # one edit of 5,600 characters
    kind, words = await problem_of(page)
    assert kind == "full" and "These notes are full" in words
    assert "A long paste." in await editor_text(page)  # on screen, to copy
    # The refused change is not kept: every later visit would send it and be refused again.
    await eventually(lambda: _no_copies(page), what="the refused change dropped")
    await page.reload()
    await wait_until_ready(page)
    await wait_connected(page, console)
    assert "A long paste." not in await editor_text(page)
    assert await page.locator("#notes-editor .cm-content[contenteditable=true]").count() == 1
    assert unexpected(console) == []


async def _signin(server: TestServer, demo: DemoSeed, who: str = "mentor") -> str:
    """A fresh one-time sign-in link into the demo meeting (each context needs its own)."""
    person = demo.mentor if who == "mentor" else demo.mentee
    code = await server.app[REPOS].tokens.create_signin_link(person.id, timedelta(minutes=10))
    return f"/signin/{code}?next=/meetings/{demo.meeting_id}"


# --- offline: closed tab, crashed browser ------------------------------------------------------


async def test_edits_typed_offline_survive_a_closed_tab(
    browser: Any, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = await aiohttp_server(create_app(settings))
    port = first.port
    demo = await seed_demo(first.app)
    console = ConsoleWatch()
    mentor = await open_panel(browser, first, demo.mentor.signin_path, console, width=1280)
    mentee = await open_panel(browser, first, demo.mentee.signin_path, console, width=400)
    [name] = await local_copies(mentee)
    assert name == f"{LOCAL_PREFIX}{demo.mentorship_id}.{demo.meeting_id}"

    await first.close()  # the service goes away; both panels say so
    for page in (mentor, mentee):
        await page.locator('#notes .notes-status[data-connection="reconnecting"]').wait_for()
    await place_cursor(mentee, "end of document")
    await mentee.keyboard.type("Typed offline, ", delay=5)
    offline = "then the tab was closed"
    await mentee.keyboard.insert_text(offline)  # one update holding these words
    await wait_for_text(mentee, lambda text: text.endswith("Typed offline, " + offline))
    await shoot_both(mentee, "offline-kept-in-this-browser")
    assert offline in await local_bytes(mentee, name)  # on disk now
    context = mentee.context
    await mentee.close()

    second = await aiohttp_server(create_app(settings), port=port)
    await wait_connected(mentor, console)  # the mentor's panel came back by itself
    assert offline not in await editor_text(mentor)
    reopened = console.watch(await context.new_page())
    await reopened.goto(str(second.make_url(f"/meetings/{demo.meeting_id}")))
    await wait_until_ready(reopened)
    await show_notes(reopened)
    await wait_connected(reopened, console)
    await wait_for_text(mentor, lambda text: text.endswith("Typed offline, " + offline))
    await wait_for_text(reopened, lambda text: text.endswith("Typed offline, " + offline))
    assert (await editor_text(reopened)).count(offline) == 1
    await wait_stored(second, demo, offline)
    assert unexpected(console) == []


def _browser_pid(user_data_dir: Path) -> int:
    """The main Chromium process started with this (unique) profile folder: the one we launched."""
    flag = f"--user-data-dir={user_data_dir}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        is_main = not any(a.startswith(b"--type=") for a in args)  # not a renderer, GPU, ...
        if flag in args and is_main and b"chromium" in args[0]:
            return int(entry.name)
    raise AssertionError(f"no browser process with {flag!r}")


@contextlib.asynccontextmanager
async def persistent_browser(user_data_dir: Path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            viewport={"width": 400, "height": 800},
            locale="en-GB",
        )
        await context.add_init_script(REPORT_CSP_VIOLATIONS)
        try:
            yield context
        finally:
            with contextlib.suppress(Exception):
                await context.close()


async def test_edits_typed_offline_survive_a_crashed_browser(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = await aiohttp_server(create_app(settings))
    port = first.port
    demo = await seed_demo(first.app)
    console = ConsoleWatch()
    profile = tmp_path / "chromium-profile"
    offline = "typed offline just before the browser crashed"

    async with persistent_browser(profile) as context:
        page = console.watch(await context.new_page())
        await page.goto(str(first.make_url(demo.mentee.signin_path)))
        await wait_until_ready(page)
        await show_notes(page)
        await wait_connected(page, console)
        [name] = await local_copies(page)
        await first.close()
        await page.locator('#notes .notes-status[data-connection="reconnecting"]').wait_for()
        await place_cursor(page, "end of document")
        await page.keyboard.insert_text(offline)
        await wait_for_text(page, lambda text: text.endswith(offline))
        assert offline in await local_bytes(page, name)
        os.kill(_browser_pid(profile), signal.SIGKILL)  # no shutdown, no flush: a crash
        await page.wait_for_event("close")

    second = await aiohttp_server(create_app(settings), port=port)
    async with persistent_browser(profile) as context:
        page = console.watch(await context.new_page())
        # The session cookie may not have reached the disk before the crash: sign in anew.
        await page.goto(str(second.make_url(await _signin(second, demo, "mentee"))))
        await wait_until_ready(page)
        await show_notes(page)
        await wait_connected(page, console)
        await wait_for_text(page, lambda text: text.endswith(offline))
    text = await wait_stored(second, demo, offline)
    assert text.count(offline) == 1
    assert unexpected(console) == []
