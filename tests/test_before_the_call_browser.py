"""Before the call, in a real browser against the real service: the agreement page (validation,
confirmations, the tapering schedule, the calendar link), preparing and sending the agenda
(the email reaches a real SMTP server), the live agenda between two browser contexts, and the
profile photo the partner sees.

Chromium is Debian's (/usr/bin/chromium) driven by Playwright's async API; the tests skip when
it is missing. Screenshots: /tmp/agreement.png, /tmp/panel-live-mentor.png (420 px),
/tmp/panel-live-mentee.png (1280 px), /tmp/profile.png.
"""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp.test_utils import TestServer

from sidecar.demo import MENTOR_EMAIL, DemoSeed
from tests.browser_support import (
    ConsoleWatch,
    new_context,
    requires_chromium,
    screenshot,
    wait_until_ready,
)
from tests.smtp_server import SmtpServer
from tests.waiting import eventually

pytestmark = requires_chromium

LIVE_MS = 2500  # "at once": the other person's screen follows within about two seconds


def expect(locator: Any) -> Any:
    """Playwright's web-first assertions (imported here: the module loads without playwright)."""
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(locator)


async def api(server: TestServer, token: str, method: str, path: str, **kwargs: Any) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            server.make_url(f"/api/v1{path}"),
            headers={"Authorization": f"Bearer {token}"},
            **kwargs,
        ) as response,
    ):
        assert response.status < 300, await response.text()
        return await response.json() if response.status != 204 else None


async def sign_in(
    browser: Any, server: TestServer, signin_path: str, console: ConsoleWatch, width: int
) -> Any:
    """A new browser context signed in through the person's one-time link (lands on the panel)."""
    context = await new_context(browser, width=width)
    page = console.watch(await context.new_page())
    await page.goto(str(server.make_url(signin_path)))
    await wait_until_ready(page)
    return page


async def goto(page: Any, server: TestServer, path: str) -> None:
    await page.goto(str(server.make_url(path)))
    await wait_until_ready(page)


def wall(iso: str, timezone: str) -> str:
    instant = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return instant.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


def png(size: tuple[int, int] = (320, 240), color: str = "#0b6b63") -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).ellipse((90, 50, 230, 190), fill="#f3c892")
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def test_agreement_confirmations_schedule_and_calendar(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    agreement_path = f"/mentorships/{demo.mentorship_id}/agreement"
    mentee = await sign_in(browser, server, demo.mentee.signin_path, console, width=1000)
    # The panel says whose confirmation is missing (Helena confirmed in the seed) and links here,
    # in its "Next steps" tab.
    await mentee.get_by_role("tab", name="Next steps").click()
    card = mentee.locator("#agreement-status")
    assert "Waiting for you to confirm" in await card.inner_text()
    assert await card.get_by_role("link").get_attribute("href") == agreement_path
    await goto(mentee, server, agreement_path)
    mentor = await sign_in(browser, server, demo.mentor.signin_path, console, width=1000)
    await goto(mentor, server, agreement_path)

    # Too long for the service (8000 characters at most): the message sits next to the field.
    form = mentee.locator("#agreement-form")
    objectives = form.locator("textarea[name=objectives]")
    await objectives.fill("x" * 8001)
    async with mentee.expect_response(lambda r: r.request.method == "PATCH") as patched:
        await form.get_by_role("button", name="Save the agreement").click()
    assert (await patched.value).status == 422
    error = form.locator('[data-field="objectives"] .field-error')
    await error.wait_for(state="visible")
    assert await error.inner_text() == "At most 8,000 characters (you have 8,001)."
    assert await objectives.get_attribute("aria-invalid") == "true"

    # A real change is saved, and it asks both people to confirm again.
    text = "Arjun runs a design critique on his own by March, and we review how it went."
    await objectives.fill(text)
    await form.get_by_role("button", name="Save the agreement").click()
    await form.locator(".save-status", has_text="Saved").wait_for()
    stored = await api(
        server, demo.mentor.token, "GET", f"/mentorships/{demo.mentorship_id}/agreement"
    )
    assert stored["objectives"] == text and stored["confirmations"] == []
    # The mentor's page follows live: the new wording, and no confirmation left.
    await expect(mentor.locator("#agreement-form textarea[name=objectives]")).to_have_value(
        text, timeout=LIVE_MS
    )

    # Helena had confirmed the earlier wording (in the seed; her page saw it): asked again.
    assert await mentor.locator("#agreement-confirm .confirm-again").is_visible()

    # Both confirm, each in their own browser; each page shows who confirmed when.
    await mentee.get_by_role("button", name="I confirm this agreement").click()
    await mentor.get_by_role("button", name="Confirm again").click()
    for page in (mentee, mentor):
        await page.locator('#agreement-confirm[data-state="confirmed"]').wait_for(timeout=LIVE_MS)
        assert await page.locator("#agreement-confirm .confirm-person.is-confirmed").count() == 2
    stored = await api(
        server, demo.mentor.token, "GET", f"/mentorships/{demo.mentorship_id}/agreement"
    )
    assert stored["confirmed_by_both"] is True

    # A later change by the mentee: the mentor is asked, live, to confirm again.
    cadence = mentee.locator("#agreement-form textarea[name=meeting_cadence]")
    await cadence.fill("Weekly for six weeks, then every two weeks. Tuesdays, 45 minutes.")
    await mentee.locator("#agreement-form").get_by_role("button", name="Save the agreement").click()
    again = mentor.locator("#agreement-confirm .confirm-again")
    await again.wait_for(state="visible", timeout=LIVE_MS)
    assert "confirm again" in (await again.inner_text()).lower()
    assert "Arjun" in await again.inner_text()
    assert await mentor.get_by_role("button", name="Confirm again").is_visible()
    await mentor.reload()
    await wait_until_ready(mentor)
    assert await mentor.locator("#agreement-confirm .confirm-again").is_visible()

    # A tapering series, planned by the mentee in Bengaluru: weekly for six, then fortnightly.
    before = {
        m["id"]
        for m in (
            await api(
                server, demo.mentee.token, "GET", f"/mentorships/{demo.mentorship_id}/meetings"
            )
        )["meetings"]
    }
    schedule = mentee.locator("#schedule")
    await schedule.locator("summary", has_text="Plan a series").click()
    await schedule.locator("input[name=first_date]").fill("2030-03-05")
    await schedule.locator("input[name=first_time]").fill("19:30")
    assert await schedule.locator("select[name=timezone]").input_value() == "Asia/Kolkata"
    assert "12 meetings: weekly for 6 meetings, then every 2 weeks for 6 meetings" in (
        await schedule.locator(".schedule-preview").inner_text()
    )
    async with mentee.expect_response(lambda r: r.url.endswith("/schedule")) as posted:
        await schedule.get_by_role("button", name="Create the meetings").click()
    assert (await posted.value).status == 201
    meetings = (
        await api(server, demo.mentee.token, "GET", f"/mentorships/{demo.mentorship_id}/meetings")
    )["meetings"]
    new = [m for m in meetings if m["id"] not in before]
    assert len(new) == 12
    starts = [wall(m["scheduled_start"], "Asia/Kolkata") for m in new]
    assert starts[0] == "2030-03-05T19:30" and starts[6] == "2030-04-23T19:30"
    await mentor.reload()
    await wait_until_ready(mentor)
    for page, mine, theirs in (
        (mentee, "Asia/Kolkata", "Europe/Lisbon"),
        (mentor, "Europe/Lisbon", "Asia/Kolkata"),
    ):
        for meeting in new:
            row = page.locator(f'#schedule li[data-meeting-id="{meeting["id"]}"]')
            shown_mine = await row.locator('[data-local="me"]').get_attribute("datetime")
            shown_theirs = await row.locator('[data-local="other"]').get_attribute("datetime")
            assert shown_mine == wall(meeting["scheduled_start"], mine)
            assert shown_theirs == wall(meeting["scheduled_start"], theirs)
    first_row = mentee.locator(f'#schedule li[data-meeting-id="{new[0]["id"]}"]')
    # Arjun's locale (en-IN) writes a 12-hour clock; Lisbon is on winter time (UTC) in March.
    assert re.search(r"7:30\s?pm", await first_row.locator('[data-local="me"]').inner_text(), re.I)
    assert re.search(
        r"2:00\s?pm", await first_row.locator('[data-local="other"]').inner_text(), re.I
    )

    # Move one meeting: an hour later, given in the mentee's own time.
    row = mentee.locator(f'#schedule li[data-meeting-id="{new[2]["id"]}"]')
    await row.get_by_role("button", name=re.compile("^Move the meeting")).click()
    await row.locator("input[type=datetime-local]").fill("2030-03-19T20:30")
    await row.get_by_role("button", name="Move", exact=True).click()
    moved_row = mentee.locator(f'#schedule li[data-meeting-id="{new[2]["id"]}"] [data-local="me"]')
    await moved_row.and_(mentee.locator('[datetime="2030-03-19T20:30"]')).wait_for()
    moved = await api(server, demo.mentee.token, "GET", f"/meetings/{new[2]['id']}")
    assert moved["scheduled_start"].startswith("2030-03-19T15:00")
    assert moved["scheduled_end"].startswith("2030-03-19T15:45")

    # The private calendar link: a feed with every meeting, the moved one at its new time.
    calendar = mentee.locator("#calendar")
    await calendar.get_by_role("button", name="Get my calendar link").click()
    url_box = calendar.locator("input.calendar-url")
    await url_box.wait_for(state="visible")
    url = await url_box.input_value()
    assert re.search(r"/calendar/[^/]+\.ics$", url), url
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        ics = await response.text()
    assert ics.count("BEGIN:VEVENT") >= 12
    assert "20300319T150000Z" in ics or "20300319T203000" in ics

    await screenshot(mentee, Path("/tmp"), "agreement.png")
    assert console.unexpected((422, f"/api/v1/mentorships/{demo.mentorship_id}/agreement")) == []


async def test_agenda_preparation_and_sending(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch, smtp: SmtpServer
) -> None:
    mentee = await sign_in(browser, server, demo.mentee.signin_path, console, width=1280)
    mentor = await sign_in(browser, server, demo.mentor.signin_path, console, width=420)

    # The review section starts with the next steps still open from the last meeting.
    carried = mentee.locator("#agenda-review .carried-item")
    assert await carried.count() == 2
    draft = carried.filter(has_text="Send the portfolio case study draft")
    assert "You" in await draft.locator(".action-meta").inner_text()
    assert "overdue since" in await draft.locator(".action-meta").inner_text()
    articles = carried.filter(has_text="Share two articles")
    assert "Helena Costa" in await articles.locator(".action-meta").inner_text()
    assert "Open" in await articles.locator(".pill").inner_text()

    # Ticking one closes it in this meeting.
    action_id = await draft.get_attribute("data-action-id")
    async with mentee.expect_response(lambda r: "/action-items/" in r.url) as patched:
        await draft.locator("input[type=checkbox]").check()
    assert (await patched.value).status == 200
    await mentee.locator(
        f'.carried-item[data-action-id="{action_id}"][data-status="done"]'
    ).wait_for()
    item = next(
        a
        for a in (
            await api(
                server, demo.mentee.token, "GET", f"/mentorships/{demo.mentorship_id}/action-items"
            )
        )["items"]
        if a["id"] == action_id
    )
    assert item["status"] == "done" and item["closed_in_meeting_id"] == demo.meeting_id
    await mentor.locator(
        f'.carried-item[data-action-id="{action_id}"][data-status="done"]'
    ).wait_for(timeout=LIVE_MS)

    # The mentee prepares: a success and a topic.
    additions = [
        ("successes", "Ran the critique rehearsal with two colleagues"),
        ("topics", "How direct can I be with the engineering lead?"),
    ]
    form = mentee.locator("#agenda form")
    for section, text in additions:
        await form.locator("select[name=section]").select_option(section)
        await form.locator("input[name=text]").fill(text)
        await form.locator("button[type=submit]").click()
        await mentee.locator(f"#agenda-{section} .item-text", has_text=text).wait_for()

    # Not sent yet, and the meeting is less than a day away: the bar says so and stands out.
    bar = mentee.locator("#agenda .send-bar")
    assert (await bar.locator(".send-status").inner_text()).startswith("Not sent yet")
    assert "send-bar--near" in (await bar.get_attribute("class") or "")
    async with mentee.expect_response(lambda r: r.url.endswith("/agenda/send")) as sent:
        await bar.get_by_role("button", name="Send agenda to Helena").click()
    assert (await sent.value).status == 200
    await mentee.locator('#agenda .send-bar[data-sent="yes"]').wait_for()
    status = await bar.locator(".send-status").inner_text()
    assert re.match(r"Sent .+ · \d+ min before the start$", status), status

    # The email reaches the real SMTP server, addressed to the mentor, with the new items.
    await eventually(lambda: bool(smtp.inbox.to(MENTOR_EMAIL)), what="the agenda email")
    messages = smtp.inbox.to(MENTOR_EMAIL)
    assert len(messages) == 1
    body = messages[0].get_body(preferencelist=("plain",))
    assert body is not None
    content = body.get_content()
    for _, text in additions:
        assert text in content
    assert "Send the portfolio case study draft" in content

    # The mentor's panel shows it went out, and who sent it, without a reload.
    mentor_bar = mentor.locator('#agenda .send-bar[data-sent="yes"]')
    await mentor_bar.wait_for(timeout=LIVE_MS)
    assert "Sent by Arjun" in await mentor_bar.locator(".send-status").inner_text()
    for section, text in additions:
        await mentor.locator(f"#agenda-{section} .item-text", has_text=text).wait_for()
    assert console.unexpected() == []


async def test_live_agenda_between_two_screens(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    mentor = await sign_in(browser, server, demo.mentor.signin_path, console, width=420)
    mentee = await sign_in(browser, server, demo.mentee.signin_path, console, width=1280)

    # The countdown to the start (the demo meeting is 30-45 minutes away), both screens, in
    # words that cannot be read as a clock time.
    for page in (mentor, mentee):
        status = await page.locator(".status").inner_text()
        assert re.fullmatch(r"Starts in \d\d min", status), status

    # The mentee adds an item: it appears on the mentor's screen without a reload.
    text = "Preparing people before a critique"
    form = mentee.locator("#agenda form")
    await form.locator("select[name=section]").select_option("topics")
    await form.locator("input[name=text]").fill(text)
    await form.locator("button[type=submit]").click()
    row = mentor.locator("#agenda-topics li.agenda-item", has_text=text)
    await row.wait_for(timeout=LIVE_MS)
    item_id = await row.get_attribute("data-item-id")

    # Ticks it: the mentor's checkbox follows.
    await mentee.locator(f'li[data-item-id="{item_id}"] input[type=checkbox]').check()
    await mentor.locator(f'li[data-item-id="{item_id}"].is-done').wait_for(timeout=LIVE_MS)
    assert await mentor.locator(f'li[data-item-id="{item_id}"] input[type=checkbox]').is_checked()

    # Moves it up to the top of its section, with the accessible buttons.
    topics = "#agenda-topics li.agenda-item .item-text"
    assert (await mentee.locator(topics).all_inner_texts())[-1] == text
    mentee_row = mentee.locator(f'li[data-item-id="{item_id}"]')
    for _ in range(2):
        await mentee_row.get_by_role("button", name=f"Move “{text}” up").click()
    expected = await mentee.locator(topics).all_inner_texts()
    assert expected[0] == text
    await expect(mentor.locator(topics)).to_have_text(expected, timeout=LIVE_MS)
    stored = await api(server, demo.mentor.token, "GET", f"/meetings/{demo.meeting_id}/agenda")
    assert [i["text"] for i in stored["items"] if i["section"] == "topics"] == expected

    # The mentor adds one; the mentee removes another: both screens follow.
    mentor_form = mentor.locator("#agenda form")
    await mentor_form.locator("select[name=section]").select_option("next_period")
    await mentor_form.locator("input[name=text]").fill("Read two critique write-ups")
    await mentor_form.locator("button[type=submit]").click()
    await mentee.locator("#agenda-next_period .item-text", has_text="Read two critique").wait_for(
        timeout=LIVE_MS
    )
    gone = "Giving feedback to someone more senior"
    await mentee.get_by_role("button", name=f"Remove “{gone}”").click()
    await mentor.locator("#agenda .item-text", has_text=gone).wait_for(
        state="detached", timeout=LIVE_MS
    )

    # Before the call the agenda comes first: in the narrow panel its tab is the one open, the
    # notes one tab away (tests/test_panel_layout_browser.py has the notes first during the call).
    selected = mentor.locator('[role=tab][aria-selected="true"]')
    assert await selected.inner_text() == "Agenda"
    assert await mentor.locator("#notes").is_hidden()
    # Wide: agenda and notes side by side, both from the top of the screen.
    await mentee.evaluate("window.scrollTo(0, 0)")
    wide_notes = await mentee.locator("#notes").bounding_box()
    wide_agenda = await mentee.locator("#agenda").bounding_box()
    assert wide_notes and wide_agenda and wide_notes["y"] < 400 and wide_agenda["y"] < 400
    assert wide_agenda["x"] + wide_agenda["width"] <= wide_notes["x"]

    await screenshot(mentor, Path("/tmp"), "panel-live-mentor.png")
    await screenshot(mentee, Path("/tmp"), "panel-live-mentee.png")
    assert console.unexpected() == []


async def test_profile_photo_reaches_the_partners_panel(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    mentee = await sign_in(browser, server, demo.mentee.signin_path, console, width=900)
    await goto(mentee, server, "/me")
    photo = mentee.locator("#photo")
    assert await photo.locator(".photo-large--initials").inner_text() == "AM"

    # Not an image, even if it says so: the service's message next to the field.
    file_input = photo.locator("input[type=file]")
    async with mentee.expect_response(lambda r: r.url.endswith("/me/photo")) as put:
        await file_input.set_input_files(
            {"name": "holiday.png", "mimeType": "image/png", "buffer": b"just some text"}
        )
    assert (await put.value).status == 422
    error = photo.locator('[data-field="photo"] .field-error')
    await error.wait_for(state="visible")
    assert await error.inner_text()
    assert await file_input.get_attribute("aria-invalid") == "true"

    # A real photo: previewed here, stored (resized) by the service.
    async with mentee.expect_response(lambda r: r.url.endswith("/me/photo")) as put:
        await file_input.set_input_files(
            {"name": "me.png", "mimeType": "image/png", "buffer": png()}
        )
    assert (await put.value).status == 200
    preview = photo.locator("img.photo-large")
    await preview.wait_for()
    assert await error.is_hidden()
    assert await preview.evaluate("img => img.complete && img.naturalWidth") == 256

    # A few lines about himself.
    about = "Product designer in Bengaluru. I sketch on paper first and love long walks."
    await mentee.locator("#profile-form textarea[name=about]").fill(about)
    await mentee.locator("#profile-form").get_by_role("button", name="Save").click()
    await mentee.locator("#profile-form .save-status", has_text="Saved").wait_for()
    await screenshot(mentee, Path("/tmp"), "profile.png")

    # Helena's panel shows Arjun's photo and his lines.
    mentor = await sign_in(browser, server, demo.mentor.signin_path, console, width=420)
    card = mentor.locator("li.person[data-role=mentee]")
    image = card.locator("img.avatar")
    await image.wait_for()
    assert f"/api/v1/people/{demo.mentee.id}/photo" in (await image.get_attribute("src") or "")
    await mentor.wait_for_function(
        "() => document.querySelector('li.person[data-role=mentee] img.avatar').naturalWidth > 0"
    )
    assert about in await card.locator(".person-about").inner_text()
    # Helena has no photo: her initials instead.
    assert await mentor.locator("li.person[data-role=mentor] .avatar").inner_text() == "HC"

    # Removing the photo brings the initials back.
    await mentee.get_by_role("button", name="Remove photo").click()
    await photo.locator(".photo-large--initials").wait_for()
    assert console.unexpected((422, "/api/v1/me/photo")) == []
