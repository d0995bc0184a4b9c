"""Your data, in a real browser: the profile page downloads the archive and erases a mentorship
after an explicit second step (planned for after the grace period); once the worker has erased
it, the other person finds nothing.

Chromium is Debian's, driven by Playwright; skipped when it is missing. Screenshot:
/tmp/profile-your-data.png (the confirmation step).
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from sidecar import erasure
from sidecar.demo import DemoSeed
from sidecar.keys import SETTINGS
from tests.browser_support import ConsoleWatch, requires_chromium, screenshot
from tests.test_before_the_call_browser import expect, goto, sign_in

pytestmark = requires_chromium


async def test_download_everything_then_erase_the_mentorship(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch, tmp_path: Path
) -> None:
    page = await sign_in(browser, server, demo.mentee.signin_path, console, 1100)
    await goto(page, server, "/me")
    section = page.locator("#your-data")
    await expect(section).to_be_visible()

    async with page.expect_download() as waiting:
        await section.get_by_role("link", name="Download everything (.zip)").click()
    download = await waiting.value
    saved = Path(await download.path())
    archive = zipfile.ZipFile(io.BytesIO(await asyncio.to_thread(saved.read_bytes)))
    assert f"mentorships/{demo.mentorship_id}/agreements.json" in archive.namelist()

    row = section.locator(f".erase-row[data-mentorship-id='{demo.mentorship_id}']")
    await row.get_by_role("button", name="Erase…").click()
    await expect(row.locator(".erase-warning")).to_contain_text("cannot be brought back")
    await screenshot(page, tmp_path, "your-data.png", copy_to="/tmp/profile-your-data.png")
    await row.get_by_role("button", name="Keep it").click()
    await expect(row.get_by_role("button", name="Erase…")).to_be_visible()
    await row.get_by_role("button", name="Erase…").click()
    await row.get_by_role("button", name="Erase for good").click()
    # Planned: the mentor is emailed and either can undo until the day it goes.
    await expect(row).to_contain_text("will be erased on")
    await expect(section.get_by_role("status")).to_contain_text("will be erased on")
    later = datetime.now(UTC) + timedelta(days=server.app[SETTINGS].erase_grace_days, minutes=1)
    assert await erasure.erase_due(server.app, now=later) == 1

    async with aiohttp.ClientSession() as session:
        gone = await session.get(
            server.make_url(f"/api/v1/mentorships/{demo.mentorship_id}"),
            headers={"Authorization": f"Bearer {demo.mentor.token}"},
        )
        assert gone.status == 404
    assert console.unexpected() == []
