"""What a person sees of erasing, editing next steps and rejected input, in a real browser
against the real service (Debian's Chromium through Playwright; skipped when it is missing):

- an erasure planned by the mentee shows both people a banner with its date and Undo, and Undo
  brings everything back;
- a next step is edited in place, reassigned and moved to a date already past, which the panel
  asks about ("That date has passed. Keep it?") and then flags as overdue, live on both sides;
- a rejected profile reads in words ("Your name can't be empty.", "At most 8,000 characters (you
  have 9,214).") with a character counter, never pydantic's phrasing.

Screenshots in /tmp/shots/care/ at 400x800 and 1280x800.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from sidecar import erasure
from sidecar.demo import DemoSeed
from sidecar.keys import REPOS
from tests.browser_support import ConsoleWatch, requires_chromium, screenshot
from tests.test_before_the_call_browser import expect, goto, sign_in

pytestmark = requires_chromium

SHOTS = "/tmp/shots/care"
PYDANTIC = re.compile(r"String should|Input should|Field required|Value error|Extra inputs")


async def open_panel(
    browser: Any, server: TestServer, signin_path: str, console: ConsoleWatch, width: int
) -> Any:
    """Signed in on the panel, its live notes connected (shown or not at this width)."""
    page = await sign_in(browser, server, signin_path, console, width)
    await page.locator('.notes-status[data-connection="connected"]').wait_for(state="attached")
    return page


async def next_steps_tab(page: Any) -> None:
    tab = page.get_by_role("tab", name="Next steps")
    if await tab.count() and await tab.is_visible():
        await tab.click()


async def test_a_planned_erasure_shows_both_a_banner_with_undo(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch, tmp_path: Path
) -> None:
    mentee = await sign_in(browser, server, demo.mentee.signin_path, console, 400)
    await goto(mentee, server, "/me")
    row = mentee.locator(f".erase-row[data-mentorship-id='{demo.mentorship_id}']")
    await row.get_by_role("button", name="Erase…").click()
    await expect(row.locator(".erase-warning")).to_contain_text("is emailed")
    await row.get_by_role("button", name="Erase for good").click()
    await expect(row).to_contain_text("will be erased on")
    await expect(row.get_by_role("button", name="Undo")).to_be_focused()
    await screenshot(mentee, tmp_path, "p.png", copy_to=f"{SHOTS}/profile-erasure-400.png")

    # The mentor opens the panel: the banner says when, and that the mentee asked.
    mentor = await open_panel(browser, server, demo.mentor.signin_path, console, width=400)
    banner = mentor.locator(".erasure-banner")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("This mentorship will be erased on")
    await expect(banner).to_contain_text(f"{demo.mentee.name} asked")
    await screenshot(mentor, tmp_path, "b.png", copy_to=f"{SHOTS}/panel-banner-400.png")
    await mentor.set_viewport_size({"width": 1280, "height": 800})
    await mentor.screenshot(path=f"{SHOTS}/panel-banner-1280.png")
    await banner.get_by_role("button", name="Undo").click()
    await expect(banner).to_be_hidden()
    # Planned again from elsewhere (the API, another device): the open panel shows it live.
    async with aiohttp.ClientSession() as http:
        again = await http.delete(
            server.make_url(f"/api/v1/mentorships/{demo.mentorship_id}"),
            json={"confirm": True},
            headers={"Authorization": f"Bearer {demo.mentee.token}"},
        )
        assert again.status == 202
        await expect(banner).to_be_visible(timeout=30_000)
        undone = await http.post(
            server.make_url(f"/api/v1/mentorships/{demo.mentorship_id}/erasure/undo"),
            headers={"Authorization": f"Bearer {demo.mentee.token}"},
        )
        assert undone.status == 204
        await expect(banner).to_be_hidden(timeout=30_000)
    mentorship = await server.app[REPOS].mentorships.get(demo.mentorship_id, viewer=demo.mentor.id)
    assert mentorship is not None
    later = datetime.now(UTC) + timedelta(days=8)
    assert await erasure.erase_due(server.app, now=later) == 0

    await goto(mentee, server, "/me")
    await expect(row.get_by_role("button", name="Erase…")).to_be_visible()
    assert console.unexpected() == []


async def test_a_next_step_is_edited_reassigned_and_flagged_overdue(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch, tmp_path: Path
) -> None:
    mentee = await open_panel(browser, server, demo.mentee.signin_path, console, width=1280)
    mentor = await open_panel(browser, server, demo.mentor.signin_path, console, width=400)
    await next_steps_tab(mentee)
    await next_steps_tab(mentor)
    card = mentee.locator("#outcomes")
    step_form = card.get_by_role("form", name="Add a next step")
    await step_form.get_by_label("Next step").fill("Draft the talk outline")
    await step_form.get_by_role("button", name="Add next step").click()
    row = card.locator(".outcome--step", has_text="Draft the talk outline")
    await expect(row).to_be_visible()

    step_id = await row.get_attribute("data-action-id")
    await row.get_by_role("button", name="Edit: Draft the talk outline").click()
    editor = card.get_by_role("form", name="Edit next step: Draft the talk outline")
    await expect(editor.get_by_label("Next step")).to_be_focused()
    await editor.get_by_label("Next step").fill("Draft the talk outline and slides")
    await editor.get_by_label("Owner").select_option(demo.mentor.id)
    await editor.get_by_label("Due").fill("2024-03-05")
    await editor.get_by_role("button", name="Save").click()
    ask = editor.locator(".past-due-ask")
    await expect(ask).to_contain_text("That date has passed. Keep it?")
    await screenshot(mentee, tmp_path, "ask.png", copy_to=f"{SHOTS}/step-past-due-1280.png")
    await ask.get_by_role("button", name="Keep the date").click()

    row = card.locator(".outcome--step", has_text="Draft the talk outline and slides")
    await expect(row.locator(".due--overdue")).to_have_text("overdue since 5 Mar 2024")
    # The mentor's panel follows: the step is theirs now, and overdue.
    theirs = mentor.locator("#action-items .action-item", has_text="and slides")
    await expect(theirs.locator(".owner")).to_have_text("You", timeout=30_000)
    await expect(theirs.locator(".due--overdue")).to_have_text("overdue since 5 Mar 2024")
    await theirs.scroll_into_view_if_needed()
    await screenshot(mentor, tmp_path, "o.png", copy_to=f"{SHOTS}/step-overdue-400.png")

    # Removed on one side, gone on the other.
    await row.get_by_role("button", name="Remove: Draft the talk outline and slides").click()
    await expect(card.locator(".outcome--step", has_text="and slides")).to_have_count(0)
    await expect(theirs).to_have_count(0, timeout=30_000)
    # The one refusal: the date already past, before the person kept it.
    assert console.unexpected((422, f"/api/v1/action-items/{step_id}")) == []


async def test_a_rejected_profile_reads_in_words_with_a_counter(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch, tmp_path: Path
) -> None:
    page = await sign_in(browser, server, demo.mentee.signin_path, console, 400)
    for width in (400, 1280):
        await page.set_viewport_size({"width": width, "height": 800})
        await goto(page, server, "/me")
        form = page.locator("#profile-form")
        await form.get_by_label("Your name").fill("   ")
        about = form.get_by_label("About you")
        await about.fill("x" * 9214)
        counter = form.locator('[data-field="about"] .char-count')
        await expect(counter).to_have_text(re.compile(r"9,214 / 8,000 characters: 1,214 too many"))
        await expect(counter).to_have_class(re.compile("char-count--over"))
        await form.get_by_role("button", name="Save").click()
        await expect(form.locator('[data-field="name"] .field-error')).to_have_text(
            "Your name can't be empty."
        )
        await expect(form.locator('[data-field="about"] .field-error')).to_have_text(
            "At most 8,000 characters (you have 9,214)."
        )
        assert not PYDANTIC.search(await page.locator("body").inner_text())
        await form.locator('[data-field="about"]').scroll_into_view_if_needed()
        await page.screenshot(path=f"{SHOTS}/profile-errors-{width}.png")
        await about.fill("A designer in Lisbon.")
        await expect(counter).to_have_text("21 / 8,000 characters")
    assert console.unexpected((422, "/api/v1/me")) == []


async def test_erasing_my_profile_can_be_undone_on_the_profile_page(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch, tmp_path: Path
) -> None:
    page = await sign_in(browser, server, demo.mentor.signin_path, console, 400)
    await goto(page, server, "/me")
    section = page.locator("#your-data")
    await section.get_by_role("button", name="Erase my profile…").click()
    warning = section.locator(".erase-profile .erase-warning")
    await expect(warning).to_contain_text("your mentorship, for the other person too")
    await section.get_by_role("button", name="Erase my profile", exact=True).click()
    planned = section.locator(".erase-profile .erasure-banner")
    await expect(planned).to_contain_text("Your profile will be erased on")
    # Its mentorship says it goes too; the mentee's panel would say the mentor is leaving.
    row = section.locator(f".erase-row[data-mentorship-id='{demo.mentorship_id}']")
    await goto(page, server, "/me")
    await expect(row).to_contain_text("will be erased on")
    await section.scroll_into_view_if_needed()
    await page.screenshot(path=f"{SHOTS}/profile-erase-me-400.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await section.scroll_into_view_if_needed()
    await page.screenshot(path=f"{SHOTS}/profile-erase-me-1280.png")
    await section.get_by_role("button", name="Undo").last.click()
    await expect(section.get_by_role("button", name="Erase my profile…")).to_be_visible()
    await expect(section.get_by_role("status").last).to_contain_text("Your profile is kept")
    await goto(page, server, "/me")
    await expect(row.get_by_role("button", name="Erase…")).to_be_visible()
    assert console.unexpected() == []
