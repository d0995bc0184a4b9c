"""Helpers for the browser tests: Debian's Chromium driven by Playwright's async API.

Never runs `playwright install`: the browser is the system one at /usr/bin/chromium.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic"]

# Every wait in a browser test (locators and `expect`) gets this long: on a busy 2-core machine a
# page can take seconds to react; a deadline is there to report a failure, not to measure speed.
BROWSER_DEADLINE_MS = 30_000

try:
    from playwright.async_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Page,
        async_playwright,
        expect,
    )

    expect.set_options(timeout=BROWSER_DEADLINE_MS)
    _PLAYWRIGHT_MISSING = ""
except ImportError as exc:  # pragma: no cover - depends on the environment
    _PLAYWRIGHT_MISSING = f"playwright is not installed ({exc})"

requires_chromium = pytest.mark.skipif(
    bool(_PLAYWRIGHT_MISSING) or not CHROMIUM.exists(),
    reason=_PLAYWRIGHT_MISSING
    or f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)",
)

# Runs before any page script; CSP violations then show up as console errors, which the tests
# treat as failures. (Chromium also logs "Refused to ..." on its own; this makes it certain.)
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline";
  console.error(`CSP violation: ${event.violatedDirective} blocked ${blocked}`);
});
"""


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@dataclass(frozen=True)
class ConsoleProblem:
    kind: str  # "error" (console) or "pageerror" (uncaught exception)
    text: str
    url: str = ""

    def is_http_failure(self, status: int, url_ending: str) -> bool:
        """Chromium's "Failed to load resource: ... status of 401" line for this URL."""
        path = self.url.split("?", 1)[0]
        return f"status of {status} " in self.text and path.endswith(url_ending)

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}" + (f" [{self.url}]" if self.url else "")


@dataclass
class ConsoleWatch:
    """Every console error (CSP violations included) and uncaught error of the watched pages."""

    problems: list[ConsoleProblem] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("console", self._on_console)
        page.on(
            "pageerror", lambda error: self.problems.append(ConsoleProblem("pageerror", str(error)))
        )
        return page

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            url = (message.location or {}).get("url", "")
            self.problems.append(ConsoleProblem(message.type, message.text, url))

    def unexpected(self, *expected: tuple[int, str]) -> list[str]:
        """What is left after removing the expected HTTP failures, given as (status, URL ending).

        Chromium logs every 4xx response as a console error, including the 401 of
        GET /api/v1/me that tells a page its visitor is signed out.
        """
        return [
            str(problem)
            for problem in self.problems
            if not any(problem.is_http_failure(status, end) for status, end in expected)
        ]


async def new_context(
    browser: Browser, *, width: int, height: int = 900, **kwargs: Any
) -> BrowserContext:
    context = await browser.new_context(
        viewport={"width": width, "height": height}, locale="en-GB", **kwargs
    )
    context.set_default_timeout(BROWSER_DEADLINE_MS)
    await context.add_init_script(REPORT_CSP_VIOLATIONS)
    return context


async def wait_until_ready(page: Page) -> None:
    """The bundle sets body[data-state] once the page has rendered (or failed to)."""
    await page.wait_for_selector("body[data-state]", state="attached")
    assert await page.get_attribute("body", "data-state") == "ready"


async def screenshot(page: Page, directory: Path, name: str, *, copy_to: str | None = None) -> Path:
    """A full-page PNG in `directory` (Playwright creates the folder), optionally copied."""
    path = directory / name
    await page.screenshot(path=str(path), full_page=True)
    if copy_to:  # Playwright makes its own folders, copyfile does not (a fresh machine's /tmp)
        Path(copy_to).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy_to)
    return path
