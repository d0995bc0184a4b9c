"""The live notes editor in a real browser: mentor and mentee type into the panel at once.

Two headless Chromium contexts (Debian's /usr/bin/chromium through Playwright's async API):
the mentor in a narrow Zoom-like side panel, the mentee in a wide window. Screenshots of the
notes are copied to /tmp/notes-mentor.png and /tmp/notes-mentee.png for a human to look at.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from sidecar.app import create_app
from sidecar.demo import DemoSeed, seed_demo
from sidecar.settings import Settings
from tests.browser_support import (
    ConsoleWatch,
    new_context,
    requires_chromium,
    screenshot,
    wait_until_ready,
)
from tests.waiting import eventually

pytestmark = requires_chromium

try:
    from playwright.async_api import TimeoutError as PlaywrightTimeout
except ImportError:  # pragma: no cover - the tests are skipped then
    PlaywrightTimeout = TimeoutError  # type: ignore[assignment,misc]

ServerFactory = Callable[..., Awaitable[TestServer]]
HEADING = re.compile(r"# Weekly check-in \(\d{4}-\d{2}-\d{2}\)")

# The document as the person sees it: each rendered line's text, without the other person's
# cursor widget (caret, name tag, word joiners) or the empty-editor placeholder.
EDITOR_TEXT = """
(root) => [...root.querySelectorAll(".cm-content .cm-line")].map((line) => {
  const copy = line.cloneNode(true);
  copy.querySelectorAll(".cm-ySelectionCaret, .cm-placeholder").forEach((n) => n.remove());
  return copy.textContent.replace(/\\u2060/g, "");
}).join("\\n")
"""


async def open_panel(
    browser: Any, server: TestServer, path: str, console: ConsoleWatch, width: int
) -> Any:
    context = await new_context(browser, width=width)
    page = console.watch(await context.new_page())
    await page.goto(str(server.make_url(path)))
    await wait_until_ready(page)
    await show_notes(page)
    await wait_connected(page, console)
    return page


async def show_notes(page: Any) -> None:
    """On a narrow panel the notes are one tab of several: pick it (a person would)."""
    tab = page.locator("#tab-notes")
    if await tab.count() and await tab.is_visible():
        await tab.click()


async def wait_connected(page: Any, console: ConsoleWatch, within: float = 10) -> None:
    status = page.locator("#notes .notes-status")
    try:
        await page.locator('#notes .notes-status[data-connection="connected"]').wait_for(
            state="attached", timeout=within * 1000
        )
    except PlaywrightTimeout:
        state = await status.get_attribute("data-connection")
        problems = [str(p) for p in console.problems]
        raise AssertionError(f"the notes never connected: status {state!r}, {problems}") from None


SHOTS = Path("/tmp/shots/notes-panel")


async def shoot_both(page: Any, name: str) -> None:
    """The notes card on screen at 400x800 (Zoom's side panel) and 1280x800, for a human."""
    before = page.viewport_size
    for width in (400, 1280):
        await page.set_viewport_size({"width": width, "height": 800})
        # Below the tab bar, which stays on top while the page scrolls.
        await page.locator("section#notes").evaluate(
            "(el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 64)"
        )
        await page.screenshot(path=str(SHOTS / f"{name}-{width}.png"))
    if before:
        await page.set_viewport_size(before)


# Every value the notes status takes from now on, in order (a MutationObserver in the page).
RECORD_STATUSES = """
() => {
  const status = document.querySelector("#notes .notes-status");
  window.__notesStatuses = [];
  new MutationObserver(() => window.__notesStatuses.push(status.dataset.connection))
    .observe(status, { attributes: true, attributeFilter: ["data-connection"] });
}
"""


async def editor_text(page: Any) -> str:
    text: str = await page.locator("#notes-editor").evaluate(EDITOR_TEXT)
    return text


async def wait_for_text(page: Any, check: Callable[[str], bool], within: float = 30) -> str:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        text = await editor_text(page)
        if check(text):
            return text
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the editor never showed the expected text; it has:\n{text}")
        await asyncio.sleep(0.05)


async def same_text(pages: list[Any], *parts: str, within: float = 30) -> str:
    """Wait until every page shows one identical text containing all `parts`."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        texts = [await editor_text(page) for page in pages]
        if len(set(texts)) == 1 and all(part in texts[0] for part in parts):
            return texts[0]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the editors did not converge: {texts!r}")
        await asyncio.sleep(0.05)


async def rest_notes(server: TestServer, token: str, meeting_id: str) -> str:
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session,
        session.get(server.make_url(f"/api/v1/meetings/{meeting_id}/notes")) as response,
    ):
        assert response.status == 200, await response.text()
        markdown: str = (await response.json())["markdown"]
        return markdown


async def place_cursor(page: Any, where: str) -> None:
    """Click into the editor, then go to the end of the first line or of the document."""
    await page.locator("#notes-editor .cm-content").click()
    if where == "end of first line":
        await page.keyboard.press("Control+Home")
        await page.keyboard.press("End")
    else:
        await page.keyboard.press("Control+End")


async def test_mentor_and_mentee_type_at_once_and_see_the_same_notes(
    browser: Any, server: TestServer, demo: DemoSeed, tmp_path: Path
) -> None:
    console = ConsoleWatch()
    mentor = await open_panel(browser, server, demo.mentor.signin_path, console, width=420)
    mentee = await open_panel(browser, server, demo.mentee.signin_path, console, width=1200)
    pages = [mentor, mentee]

    # Both start from the dated first line the service wrote.
    first = await same_text(pages, "# Weekly check-in")
    assert HEADING.match(first), first
    assert await rest_notes(server, demo.mentor.token, demo.meeting_id) == first
    for page in pages:
        assert await page.locator("#notes .pill--soon").count() == 0
        assert await page.locator("#notes-editor .cm-content[contenteditable=true]").count() == 1

    # At once: Helena at the end of the heading line, Arjun on the empty line below.
    helena_1 = " - shared notes"
    arjun_1 = "Arjun: the case study draft is ready for review"
    await place_cursor(mentor, "end of first line")
    await place_cursor(mentee, "end of document")
    await asyncio.gather(
        mentor.keyboard.type(helena_1, delay=15),
        mentee.keyboard.type(arjun_1, delay=15),
    )
    text = await same_text(pages, helena_1, arjun_1)
    assert text.split("\n")[0] == first.split("\n")[0] + helena_1
    assert text.split("\n")[2] == arjun_1

    # Then both into the same line, at the same spot, at the same time.
    helena_2 = " (Helena: agreed, weekly)"
    arjun_2 = " (Arjun: I'll share it on Friday)"
    await place_cursor(mentor, "end of document")
    await place_cursor(mentee, "end of document")
    await asyncio.gather(
        mentor.keyboard.type(helena_2, delay=10),
        mentee.keyboard.type(arjun_2, delay=10),
    )
    text = await same_text(pages, helena_2, arjun_2)
    for part in (helena_1, arjun_1, helena_2, arjun_2):
        assert text.count(part) == 1, (part, text)
    last = text.split("\n")[2]
    assert last.startswith(arjun_1) and helena_2 in last and arjun_2 in last

    # A next step in Markdown, typed by the mentee, for the screenshot and the summary later.
    task = "- [ ] Share the critique agenda @mentee by 2026-12-03"
    await mentee.keyboard.press("Control+End")
    await mentee.keyboard.press("Enter")
    await mentee.keyboard.type(task, delay=2)
    await mentor.keyboard.type(" ok", delay=10)  # keeps Helena's cursor on the shared line
    text = await same_text(pages, task, " ok")
    assert HEADING.match(text)

    # The service holds exactly what both editors show.
    assert await rest_notes(server, demo.mentee.token, demo.meeting_id) == text

    # Each sees the other's cursor with the other's name (while the other is active), and who
    # else is here.
    await asyncio.gather(mentor.keyboard.press("Home"), mentee.keyboard.press("End"))
    for page, other in ((mentor, demo.mentee.name), (mentee, demo.mentor.name)):
        tag = page.locator("#notes-editor .cm-ySelectionInfo--active", has_text=other)
        await tag.wait_for()
        assert await tag.evaluate("(el) => getComputedStyle(el).opacity") == "1"
        presence = page.locator("#notes .notes-presence")
        await presence.locator(".presence-chip", has_text=other).wait_for()
        status = page.locator("#notes .notes-status")
        assert await status.get_attribute("data-connection") == "connected"
        assert (await status.inner_text()).strip() == "Connected"
        help_text = await page.locator("#notes .notes-help").inner_text()
        assert "- [ ] next step @mentee by 2026-12-03" in help_text and "Agreed:" in help_text
    caret_style = await mentor.locator("#notes-editor .cm-ySelectionCaret").get_attribute("style")
    assert "#0b6b63" in (caret_style or ""), f"the mentee's cursor is not teal: {caret_style}"
    caret_style = await mentee.locator("#notes-editor .cm-ySelectionCaret").get_attribute("style")
    assert "#5a45b8" in (caret_style or ""), f"the mentor's cursor is not purple: {caret_style}"

    for page, name in ((mentor, "notes-mentor.png"), (mentee, "notes-mentee.png")):
        notes = page.locator("section#notes")
        await notes.scroll_into_view_if_needed()
        await notes.screenshot(path=str(tmp_path / name))
        shutil.copyfile(tmp_path / name, f"/tmp/{name}")
        await screenshot(page, tmp_path, f"full-{name}")

    # Once the other person pauses, the name tag steps aside so it hides no text.
    await mentor.locator("#notes-editor .cm-ySelectionInfo--active").wait_for(
        state="detached", timeout=30_000
    )
    assert await mentor.locator(
        "#notes-editor .cm-ySelectionInfo", has_text=demo.mentee.name
    ).count()

    assert console.unexpected() == []


def socket_noise(problem: Any) -> bool:
    """Chromium's own console lines while the service is down: a notes socket that could not
    connect, and the panel asking the API (unreachable too) why it keeps failing."""
    text = problem.text
    return ("WebSocket connection to" in text and "/ws/notes/" in text) or (
        "net::ERR_CONNECTION_REFUSED" in text
    )


async def test_the_editor_says_when_it_is_offline_and_catches_up(
    browser: Any, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = await aiohttp_server(create_app(settings))
    port = first.port
    demo = await seed_demo(first.app)
    console = ConsoleWatch()
    page = await open_panel(browser, first, demo.mentee.signin_path, console, width=420)
    status = page.locator("#notes .notes-status")
    await place_cursor(page, "end of document")
    await page.keyboard.type("Typed while connected", delay=5)
    await wait_for_text(page, lambda text: "Typed while connected" in text)

    async def stored() -> bool:
        notes = await rest_notes(first, demo.mentee.token, demo.meeting_id)
        return "Typed while connected" in notes

    await eventually(stored, what="the last keystroke at the service")

    # The service goes away (closing the socket with 1001): the status says so, typing goes on.
    await first.close()
    await page.locator('#notes .notes-status[data-connection="reconnecting"]').wait_for()
    assert "your edits are kept in this browser and sync" in await status.inner_text()
    presence = page.locator("#notes .notes-presence")
    assert (await presence.inner_text()).strip() == "You"  # nobody known while offline
    offline = " - and this while the service was away"
    await page.keyboard.type(offline, delay=5)
    assert await page.locator("#notes-editor .cm-content[contenteditable=true]").count() == 1
    notes = page.locator("section#notes")
    await notes.screenshot(path=str(tmp_path / "notes-offline.png"))
    shutil.copyfile(tmp_path / "notes-offline.png", "/tmp/notes-offline.png")

    # Back on the same port: the page reconnects by itself and its offline typing is stored.
    second = await aiohttp_server(create_app(settings), port=port)
    await wait_connected(page, console)
    text = await editor_text(page)
    assert text.endswith("Typed while connected" + offline)

    async def caught_up() -> bool:
        return await rest_notes(second, demo.mentee.token, demo.meeting_id) == text

    await eventually(caught_up, what="the offline edit at the service")
    assert [str(p) for p in console.problems if not socket_noise(p)] == []


async def test_notes_over_the_size_limit_stop_with_a_clear_message(
    browser: Any, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", notes_max_document_bytes=4096)
    server = await aiohttp_server(create_app(settings))
    demo = await seed_demo(server.app)
    console = ConsoleWatch()
    page = await open_panel(browser, server, demo.mentor.signin_path, console, width=1000)
    await place_cursor(page, "end of document")
    await page.keyboard.insert_text("A long paste. " * 400)  # one edit of 5,600 characters

    await page.locator('#notes .notes-status[data-connection="closed"]').wait_for()
    problem = page.locator("#notes .notes-problem")
    await problem.wait_for()
    assert "These notes are full" in await problem.inner_text()
    assert "size limit" in await problem.inner_text()
    assert "next meeting's notes" in await problem.inner_text()
    assert await page.locator("#notes-editor .cm-content[contenteditable=false]").count() == 1
    await asyncio.sleep(1.2)  # y-websocket would have retried by now: it must not
    assert await page.get_attribute("#notes .notes-status", "data-connection") == "closed"
    assert "A long paste." not in await rest_notes(server, demo.mentor.token, demo.meeting_id)
    assert "A long paste." in await editor_text(page)  # what was typed stays on screen
    await page.locator("section#notes").screenshot(path=str(tmp_path / "notes-too-large.png"))
    await shoot_both(page, "close-4413-full")
    assert console.unexpected() == []


async def test_holding_a_key_down_for_ten_seconds_stays_connected(
    browser: Any, server: TestServer, demo: DemoSeed
) -> None:
    """Auto-repeat at about 30 keys a second for 10 s: one update and one cursor move each."""
    console = ConsoleWatch()
    mentor = await open_panel(browser, server, demo.mentor.signin_path, console, width=420)
    mentee = await open_panel(browser, server, demo.mentee.signin_path, console, width=1200)
    for page in (mentor, mentee):
        await page.evaluate(RECORD_STATUSES)
    await place_cursor(mentee, "end of document")

    loop = asyncio.get_running_loop()
    start, presses = loop.time(), 0
    while loop.time() < start + 10:
        await mentee.keyboard.down("k")  # pressed again while down: a repeat, as when held
        presses += 1
        # The pace of a key held down (30 a second), not a synchronisation.
        await asyncio.sleep(max(0, start + presses / 30 - loop.time()))
    await mentee.keyboard.up("k")

    text = await same_text([mentor, mentee], "k" * presses, within=20)
    assert "k" * (presses + 1) not in text
    for page in (mentor, mentee):
        assert await page.evaluate("window.__notesStatuses") == [], "a panel lost its connection"
        assert await page.get_attribute("#notes .notes-status", "data-connection") == "connected"
        assert await page.locator("#notes .notes-problem").is_hidden()
    assert await rest_notes(server, demo.mentor.token, demo.meeting_id) == text
    assert console.unexpected() == []
