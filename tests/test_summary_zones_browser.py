"""Time zones in a real browser (issue 14, point 5): after the meeting each person's panel shows
the summary in their own zone, with the other person's in brackets; the time zone picker offers
the current IANA names even where Chromium reports an old one, and finds the old name too.

Screenshots: /tmp/shots/summary/ended-{mentor,mentee}-{400,1280}.png, picker-400.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from sidecar.demo import DemoSeed
from sidecar.meeting_lifecycle import end_meeting
from tests.browser_support import (
    ConsoleWatch,
    new_context,
    requires_chromium,
    screenshot,
    wait_until_ready,
)

pytestmark = requires_chromium
SHOTS = "/tmp/shots/summary"


def expect(locator: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(locator)


async def test_each_panel_shows_the_summary_in_its_readers_zone(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch, tmp_path: Path
) -> None:
    pages = {}
    for person, width in ((demo.mentor, 400), (demo.mentee, 1280)):
        context = await new_context(browser, width=width, timezone_id=person.timezone)
        page = console.watch(await context.new_page())
        await page.goto(str(server.make_url(person.signin_path)))
        await wait_until_ready(page)
        pages[person.role] = page
    # The call platform ends it (the demo meeting is still ahead: the panel would refuse).
    assert await end_meeting(server.app, demo.meeting_id, source="jitsi", actor=None)

    for person, other in ((demo.mentor, demo.mentee), (demo.mentee, demo.mentor)):
        page = pages[person.role]
        body = page.locator("#meeting-ended .summary-body")
        await expect(body).to_contain_text("When:", timeout=30_000)
        when = next(
            line for line in (await body.inner_text()).splitlines() if line.startswith("When:")
        )
        # "When: Tuesday 1 December 2026 at 22:15 (Asia/Kolkata); 16:45 for Helena (Europe/Lisbon)"
        mine, _, theirs = when.partition(";")
        assert f"({person.timezone})" in mine, when
        assert f"for {other.name.split()[0]} ({other.timezone})" in theirs, when
        width = 400 if person is demo.mentor else 1280
        await screenshot(
            page, tmp_path, "ended.png", copy_to=f"{SHOTS}/ended-{person.role}-{width}.png"
        )
    assert console.unexpected() == []


async def test_the_picker_offers_current_names_and_finds_old_ones(
    browser: Any, server: TestServer, console: ConsoleWatch, tmp_path: Path
) -> None:
    # Chromium calls India's zone "Asia/Calcutta"; the form must start on "Asia/Kolkata".
    context = await new_context(browser, width=400, timezone_id="Asia/Calcutta")
    page = console.watch(await context.new_page())
    await page.goto(str(server.make_url("/")))
    await wait_until_ready(page)
    select = page.locator('select[name="me.timezone"]')
    await expect(select).to_have_value("Asia/Kolkata")
    values = await select.locator("option").evaluate_all("(os) => os.map((o) => o.value)")
    labels = await select.locator("option").all_inner_texts()
    assert "Asia/Calcutta" not in values and "Europe/Kiev" not in values
    assert {"Asia/Kolkata", "Europe/Kyiv", "Asia/Ho_Chi_Minh"} <= set(values)
    assert "Asia/Calcutta (now Asia/Kolkata)" in labels
    assert await select.evaluate("(s) => s.selectedOptions[0].label") == "Asia/Kolkata"

    # Typing an old name in the list picks the current one.
    await select.select_option("UTC")
    await select.focus()
    await page.keyboard.type("Europe/Kiev", delay=20)
    await expect(select).to_have_value("Europe/Kyiv")
    await screenshot(page, tmp_path, "picker.png", copy_to=f"{SHOTS}/picker-400.png")
    assert console.unexpected((401, "/api/v1/me")) == []  # the home page asks who is there
