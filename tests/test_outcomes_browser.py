"""The "Agreements and next steps" card, in a real browser against the real service: the mentee
adds an agreement and a next step owned by the mentor with a due date, the mentor's panel shows
both live, an empty agreement's error appears next to the field, and the summary email sent when
the mentor ends the meeting contains both.

Screenshot: /tmp/outcomes.png (mentor, 420 px).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from sidecar.demo import MENTOR_EMAIL, DemoSeed
from tests.browser_support import ConsoleWatch, requires_chromium, screenshot
from tests.smtp_server import SmtpServer
from tests.test_after_the_call_browser import expect, open_panel, start_now, wait_for_mail

pytestmark = requires_chromium

AGREEMENT = "We share the reading list by email"
STEP = "Send Arjun two example design docs"
DUE = "2031-03-14"


async def test_agreements_and_next_steps_reach_the_summary(
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
    before = len(smtp.inbox.messages)
    for page in (mentor, mentee):  # the notes' tab is the one open during the call
        await page.get_by_role("tab", name="Next steps").click()

    card = mentee.locator("#outcomes")
    await expect(card.get_by_role("heading", name="Agreements and next steps")).to_be_visible()
    assert "@mentee by YYYY-MM-DD" in await card.locator(".outcomes-hint").inner_text()

    # An empty agreement: the error sits next to the field.
    agreement_form = card.get_by_role("form", name="Add an agreement")
    await agreement_form.get_by_role("button", name="Add agreement").click()
    error = agreement_form.locator('[data-field="text"] .field-error')
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("Write what you agreed on")
    await expect(agreement_form.get_by_label("Agreement")).to_have_attribute("aria-invalid", "true")

    await agreement_form.get_by_label("Agreement").fill(AGREEMENT)
    await agreement_form.get_by_role("button", name="Add agreement").click()
    await expect(error).to_be_hidden()
    await expect(card.locator(".outcome--agreement")).to_contain_text(AGREEMENT)

    step_form = card.get_by_role("form", name="Add a next step")
    await step_form.get_by_label("Next step").fill(STEP)
    await step_form.get_by_label("Owner").select_option(demo.mentor.id)
    await step_form.get_by_label("Due").fill(DUE)
    await step_form.get_by_role("button", name="Add next step").click()
    await expect(card.locator(".outcome--step")).to_contain_text(STEP)

    # The mentor's panel follows without a reload.
    other = mentor.locator("#outcomes")
    await expect(other.locator(".outcome--agreement")).to_contain_text(AGREEMENT, timeout=30_000)
    step = other.locator(".outcome--step")
    await expect(step).to_contain_text(STEP, timeout=30_000)
    await expect(step.locator(".owner")).to_have_text("You")
    await expect(step.locator(f'time[datetime="{DUE}"]')).to_be_visible()
    await expect(mentor.locator("#action-items")).to_contain_text(STEP, timeout=30_000)
    await other.scroll_into_view_if_needed()
    await screenshot(mentor, tmp_path, "outcomes.png", copy_to="/tmp/outcomes.png")

    # The mentor ends the call; the add forms disappear on both sides.
    await mentor.get_by_role("button", name="End meeting").click()
    confirm = mentor.locator(".end-confirm")
    await confirm.get_by_role("button", name="End and send").click()
    for page in (mentor, mentee):
        await expect(page.locator("#meeting-ended")).to_be_visible(timeout=30_000)
        await page.get_by_role("tab", name="Next steps").click()
        await expect(page.locator("#outcomes")).to_be_visible()
        await expect(page.locator("#outcomes form")).to_have_count(2)
        for form in await page.locator("#outcomes form").all():
            await expect(form).to_be_hidden(timeout=30_000)

    # The summary email at the real SMTP server holds both.
    await wait_for_mail(smtp, before + 2)
    summaries = [m for m in smtp.inbox.messages[before:] if "Summary" in str(m["Subject"])]
    mine = [m for m in summaries if MENTOR_EMAIL in str(m["To"])]
    assert len(mine) == 1, [str(m["Subject"]) for m in smtp.inbox.messages]
    body = mine[0].get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert AGREEMENT in text, text
    assert STEP in text, text

    assert console.unexpected() == []
