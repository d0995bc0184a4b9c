"""Fixing meetings in a real browser against the real service: End on a meeting nobody came to
offers to cancel it instead, an upcoming meeting is cancelled after a confirm step in words (and
its panel says so), and an ended meeting is reopened and ended again, sending a corrected summary.
Email is read at the real SMTP server.

Screenshots of each new state at 400x800 and 1280x800: /tmp/shots/meetings/.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from sidecar.demo import MENTEE_EMAIL, MENTOR_EMAIL, DemoSeed
from sidecar.domain.ids import utcnow
from sidecar.keys import DATABASE, REPOS
from tests.browser_support import ConsoleWatch, new_context, requires_chromium, wait_until_ready
from tests.smtp_server import SmtpServer
from tests.test_after_the_call_browser import expect, start_now
from tests.waiting import eventually, outbox_empty

pytestmark = requires_chromium
SHOTS = Path("/tmp/shots/meetings")


async def shoot(page: Any, name: str) -> None:
    """The page at both widths the panel is used at (a side panel, a desktop window)."""
    for width in (400, 1280):
        await page.set_viewport_size({"width": width, "height": 800})
        await page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    await page.set_viewport_size({"width": 400, "height": 800})


async def signed_in(browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch) -> Any:
    context = await new_context(browser, width=400, height=800)
    page = console.watch(await context.new_page())
    await page.goto(str(server.make_url(demo.mentor.signin_path)))
    await wait_until_ready(page)
    return page


async def panel(page: Any, server: TestServer, meeting_id: str) -> None:
    await page.goto(str(server.make_url(f"/meetings/{meeting_id}")))
    await wait_until_ready(page)
    await page.locator('.notes-status[data-connection="connected"]').wait_for(state="attached")


async def meeting_at(server: TestServer, demo: DemoSeed, hours_from_now: float) -> str:
    start = utcnow() + timedelta(hours=hours_from_now)
    meeting = await server.app[REPOS].meetings.create(
        demo.mentorship_id,
        title="Check-in",
        scheduled_start=start,
        scheduled_end=start + timedelta(minutes=45),
        platform="link",
        join_url=None,
        viewer=demo.mentor.id,
    )
    return meeting.id


def mails(smtp: SmtpServer, starting: str) -> list[Any]:
    return [m for m in smtp.inbox.messages if str(m["Subject"]).startswith(starting)]


async def test_cancel_instead_of_end_and_cancelling_an_upcoming_meeting(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch, smtp: SmtpServer
) -> None:
    page = await signed_in(browser, server, demo, console)

    # A meeting whose time passed three hours ago without anyone there.
    missed = await meeting_at(server, demo, -3)
    await panel(page, server, missed)
    await page.get_by_role("button", name="End meeting").click()
    await page.locator(".end-confirm").get_by_role("button", name="End and send").click()
    empty = page.locator(".end-confirm--empty")
    await expect(empty).to_contain_text(
        "Nobody joined and there are no notes. Cancel this meeting instead?"
    )
    await expect(empty.get_by_role("button", name="End anyway")).to_be_visible()
    await shoot(page, "cancel-instead")
    await empty.get_by_role("button", name="Cancel meeting").click()
    await expect(page.locator(".status")).to_have_text("Cancelled")
    await expect(page.locator(".cancelled-note")).to_contain_text(
        "This meeting was cancelled by you"
    )
    await expect(page.get_by_role("button", name="End meeting")).to_be_hidden()
    await expect(page.locator("#meeting-ended")).to_be_hidden()
    await shoot(page, "cancelled")

    # An upcoming meeting: no End before its window, "Cancel this meeting" with a confirm step.
    upcoming = await meeting_at(server, demo, 26)
    await panel(page, server, upcoming)
    await expect(page.get_by_role("button", name="End meeting")).to_be_hidden()
    await page.get_by_role("button", name="Cancel this meeting").click()
    confirm = page.locator(".end-confirm--cancel")
    await expect(confirm).to_contain_text("for both of you? You both get an email")
    await shoot(page, "cancel-confirm")
    await confirm.get_by_role("button", name="Keep it").click()
    await expect(confirm).to_be_hidden()
    await page.get_by_role("button", name="Cancel this meeting").click()
    await confirm.get_by_role("button", name="Cancel meeting").click()
    await expect(page.locator(".cancelled-note")).to_be_visible()

    await outbox_empty(server.app[DATABASE])
    cancelled = mails(smtp, "Cancelled: ")
    assert sorted(str(m["To"]).split("<")[1].rstrip(">") for m in cancelled) == sorted(
        [MENTOR_EMAIL, MENTEE_EMAIL] * 2
    ), "each cancellation told both, once"
    assert mails(smtp, "Summary of") == [], "no summary for a meeting nobody held"
    assert console.unexpected((409, f"/api/v1/meetings/{missed}/end")) == []


async def test_reopening_an_ended_meeting_sends_a_corrected_summary(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch, smtp: SmtpServer
) -> None:
    await start_now(server, demo)
    page = await signed_in(browser, server, demo, console)
    await panel(page, server, demo.meeting_id)
    editor = page.locator("#notes-editor .cm-content")
    await editor.click()
    await page.keyboard.press("Control+End")
    await page.keyboard.type("Agreed: we meet on Tuesdays")

    async def end() -> None:
        await page.get_by_role("button", name="End meeting").click()
        await page.locator(".end-confirm").get_by_role("button", name="End and send").click()
        await expect(page.locator("#meeting-ended")).to_be_visible()

    await end()
    ended = page.locator("#meeting-ended")
    await expect(ended.locator('.delivery[data-state="sent"]')).to_have_count(2)
    reopen = ended.get_by_role("button", name="Reopen the meeting")
    await expect(reopen).to_be_visible()
    await expect(ended.locator(".reopen-hint")).to_contain_text("you can reopen it")
    await shoot(page, "ended-reopen")

    await reopen.click()
    await expect(ended).to_be_hidden()
    await expect(page.get_by_role("button", name="End meeting")).to_be_visible()
    await expect(page.locator(".status")).not_to_have_text("This meeting has ended")
    await shoot(page, "reopened")
    await editor.click()
    await page.keyboard.press("Control+End")
    await page.keyboard.press("Enter")
    await page.keyboard.type("Agreed: and on Thursdays when Tuesday is a holiday")

    await end()
    await expect(ended.locator(".ended-state")).to_contain_text("This corrected summary")
    await expect(ended.locator(".summary-body")).to_contain_text("Thursdays")
    await expect(ended.locator('.delivery[data-state="sent"]')).to_have_count(2)
    await shoot(page, "ended-corrected")

    await eventually(lambda: len(mails(smtp, "Corrected summary of")) >= 2, what="2 corrections")
    await outbox_empty(server.app[DATABASE])
    assert len(mails(smtp, "Summary of")) == 2 and len(mails(smtp, "Corrected summary of")) == 2
    for mail in mails(smtp, "Corrected summary of"):
        body = mail.get_body(("plain",))
        assert body is not None and "Thursdays" in body.get_content()
    assert console.unexpected() == []


async def test_the_agreement_page_refuses_a_past_date_and_a_new_plan_replaces_the_old(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    page = await signed_in(browser, server, demo, console)
    await page.goto(str(server.make_url(f"/mentorships/{demo.mentorship_id}/agreement")))
    await wait_until_ready(page)
    schedule = page.locator("#schedule")
    rows = schedule.locator("li[data-meeting-id]")
    shown_before = await rows.count()

    async def plan(day: str) -> Any:
        if not await schedule.locator("input[name=first_date]").is_visible():
            await schedule.locator("summary", has_text="Plan a series").click()
        await schedule.locator("input[name=first_date]").fill(day)
        await schedule.locator("input[name=first_time]").fill("14:00")
        async with page.expect_response(lambda r: r.url.endswith("/schedule")) as posted:
            await schedule.get_by_role("button", name="Create the meetings").click()
        return await posted.value

    refused = await plan((utcnow() - timedelta(days=19)).date().isoformat())
    assert refused.status == 422
    field = schedule.locator('[data-field="first_start"] .field-error')
    await expect(field).to_contain_text("That is in the past")
    await shoot(page, "schedule-past")

    assert (await plan("2030-03-05")).status == 201
    await expect(rows).to_have_count(shown_before + 12)
    assert (await plan("2030-03-07")).status == 201
    await expect(
        page.get_by_text("They replace the 12 upcoming meetings planned before.")
    ).to_be_attached()
    await expect(rows).to_have_count(shown_before + 12)
    assert console.unexpected((422, f"/mentorships/{demo.mentorship_id}/schedule")) == []
