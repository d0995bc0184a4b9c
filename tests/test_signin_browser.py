"""Getting back in, in a real browser: sign out, read how to come back, have a link emailed (to
the real SMTP server), open it on another device and press Sign in; the profile lists each
device and signs one out.

Chromium is Debian's, driven by Playwright; skipped when it is missing. Screenshots at 400x800
and 1280x800 go to /tmp/shots/sign-in/.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from sidecar.demo import MENTEE_EMAIL, DemoSeed
from sidecar.keys import REPOS
from tests.browser_support import (
    ConsoleWatch,
    new_context,
    requires_chromium,
    screenshot,
    wait_until_ready,
)
from tests.smtp_server import SmtpServer
from tests.test_before_the_call_browser import expect, goto
from tests.test_signin_requests import LINK, arrived, body_of

pytestmark = requires_chromium

SHOTS = Path("/tmp/shots/sign-in")
SIZES = ((400, 800), (1280, 800))
SENT = "If that address belongs to a mentorship here, a link is on its way. Check your inbox."
FIREFOX_ON_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"


async def device(browser: Any, console: ConsoleWatch, size: tuple[int, int], **kwargs: Any) -> Any:
    context = await new_context(browser, width=size[0], height=size[1], **kwargs)
    return console.watch(await context.new_page())


async def signed_in(
    browser: Any, server: TestServer, person_id: str, console: ConsoleWatch, **kwargs: Any
) -> Any:
    code = await server.app[REPOS].tokens.create_signin_link(person_id, timedelta(minutes=5))
    page = await device(browser, console, (1280, 800), **kwargs)
    await goto(page, server, f"/signin/{code}")
    return page


async def test_signed_out_then_back_in_with_an_emailed_link(
    browser: Any, server: TestServer, demo: DemoSeed, smtp: SmtpServer, console: ConsoleWatch
) -> None:
    page = await signed_in(browser, server, demo.mentee.id, console)
    await expect(page.locator("h1")).to_contain_text("Hello")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/signed-out")
    await wait_until_ready(page)
    await expect(page.locator("h1")).to_have_text("You are signed out")
    await expect(page.locator(".signin-notice")).to_contain_text("any email from Mentor Sidecar")

    form = page.locator("#signin-request")
    await form.get_by_label("Your email address").fill(MENTEE_EMAIL.upper())
    await form.get_by_role("button", name="Email me a sign-in link").click()
    await expect(form.get_by_role("status")).to_have_text(SENT)
    for size in SIZES:
        await page.set_viewport_size({"width": size[0], "height": size[1]})
        await screenshot(page, SHOTS, f"signed-out-{size[0]}.png")

    [message] = await arrived(smtp, MENTEE_EMAIL)
    [url] = LINK.findall(body_of(message))

    # Another device: the emailed link shows a Sign in button; pressing it signs in there.
    phone = await device(browser, console, (400, 800))
    await phone.goto(url)
    await wait_until_ready(phone)
    await expect(phone.locator("h1")).to_have_text("Sign in to Mentor Sidecar")
    await screenshot(phone, SHOTS, "signin-button-400.png")
    await phone.get_by_role("button", name="Sign in").click()
    await phone.wait_for_url(re.compile(r"/$"))
    await wait_until_ready(phone)
    await expect(phone.locator("h1")).to_contain_text("Hello, Arjun")

    # The link is spent: opened again elsewhere, it says so and offers a new one.
    third = await device(browser, console, (1280, 800))
    response = await third.goto(url)
    assert response is not None and response.status == 404
    await wait_until_ready(third)
    await expect(third.locator("h1")).to_contain_text("has been used or has expired")
    await expect(third.locator("#signin-request")).to_be_visible()
    assert console.unexpected((404, "/signin/" + url.rsplit("/signin/", 1)[1])) == []


async def test_the_home_page_form_answers_in_words(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    for size in SIZES:
        page = await device(browser, console, size)
        await goto(page, server, "/")
        form = page.locator("#signin #signin-request")
        await form.get_by_label("Your email address").fill("not an address")
        await form.get_by_role("button", name="Email me a sign-in link").click()
        await expect(form.locator("[data-field=email] .field-error")).to_have_text(
            "Enter your whole email address, like ana@example.org."
        )
        await form.get_by_label("Your email address").fill("somebody.new@example.org")
        await form.get_by_role("button", name="Email me a sign-in link").click()
        await expect(form.get_by_role("status")).to_have_text(SENT)
        await expect(form.locator("[data-field=email] .field-error")).to_be_hidden()
        await page.locator("#signin").scroll_into_view_if_needed()
        await page.screenshot(path=str(SHOTS / f"home-form-{size[0]}.png"))
        await page.context.close()
    assert console.unexpected((401, "/api/v1/me")) == []


async def test_the_profile_lists_each_device_and_signs_one_out(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    phone = await signed_in(browser, server, demo.mentor.id, console, user_agent=FIREFOX_ON_ANDROID)
    await goto(phone, server, f"/meetings/{demo.meeting_id}")
    for size in SIZES:
        laptop = await device(browser, console, size)
        code = await server.app[REPOS].tokens.create_signin_link(
            demo.mentor.id, timedelta(minutes=5)
        )
        await goto(laptop, server, f"/signin/{code}?next=/me")
        devices = laptop.locator("#devices .device")
        await expect(devices).to_have_count(2 if size == SIZES[0] else 3)
        here = laptop.locator("#devices .device[data-current=true]")
        await expect(here).to_contain_text("This device")
        await expect(here).to_contain_text("Chrome on Linux")
        await laptop.locator("#devices").scroll_into_view_if_needed()
        await laptop.screenshot(path=str(SHOTS / f"profile-devices-{size[0]}.png"))
        if size == SIZES[0]:
            await laptop.context.close()  # its session stays: a device one forgot to sign out
    phone_row = laptop.locator("#devices .device", has_text="Firefox on Android")
    await phone_row.get_by_role("button", name="Sign that device out").click()
    await expect(phone_row).to_have_count(0)
    await expect(laptop.locator("#devices [role=status]")).to_have_text(
        "Firefox on Android is signed out."
    )

    response = await phone.reload()
    assert response is not None and response.status == 401
    await wait_until_ready(phone)
    await expect(phone.locator("h1")).to_contain_text("personal link")
    await expect(phone.locator("#signin-request")).to_be_visible()

    # Signing out here from the list is signing out: the page says how to get back in.
    await (
        laptop.locator("#devices .device[data-current=true]")
        .get_by_role("button", name="Sign this device out")
        .click()
    )
    await laptop.wait_for_url("**/signed-out")
    await wait_until_ready(laptop)
    await expect(laptop.locator("h1")).to_have_text("You are signed out")
    assert console.unexpected((401, f"/meetings/{demo.meeting_id}")) == []
