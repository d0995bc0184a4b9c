"""The panel's layout in a real browser, at the Zoom side panel's width (400 px) and wide (1280 px).

Every page fits its width (no sideways scroll); during a live meeting the notes editor starts in
the first 400 px; the meeting panel's tabs work with the keyboard. Screenshots of every state at
both sizes go to /tmp/shots/panel/ for a human to look at.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from sidecar.demo import DemoSeed
from sidecar.domain.ids import utcnow
from sidecar.keys import REPOS
from sidecar.meeting_lifecycle import end_meeting
from tests.browser_support import ConsoleWatch, new_context, requires_chromium, wait_until_ready

pytestmark = requires_chromium

SHOTS = Path("/tmp/shots/panel")
SIZES = ((400, 800), (1280, 800))
NO_SIDEWAYS_SCROLL = (
    "() => { const s = document.scrollingElement;"
    " return {scroll: s.scrollWidth, client: s.clientWidth}; }"
)


async def signin(server: TestServer, person_id: str, then: str) -> str:
    """A fresh one-time sign-in path (each link works once) that lands on `then`."""
    code = await server.app[REPOS].tokens.create_signin_link(person_id, timedelta(minutes=5))
    return f"/signin/{code}?next={then}"


async def open_page(
    browser: Any, server: TestServer, path: str, console: ConsoleWatch, size: tuple[int, int]
) -> Any:
    context = await new_context(browser, width=size[0], height=size[1])
    page = console.watch(await context.new_page())
    await page.goto(str(server.make_url(path)))
    await wait_until_ready(page)
    return page


async def fits(page: Any, name: str, size: tuple[int, int]) -> None:
    """No sideways scroll; a full-page screenshot for a human."""
    await page.screenshot(path=str(SHOTS / f"{name}-{size[0]}.png"), full_page=True)
    widths = await page.evaluate(NO_SIDEWAYS_SCROLL)
    assert widths["scroll"] <= widths["client"], (name, size, widths)


async def make_live(server: TestServer, demo: DemoSeed) -> None:
    start = utcnow() - timedelta(minutes=12)
    await server.app[REPOS].meetings.update(
        demo.meeting_id,
        {
            "status": "live",
            "scheduled_start": start,
            "scheduled_end": start + timedelta(minutes=45),
        },
        viewer=demo.mentor.id,
    )


async def test_panel_before_live_and_after_fit_both_sizes(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    # Before: the agenda comes first, the countdown reads as a duration.
    for size in SIZES:
        path = await signin(server, demo.mentee.id, f"/meetings/{demo.meeting_id}")
        page = await open_page(browser, server, path, console, size)
        status = await page.locator(".status").inner_text()
        assert status.startswith("Starts in ") and status.endswith(" min"), status
        agenda = await page.locator("#agenda").bounding_box()
        assert agenda is not None and agenda["y"] < size[1], "the agenda is in view"
        await fits(page, "before", size)
        await page.context.close()

    # Live: the notes first, their editor's top in the first 400 px, one scroll area.
    await make_live(server, demo)
    for size in SIZES:
        path = await signin(server, demo.mentor.id, f"/meetings/{demo.meeting_id}")
        page = await open_page(browser, server, path, console, size)
        await page.locator('.notes-status[data-connection="connected"]').wait_for()
        await page.screenshot(path=str(SHOTS / f"live-first-{size[0]}.png"))
        selected = page.locator('[role=tab][aria-selected="true"]')
        assert await selected.inner_text() == "Notes"
        top = await page.locator("#notes-editor").evaluate("e => e.getBoundingClientRect().top")
        assert top < 400, (size, top)
        # The editor grows with its content instead of scrolling inside the page.
        editor = page.locator("#notes-editor .cm-content")
        await editor.click()
        await page.keyboard.press("Control+End")
        for n in range(40):
            await page.keyboard.type(f"\nline {n}")
        scroller = await page.locator("#notes-editor .cm-scroller").evaluate(
            "e => ({scroll: e.scrollHeight, client: e.clientHeight})"
        )
        assert scroller["scroll"] <= scroller["client"] + 1, scroller
        agenda = await page.locator("#agenda").bounding_box()
        if size[0] >= 1024:  # wide: the agenda beside the notes, a compact checklist
            notes = await page.locator("#notes").bounding_box()
            assert agenda and notes and agenda["x"] > notes["x"] + notes["width"] - 1
        await page.evaluate("window.scrollTo(0, 0)")
        await fits(page, "live", size)
        await page.context.close()

    # After: the summary first.
    await end_meeting(server.app, demo.meeting_id, source="panel", actor=demo.mentor.id)
    for size in SIZES:
        path = await signin(server, demo.mentee.id, f"/meetings/{demo.meeting_id}")
        page = await open_page(browser, server, path, console, size)
        await page.locator("#meeting-ended").wait_for()
        ended = await page.locator("#meeting-ended").bounding_box()
        assert ended is not None and ended["y"] < size[1]
        assert "ended" in (await page.locator(".status").inner_text()).lower()
        await fits(page, "after", size)
        await page.context.close()
    assert console.unexpected((404, "/summary")) == []


async def test_tabs_work_with_the_keyboard(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    await make_live(server, demo)
    page = await open_page(browser, server, demo.mentee.signin_path, console, (400, 800))
    tabs = page.get_by_role("tab")
    assert await tabs.all_inner_texts() == ["Notes", "Agenda", "Next steps", "Wrap-up"]
    notes_tab = page.get_by_role("tab", name="Notes")
    assert await notes_tab.get_attribute("aria-selected") == "true"
    await notes_tab.focus()
    await page.keyboard.press("ArrowRight")
    agenda_tab = page.get_by_role("tab", name="Agenda")
    assert await agenda_tab.get_attribute("aria-selected") == "true"
    assert await page.evaluate("document.activeElement.textContent") == "Agenda"
    assert await page.locator("#agenda").is_visible()
    assert not await page.locator("#notes").is_visible()
    await page.keyboard.press("End")
    assert await page.get_by_role("tab", name="Wrap-up").get_attribute("aria-selected") == "true"
    assert await page.locator("#wrap-up").is_visible()
    await page.keyboard.press("ArrowRight")  # wraps around
    assert await notes_tab.get_attribute("aria-selected") == "true"
    panel_id = await notes_tab.get_attribute("aria-controls")
    assert await page.locator(f"#{panel_id}").get_attribute("role") == "tabpanel"
    await page.get_by_role("tab", name="Next steps").click()
    assert await page.locator("#goals").is_visible()
    assert await page.locator("#action-items").is_visible()
    await fits(page, "live-next-steps", (400, 800))
    await page.get_by_role("tab", name="Agenda").click()
    await fits(page, "live-agenda", (400, 800))
    assert console.unexpected() == []


async def test_every_page_fits_both_sizes(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    repos = server.app[REPOS]
    waiting = await repos.mentorships.create(demo.mentor.id, "mentor", "Design leadership")
    code, _ = await repos.mentorships.create_invite(
        waiting.id, timedelta(hours=1), viewer=demo.mentor.id
    )
    for size in SIZES:
        signed_out = await open_page(browser, server, "/", console, size)
        await fits(signed_out, "home-signed-out", size)
        await signed_out.goto(str(server.make_url(f"/invite/{code}")))
        await wait_until_ready(signed_out)
        await fits(signed_out, "invite", size)
        await signed_out.context.close()

        path = await signin(server, demo.mentee.id, "/")
        page = await open_page(browser, server, path, console, size)
        for name, path in (
            ("home", "/"),
            ("agreement", f"/mentorships/{demo.mentorship_id}/agreement"),
            ("profile", "/me"),
        ):
            await page.goto(str(server.make_url(path)))
            await wait_until_ready(page)
            await fits(page, name, size)
        await page.context.close()
    assert console.unexpected((401, "/api/v1/me")) == []


async def test_the_wrap_up_tab_says_when_the_preview_opened(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    """Ten minutes before the end the summary preview opens by itself, in a tab the person may
    not be looking at: the tab gets a dot until it is opened."""
    start = utcnow() - timedelta(minutes=40)
    await server.app[REPOS].meetings.update(
        demo.meeting_id,
        {
            "status": "live",
            "scheduled_start": start,
            "scheduled_end": start + timedelta(minutes=45),
        },
        viewer=demo.mentor.id,
    )
    path = await signin(server, demo.mentee.id, f"/meetings/{demo.meeting_id}")
    page = await open_page(browser, server, path, console, (400, 800))
    wrapup_tab = page.get_by_role("tab", name="Wrap-up")
    await page.locator(".tab--news[data-tab=wrapup]").wait_for()
    assert await wrapup_tab.get_attribute("aria-description") == "the summary preview is ready"
    await wrapup_tab.click()
    assert await page.locator(".tab--news").count() == 0
    assert await page.locator("#wrap-up .wrapup-content").is_visible()
    assert console.unexpected() == []
