"""The panel's smaller points in a real browser against the real service (issue 14, point 11).

Presence shows each person once however many tabs they have open; your own card follows a photo
uploaded in another tab; agenda items say who added them; prompts are there unasked in the first
meetings and "Add to notes" writes one into the shared notes; an erased mentorship stops the
page's sockets and says why; the agreement page is live without any meeting; "Send again" is
limited; home says when the next meeting is.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestServer

from sidecar.demo import DemoSeed
from sidecar.keys import REPOS
from sidecar.web.open_sockets import close_mentorship_sockets
from tests.browser_support import ConsoleWatch, requires_chromium, wait_until_ready
from tests.test_before_the_call_browser import LIVE_MS, api, expect, png
from tests.test_panel_layout_browser import open_page, signin
from tests.waiting import eventually

pytestmark = requires_chromium


async def panel(
    browser: Any, server: TestServer, demo: DemoSeed, who: str, console: ConsoleWatch, width: int
) -> Any:
    person = demo.mentor if who == "mentor" else demo.mentee
    path = await signin(server, person.id, f"/meetings/{demo.meeting_id}")
    page = await open_page(browser, server, path, console, (width, 800))
    # Attached: before the meeting a narrow panel shows the agenda's tab first.
    await page.locator('.notes-status[data-connection="connected"]').wait_for(state="attached")
    return page


async def test_presence_lists_each_person_once(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    mentor = await panel(browser, server, demo, "mentor", console, 1280)
    # The mentor opens the meeting in a second tab of the same browser.
    second = console.watch(await mentor.context.new_page())
    await second.goto(str(server.make_url(f"/meetings/{demo.meeting_id}")))
    await wait_until_ready(second)
    mentee = await panel(browser, server, demo, "mentee", console, 1280)

    chips = ".notes-presence .presence-chip"
    await expect(mentee.locator(chips)).to_have_text(["You", "Helena Costa"], timeout=LIVE_MS)
    for page in (mentor, second):
        # Not "You, Helena Costa, Arjun Mehta": your other tab is you.
        await expect(page.locator(chips)).to_have_text(["You", "Arjun Mehta"], timeout=LIVE_MS)
    assert console.unexpected() == []


async def test_own_card_follows_a_photo_uploaded_in_another_tab(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    mentor = await panel(browser, server, demo, "mentor", console, 400)
    card = mentor.locator("li.person[data-role=mentor]")
    assert "Add a photo" in await card.locator(".person-about").inner_text()
    profile = console.watch(await mentor.context.new_page())
    await profile.goto(str(server.make_url("/me")))
    await wait_until_ready(profile)
    async with profile.expect_response(lambda r: r.url.endswith("/me/photo")) as put:
        await profile.locator("#photo input[type=file]").set_input_files(
            {"name": "me.png", "mimeType": "image/png", "buffer": png()}
        )
    assert (await put.value).status == 200
    # The panel, not reloaded, shows the photo and stops asking for one.
    await card.locator("img.avatar").wait_for(timeout=LIVE_MS)
    await expect(card.locator(".person-about")).not_to_contain_text("photo")
    assert console.unexpected() == []


async def test_agenda_items_say_who_added_them(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    mentor = await panel(browser, server, demo, "mentor", console, 1280)
    rows = mentor.locator("#agenda li.agenda-item")
    assert await rows.count() > 0
    for text in await rows.locator(".item-by").all_inner_texts():
        assert text == "added by Arjun", text  # the demo's agenda is the mentee's
    form = mentor.locator("#agenda form")
    await form.locator("input[name=text]").fill("How to ask for a stretch project")
    await form.locator("button[type=submit]").click()
    mine = mentor.locator("#agenda li.agenda-item", has_text="How to ask for a stretch project")
    await expect(mine.locator(".item-by")).to_have_text("added by you")
    assert console.unexpected() == []


async def test_prompts_shown_in_early_meetings_and_added_to_the_notes(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    mentee = await panel(browser, server, demo, "mentee", console, 1280)
    prompts = mentee.locator("#prompts")
    await prompts.locator(".prompt-text").first.wait_for()  # unasked: the pair's second meeting
    assert await prompts.get_by_role("button", name="Need a question?").count() == 0
    first = prompts.locator(".prompt").first
    text = await first.locator(".prompt-text").inner_text()
    await first.get_by_role("button", name="Add to notes").click()
    # Into the shared document: the editor, and the service's copy, end with it on its own line.
    await expect(mentee.locator("#notes-editor .cm-content")).to_contain_text(text)

    async def stored() -> str:
        notes = await api(server, demo.mentor.token, "GET", f"/meetings/{demo.meeting_id}/notes")
        markdown: str = notes["markdown"]
        return markdown

    async def saved() -> bool:
        return text in await stored()

    await eventually(saved, what="the prompt in the stored notes")
    lines = (await stored()).split("\n")
    assert text in lines, lines
    assert lines.index(text) > 0, "after the heading"
    assert console.unexpected() == []


async def test_an_erased_mentorship_stops_the_sockets_and_says_why(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    mentor = await panel(browser, server, demo, "mentor", console, 400)
    opened: list[str] = []
    mentor.on("websocket", lambda ws: opened.append(ws.url))
    assert await close_mentorship_sockets(server.app, demo.mentorship_id) >= 2
    gone = mentor.locator(".panel-gone")
    await expect(gone).to_contain_text("erased", timeout=LIVE_MS)
    await expect(mentor.locator(".notes-status")).to_have_attribute("data-connection", "closed")
    # Coming back online would reconnect a socket that had only dropped: these stay closed.
    await mentor.evaluate("window.dispatchEvent(new Event('online'))")
    await mentor.evaluate("fetch('/healthz').then(r => r.status)")
    assert opened == []
    assert console.unexpected() == []


async def test_agreement_page_is_live_before_any_meeting(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    repos = server.app[REPOS]
    second = await repos.mentorships.create(demo.mentor.id, "mentor", "Public speaking")
    code, _ = await repos.mentorships.create_invite(
        second.id, timedelta(hours=1), viewer=demo.mentor.id
    )
    await repos.mentorships.accept_invite(code, demo.mentee.id)
    path = await signin(server, demo.mentee.id, f"/mentorships/{second.id}/agreement")
    mentee = await open_page(browser, server, path, console, (400, 800))
    objectives = mentee.locator("textarea[name=objectives]")
    assert await objectives.input_value() == ""
    await api(
        server,
        demo.mentor.token,
        "PATCH",
        f"/mentorships/{second.id}/agreement",
        json={"objectives": "Give a ten-minute talk at the March all-hands"},
    )
    await expect(objectives).to_have_value(
        "Give a ten-minute talk at the March all-hands", timeout=LIVE_MS
    )
    # Erased: the page's socket is closed for good (4410) and the page says why.
    assert await close_mentorship_sockets(server.app, second.id) == 1
    await expect(mentee.locator(".panel-gone")).to_contain_text("erased", timeout=LIVE_MS)
    assert console.unexpected() == []


async def test_send_again_waits_and_home_says_when(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    mentee = await panel(browser, server, demo, "mentee", console, 1280)
    bar = mentee.locator("#agenda .send-bar")
    await bar.get_by_role("button", name="Send agenda to Helena").click()
    await mentee.locator('#agenda .send-bar[data-sent="yes"]').wait_for()
    async with mentee.expect_response(lambda r: r.url.endswith("/agenda/send")) as sent:
        await bar.get_by_role("button", name="Send again").click()
    assert (await sent.value).status == 429
    await expect(bar.locator(".inline-error")).to_contain_text("send it again in 5 min")
    assert await bar.get_by_role("button", name="Send again").is_disabled()

    await mentee.goto(str(server.make_url("/")))
    await wait_until_ready(mentee)
    link = mentee.locator(f'li.mentorship[data-mentorship-id="{demo.mentorship_id}"] a.button')
    label = await link.inner_text()
    assert re.fullmatch(
        r"Open the next meeting — \w{3},? \d{1,2} \w{3},? \d{1,2}:\d\d( [ap]m)?", label
    ), label
    assert console.unexpected((429, "/agenda/send")) == []
