"""The notes editor's Markdown in Chromium: highlighting and list keys (web/src/notes/markdown.js).

The editor highlights Markdown and continues lists with a few regular expressions instead of
the Lezer Markdown parser (issue 15: page weight); this checks what a person sees and types:
headings, bold, task boxes, code fences are marked; Enter continues "- [ ] " items and numbered
lists, Enter on an empty item ends the list, Backspace right after a marker removes it; the
standard keys (undo through Yjs, Home/End, word deletion) still work. Screenshots at 400x800
and 1280x800 in /tmp/shots/front/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from sidecar.demo import DemoSeed
from tests.browser_support import ConsoleWatch, requires_chromium
from tests.test_notes_browser import editor_text, open_panel, rest_notes, wait_for_text
from tests.waiting import eventually

pytestmark = requires_chromium

SHOTS = Path("/tmp/shots/front")
SHOTS.mkdir(parents=True, exist_ok=True)


async def type_lines(page: Any, *keys: str) -> None:
    """Type text, pressing the keys named in braces ({Enter}, {Backspace}) between."""
    for key in keys:
        if key.startswith("{") and key.endswith("}"):
            await page.keyboard.press(key[1:-1])
        else:
            await page.keyboard.type(key, delay=5)


async def test_markdown_is_highlighted_and_lists_continue(
    browser: Any, server: TestServer, demo: DemoSeed, console: ConsoleWatch
) -> None:
    page = await open_panel(browser, server, demo.mentee.signin_path, console, width=1280)
    first = await wait_for_text(page, lambda text: text.startswith("# "))
    await page.locator("#notes-editor .cm-content").click()
    await page.keyboard.press("Control+End")

    # The service's dated heading and an empty line below it, where the cursor is now.
    assert first.endswith("\n"), first
    await type_lines(
        page,
        "- [ ] send the draft @mentee by 2026-12-03",
        "{Enter}",
        "book the room",  # continued as "- [ ] book the room"
        "{Enter}",
        "{Enter}",  # an empty item ends the list: the marker goes, the line stays
        "1. first",
        "{Enter}",
        "second",  # "2. second"
        "{Enter}",
        "{Backspace}",  # right after "3. ": the marker goes
        "Agreed: **weekly** on *Tuesdays*, see `notes.md`",
        "{Enter}",
        "> a quote",
        "{Enter}",
        "{Enter}",  # so does an empty quote line
        "```",
        "{Enter}",
        "- not a list in code",
        "{Enter}",
        "```",
    )
    expected = first + "\n".join(
        [
            "- [ ] send the draft @mentee by 2026-12-03",
            "- [ ] book the room",
            "1. first",
            "2. second",
            "Agreed: **weekly** on *Tuesdays*, see `notes.md`",
            "> a quote",
            "```",
            "- not a list in code",
            "```",
        ]
    )
    assert await wait_for_text(page, lambda text: text == expected) == expected

    async def stored() -> bool:
        return await rest_notes(server, demo.mentee.token, demo.meeting_id) == expected

    await eventually(stored, what="the service to hold the typed notes")

    editor = page.locator("#notes-editor")

    async def marked(cls: str) -> str:  # overlapping marks come as several spans
        return "".join(await editor.locator(f".cm-md-{cls}").all_inner_texts())

    assert await editor.locator(".cm-md-h1").first.inner_text() == first.strip()
    assert await editor.locator(".cm-md-task").all_inner_texts() == ["[ ]", "[ ]"]
    assert await marked("strong") == "**weekly**"
    assert await marked("em") == "*Tuesdays*"
    assert "`notes.md`" in await editor.locator(".cm-md-code").all_inner_texts()
    assert await marked("quote") == "> a quote"
    # Inside the fence nothing is a list, everything is code.
    assert "- not a list in code" in await editor.locator(".cm-md-code").all_inner_texts()
    strong = editor.locator(".cm-md-strong").first
    assert await strong.evaluate("(el) => getComputedStyle(el).fontWeight") == "700"

    # Undo and redo are Yjs' (your own typing only), through y-codemirror's keymap.
    await page.keyboard.press("Control+z")
    await wait_for_text(page, lambda text: text != expected)
    await page.keyboard.press("Control+y")
    assert await wait_for_text(page, lambda text: text == expected) == expected
    # Standard keys: Home, then deleting the word after the cursor (the closing fence).
    await page.keyboard.press("Home")
    await page.keyboard.press("Control+Delete")
    changed = await wait_for_text(page, lambda text: text != expected)
    assert changed == expected.removesuffix("```")

    for width in (400, 1280):
        await page.set_viewport_size({"width": width, "height": 800})
        await page.locator("section#notes").evaluate(
            "(el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 64)"
        )
        await page.screenshot(path=str(SHOTS / f"notes-markdown-{width}.png"))
    assert await editor_text(page)
    assert console.unexpected() == []
