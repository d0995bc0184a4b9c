"""After the call, in a real browser against the real service: the wrap-up preview follows the
notes, the mentor ends the meeting, both panels show the ended state with the summary, and the
real SMTP server receives one summary email per person.

Screenshots: /tmp/wrapup-mentee.png (1280 px), /tmp/ended-mentor.png (420 px).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from sidecar.demo import MENTEE_EMAIL, MENTOR_EMAIL, DemoSeed
from sidecar.domain.ids import utcnow
from sidecar.keys import DATABASE, REPOS
from tests.browser_support import (
    ConsoleWatch,
    new_context,
    requires_chromium,
    screenshot,
    wait_until_ready,
)
from tests.smtp_server import SmtpServer
from tests.waiting import eventually, outbox_empty

pytestmark = requires_chromium

AGREED = "Agreed: we meet on Tuesdays"


def expect(locator: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(locator)


async def open_panel(
    browser: Any, server: TestServer, signin_path: str, console: ConsoleWatch, width: int
) -> Any:
    context = await new_context(browser, width=width)
    page = console.watch(await context.new_page())
    await page.goto(str(server.make_url(signin_path)))
    await wait_until_ready(page)
    await page.locator('.notes-status[data-connection="connected"]').wait_for()
    return page


async def start_now(server: TestServer, demo: DemoSeed) -> None:
    """The demo's meeting starts in half an hour; End appears once its window opens, so these
    tests hold it now (moved to have started five minutes ago)."""
    start = utcnow() - timedelta(minutes=5)
    await server.app[REPOS].meetings.update(
        demo.meeting_id,
        {"scheduled_start": start, "scheduled_end": start + timedelta(minutes=45)},
        viewer=demo.mentor.id,
    )


async def wait_for_mail(smtp: SmtpServer, count: int) -> None:
    """Until the SMTP server holds `count` messages."""
    await eventually(lambda: len(smtp.inbox.messages) >= count, what=f"{count} emails")


async def test_wrap_up_end_meeting_and_summary(
    browser: Any,
    server: TestServer,
    demo: DemoSeed,
    console: ConsoleWatch,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    await start_now(server, demo)
    mentor = await open_panel(browser, server, demo.mentor.signin_path, console, width=420)
    mentee = await open_panel(browser, server, demo.mentee.signin_path, console, width=1280)
    before = len(smtp.inbox.messages)  # e.g. reminders already sent by the seed

    # Not near the end yet: the wrap-up card (in its tab) waits for "Preview the summary".
    await mentee.get_by_role("tab", name="Wrap-up").click()
    wrapup = mentee.locator("#wrap-up")
    await expect(wrapup.locator(".wrapup-content")).to_be_hidden()
    await wrapup.get_by_role("button", name="Preview the summary").click()
    await expect(wrapup.locator(".summary-body")).to_contain_text("Summary", timeout=30_000)
    assert "@mentee by" in await wrapup.locator(".wrapup-help").inner_text()

    # The mentee writes an agreement into the live notes; the preview picks it up.
    await mentee.get_by_role("tab", name="Notes").click()
    editor = mentee.locator("#notes-editor .cm-content")
    await editor.click()
    await mentee.keyboard.press("Control+End")
    await mentee.keyboard.press("Enter")
    await mentee.keyboard.type(AGREED)
    await mentee.get_by_role("tab", name="Wrap-up").click()
    await expect(wrapup.locator(".summary-body")).to_contain_text(
        "we meet on Tuesdays", timeout=30_000
    )
    await screenshot(mentee, tmp_path, "wrapup-mentee.png", copy_to="/tmp/wrapup-mentee.png")

    # The mentor ends the call, after the confirm step.
    await mentor.get_by_role("button", name="End meeting").click()
    confirm = mentor.locator(".end-confirm")
    await expect(confirm).to_contain_text("End the call for both of you and send the summary?")
    await confirm.get_by_role("button", name="End and send").click()

    for page in (mentor, mentee):
        ended = page.locator("#meeting-ended")
        await expect(ended).to_be_visible(timeout=30_000)
        await expect(ended.locator(".summary-body")).to_contain_text(
            "we meet on Tuesdays", timeout=30_000
        )
        await expect(page.get_by_role("button", name="End meeting")).to_be_hidden()
        await expect(page.locator("#wrap-up")).to_be_hidden()
        # Delivery: one line per person, each "Sent to … at HH:MM" once the outbox has run.
        lines = ended.locator(".delivery")
        await expect(lines).to_have_count(2, timeout=30_000)
        await expect(ended.locator('.delivery[data-state="sent"]')).to_have_count(2, timeout=30_000)
        await expect(lines.first).to_contain_text("Sent to")

    # Exactly one summary email per person at the real SMTP server.
    await wait_for_mail(smtp, before + 2)
    await outbox_empty(server.app[DATABASE])  # nothing more can arrive
    summaries = [m for m in smtp.inbox.messages[before:] if "Summary" in str(m["Subject"])]
    for address in (MENTOR_EMAIL, MENTEE_EMAIL):
        mine = [m for m in summaries if address in str(m["To"])]
        assert len(mine) == 1, [str(m["Subject"]) for m in smtp.inbox.messages]
        body = mine[0].get_body(("plain",))
        assert body is not None and "we meet on Tuesdays" in body.get_content()

    # The ended meeting is listed under "Past meetings", and search finds the agreement.
    past = mentor.locator("#past-meetings")
    await expect(past.locator(f'[data-meeting-id="{demo.meeting_id}"]')).to_be_visible()
    await past.get_by_label("Search your notes and summaries").fill("Tuesdays")
    await past.get_by_role("button", name="Search").click()
    await expect(past.locator(".snippet strong").first).to_be_visible(timeout=30_000)
    assert await past.get_by_role("link", name="Export everything (.md)").get_attribute("href") == (
        f"/api/v1/mentorships/{demo.mentorship_id}/export.md"
    )
    await screenshot(mentor, tmp_path, "ended-mentor.png", copy_to="/tmp/ended-mentor.png")

    assert console.unexpected() == []
