"""A third call platform that exists only in the tests: its own package with its own panel script.

Registered like an installed one (an entry point `mentor_sidecar.platforms: fakecall` pointing
at `tests.fake_platform:PLATFORM`, see `installed` below); it brings no settings, tables or
routes, only a front end: static/panel.js, which the core serves at
/static/platforms/fakecall/panel.js and its meeting panel page loads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from sidecar.platforms import loader
from sidecar.platforms.hookspecs import FrontEnd, PrivacyDeclaration
from sidecar.settings import SettingsGroup

NAME = "fakecall"
STATIC = Path(__file__).parent / "static"


class FakeCallSettings(SettingsGroup):
    pass


class FakeCallPlatform:
    name = NAME
    settings_model = FakeCallSettings
    migrations: tuple[tuple[int, str], ...] = ()
    privacy = PrivacyDeclaration()
    front_end = FrontEnd(STATIC, {"panel": ("panel.js",)})

    def install(self, app: web.Application, settings: SettingsGroup) -> None:
        pass


PLATFORM = FakeCallPlatform()


@contextmanager
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """While inside, the loader finds this platform beside the really installed ones."""
    real = loader.entry_points

    def with_fake(**selection: Any) -> list[EntryPoint]:
        found = list(real(**selection))
        if selection.get("group") == loader.ENTRY_POINT_GROUP:
            found.append(EntryPoint(NAME, f"{__name__}:PLATFORM", loader.ENTRY_POINT_GROUP))
        return found

    with monkeypatch.context() as patch:
        patch.setattr(loader, "entry_points", with_fake)
        yield
