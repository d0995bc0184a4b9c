"""The panel in a real browser against the real service: two people, two browser contexts.

Chromium is Debian's (/usr/bin/chromium) driven by Playwright's async API; the tests skip when
it is missing. Screenshots go under tmp_path; the main ones are also copied to /tmp
(panel-mentor.png, panel-mentee.png, home.png) for a human to look at.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp.test_utils import TestServer

from sidecar.demo import DemoSeed
from tests.browser_support import (
    ConsoleWatch,
    new_context,
    requires_chromium,
    screenshot,
    wait_until_ready,
)

pytestmark = requires_chromium


SECTIONS = ["review", "successes", "challenges", "goal_progress", "topics", "next_period"]
HEADINGS = [
    "Review of last time's next steps",
    "Successes",
    "Challenges",
    "Progress on goals",
    "Topics to discuss",
    "Plan for the next period",
]


async def api_get(server: TestServer, token: str, path: str) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            server.make_url(f"/api/v1{path}"), headers={"Authorization": f"Bearer {token}"}
        ) as response,
    ):
        assert response.status == 200, await response.text()
        return await response.json()


async def agenda_of(server: TestServer, token: str, meeting_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await api_get(server, token, f"/meetings/{meeting_id}/agenda"))[
        "items"
    ]
    return items


def local_minutes(timezone: str, around: datetime) -> set[str]:
    """The wall-clock minute in `timezone` at `around`, and its neighbours (a minute may turn)."""
    zone = ZoneInfo(timezone)
    return {
        (around + timedelta(minutes=delta)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
        for delta in (-1, 0, 1)
    }


def local_wall_time(iso: str, timezone: str) -> str:
    instant = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return instant.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


async def open_panel(
    browser: Any, server: TestServer, path: str, console: ConsoleWatch, width: int
) -> Any:
    context = await new_context(browser, width=width)
    page = console.watch(await context.new_page())
    await page.goto(str(server.make_url(path)))
    await wait_until_ready(page)
    return page


async def check_pair(page: Any, demo: DemoSeed, meeting: dict[str, Any], you: str) -> None:
    now = datetime.now(UTC)
    for person in (demo.mentor, demo.mentee):
        card = page.locator(f"li.person[data-role={person.role}]")
        await card.wait_for()
        assert person.name in await card.inner_text()
        assert await card.get_attribute("data-timezone") == person.timezone
        clock = await card.locator("[data-clock]").get_attribute("datetime")
        assert clock in local_minutes(person.timezone, now), (person.role, clock)
        shown = (await card.locator("[data-clock]").inner_text()).strip()
        assert re.fullmatch(r"\d{1,2}:\d{2}( ?[ap]\.? ?m\.?)?", shown, re.I), shown
        start = await card.locator("[data-meeting-start]").get_attribute("datetime")
        assert start == local_wall_time(meeting["scheduled_start"], person.timezone)
        role_label = person.role.capitalize()
        assert role_label in await card.locator(".person-role").inner_text()
        is_you = await card.locator(".you-badge").count() == 1
        assert is_you == (person.role == you), f"'You' marks the wrong person for {person.role}"


async def check_agenda(page: Any, items: list[dict[str, Any]]) -> None:
    headings = await page.locator("#agenda .agenda-group h3").all_inner_texts()
    assert headings == HEADINGS
    for item in items:
        row = page.locator(f'#agenda-{item["section"]} li[data-item-id="{item["id"]}"]')
        assert await row.locator(".item-text").inner_text() == item["text"]
        assert await row.locator("input[type=checkbox]").is_checked() == item["done"]


async def test_panel_shows_the_pair_the_agenda_and_stores_changes(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch, tmp_path: Path
) -> None:
    token = demo.mentor.token
    meeting = await api_get(server, token, f"/meetings/{demo.meeting_id}")
    agenda = await agenda_of(server, token, demo.meeting_id)
    goals = (await api_get(server, token, f"/mentorships/{demo.mentorship_id}/goals"))["goals"]
    actions = (await api_get(server, token, f"/mentorships/{demo.mentorship_id}/action-items"))[
        "items"
    ]
    assert agenda, "the demo seeds an agenda"

    # The mentor in a narrow Zoom side panel, the mentee in a wide window beside Jitsi.
    mentor = await open_panel(browser, server, demo.mentor.signin_path, console, width=420)
    mentee = await open_panel(browser, server, demo.mentee.signin_path, console, width=1200)
    assert mentor.url.endswith(f"/meetings/{demo.meeting_id}")
    assert mentee.url.endswith(f"/meetings/{demo.meeting_id}")

    for page, you in ((mentor, "mentor"), (mentee, "mentee")):
        assert await page.locator("h1").inner_text() == meeting["title"]
        status = await page.locator(".status").inner_text()
        assert re.match(
            r"(Starts in|Live now|In progress|This meeting has ended|The scheduled time)", status
        )
        await check_pair(page, demo, meeting, you)
        await check_agenda(page, agenda)
        notes = page.locator("section#notes")
        assert "Live notes" in await notes.inner_text()
        assert await page.locator("section#notes #notes-editor").count() == 1
        for goal in goals:
            assert goal["title"] in await page.locator("#goals").inner_text()
        for action in actions:
            if action["status"] == "open":
                assert action["text"] in await page.locator("#action-items").inner_text()

    await screenshot(mentor, tmp_path, "panel-mentor.png", copy_to="/tmp/panel-mentor.png")
    await screenshot(mentee, tmp_path, "panel-mentee.png", copy_to="/tmp/panel-mentee.png")

    # The mentee adds an item to "Challenges"; it is stored and the mentor sees it after a reload.
    text = "Staying focused when our call is late in my evening"
    await mentee.locator("#agenda form select[name=section]").select_option("challenges")
    await mentee.locator("#agenda form input[name=text]").fill(text)
    async with mentee.expect_response(
        lambda r: r.request.method == "POST" and "/agenda" in r.url
    ) as posted:
        await mentee.locator("#agenda form button[type=submit]").click()
    assert (await posted.value).status == 201
    await mentee.locator("#agenda-challenges .item-text", has_text=text).wait_for()
    assert await mentee.locator("#agenda form input[name=text]").input_value() == ""
    stored = await agenda_of(server, demo.mentee.token, demo.meeting_id)
    added = [item for item in stored if item["text"] == text]
    assert len(added) == 1 and added[0]["section"] == "challenges"

    # The mentor ticks the first review item: the PATCH is stored and survives a reload.
    first = next(item for item in agenda if item["section"] == "review")
    checkbox = f'li[data-item-id="{first["id"]}"] input[type=checkbox]'
    async with mentor.expect_response(lambda r: r.request.method == "PATCH") as patched:
        await mentor.locator(checkbox).check()
    assert (await patched.value).status == 200
    await mentor.reload()
    await wait_until_ready(mentor)
    await mentor.locator("#agenda-challenges .item-text", has_text=text).wait_for()
    assert await mentor.locator(checkbox).is_checked()
    stored = await agenda_of(server, demo.mentor.token, demo.meeting_id)
    assert next(item for item in stored if item["id"] == first["id"])["done"] is True

    # Home, signed in: the mentorship with the other person and a link to this meeting's panel.
    await mentor.goto(str(server.make_url("/")))
    await wait_until_ready(mentor)
    card = mentor.locator(f'li.mentorship[data-mentorship-id="{demo.mentorship_id}"]')
    assert demo.mentee.name in await card.inner_text()
    link = card.get_by_role("link", name="Open the next meeting")
    assert await link.get_attribute("href") == f"/meetings/{demo.meeting_id}"
    await screenshot(mentor, tmp_path, "home-signed-in.png")

    # Signing out clears the session: the page says how to get back in, the panel is closed.
    await mentor.get_by_role("button", name="Sign out").click()
    await mentor.wait_for_url("**/signed-out")
    await mentor.locator("#signin-request").wait_for()
    response = await mentor.goto(str(server.make_url(f"/meetings/{demo.meeting_id}")))
    assert response is not None and response.status == 401

    assert console.unexpected((401, "/api/v1/me"), (401, f"/meetings/{demo.meeting_id}")) == []


async def test_agenda_form_shows_the_services_validation_error(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch, tmp_path: Path
) -> None:
    page = await open_panel(browser, server, demo.mentee.signin_path, console, width=420)
    form = page.locator("#agenda form")
    await form.locator("input[name=text]").fill("x" * 2001)  # the service accepts at most 2000
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await form.locator("button[type=submit]").click()
    assert (await posted.value).status == 422
    error = form.locator('[data-field="text"] .field-error')
    await error.wait_for(state="visible")
    assert await error.inner_text() == "At most 2,000 characters (you have 2,001)."
    assert await form.locator("input[name=text]").get_attribute("aria-invalid") == "true"
    await screenshot(page, tmp_path, "agenda-error.png")
    assert console.unexpected((422, f"/api/v1/meetings/{demo.meeting_id}/agenda")) == []


async def test_start_a_mentorship_and_accept_the_invite(
    browser: Any, server: TestServer, console: ConsoleWatch, tmp_path: Path
) -> None:
    context = await new_context(browser, width=1000)
    home = console.watch(await context.new_page())
    await home.goto(str(server.make_url("/")))
    await wait_until_ready(home)
    assert "Start a mentorship" in await home.locator("#start").inner_text()
    zone = await home.locator("select[name='me.timezone']").input_value()
    assert zone == await home.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    await screenshot(home, tmp_path, "home.png", copy_to="/tmp/home.png")

    # A mistake first: the service's message appears next to the email field.
    form = home.locator("#start form")
    await form.get_by_label("Mentee").check()
    await form.get_by_label("Name for this mentorship").fill("Learning to lead")
    await form.get_by_label("Your name").fill("Mina Okafor")
    await form.get_by_label("Email").fill("not-an-email")
    await form.get_by_role("button", name="Create and get the invite link").click()
    email_error = form.locator('[data-field="me.email"] .field-error')
    await email_error.wait_for(state="visible")
    assert "email" in (await email_error.inner_text()).lower()

    await form.get_by_label("Email").fill("mina@example.org")
    await form.get_by_role("button", name="Create and get the invite link").click()
    result = home.locator(".invite-result")
    await result.wait_for()
    invite_url = await home.locator("#invite-link").input_value()
    assert re.search(r"/invite/[^/]+$", invite_url), invite_url
    await screenshot(home, tmp_path, "home-invite-link.png")

    # Continue: the one-time link signs Mina in; home now lists the mentorship, invite pending.
    await result.get_by_role("link", name="Continue to Mentor Sidecar").click()
    await home.wait_for_url(re.compile(r"/$"))
    await wait_until_ready(home)
    assert "Learning to lead" in await home.locator(".mentorship-list").inner_text()
    assert "accept the invite" in await home.locator(".mentorship-list").inner_text()

    # The other person opens the invite in their own browser and accepts it.
    other = console.watch(await (await new_context(browser, width=420)).new_page())
    await other.goto(invite_url)
    await wait_until_ready(other)
    heading = await other.locator("h1").inner_text()
    assert "Mina Okafor" in heading and "mentor" in heading
    await screenshot(other, tmp_path, "invite.png")
    await other.get_by_label("Your name").fill("Tomás Reyes")
    await other.get_by_label("Email").fill("tomas@example.org")
    await other.locator("select[name='me.timezone']").select_option("America/Mexico_City")
    await other.get_by_role("button", name="Accept and continue").click()
    await other.wait_for_url(re.compile(r"/$"))
    await wait_until_ready(other)
    listing = await other.locator(".mentorship-list").inner_text()
    assert "Learning to lead" in listing and "Mina Okafor" in listing

    # The invite works once.
    again = console.watch(await (await new_context(browser, width=420)).new_page())
    await again.goto(invite_url)
    await wait_until_ready(again)
    assert "cannot be used" in await again.locator("h1").inner_text()

    code = invite_url.rsplit("/", 1)[-1]
    expected = [(401, "/api/v1/me"), (422, "/api/v1/mentorships"), (404, f"/api/v1/invites/{code}")]
    assert console.unexpected(*expected) == []


async def test_signed_out_and_unknown_invite_pages(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch, tmp_path: Path
) -> None:
    context = await new_context(browser, width=420)
    page = console.watch(await context.new_page())
    response = await page.goto(str(server.make_url(f"/meetings/{demo.meeting_id}")))
    assert response is not None and response.status == 401
    await wait_until_ready(page)
    assert "personal link" in await page.locator("h1").inner_text()
    assert await page.locator("#agenda").count() == 0
    # The one form is the way back in: "Email me a sign-in link" (test_signin_browser).
    assert [await f.get_attribute("id") for f in await page.locator("form").all()] == [
        "signin-request"
    ]
    await screenshot(page, tmp_path, "signed-out.png")

    await page.goto(str(server.make_url("/invite/no-such-code")))
    await wait_until_ready(page)
    assert "cannot be used" in await page.locator("h1").inner_text()
    expected = [(401, f"/meetings/{demo.meeting_id}"), (404, "/api/v1/invites/no-such-code")]
    assert console.unexpected(*expected) == []
