"""Settings of the core and of the platforms, given together as the tests always have.

`configured(data_dir=..., zoom_client_id=..., jitsi_base_url=...)` sorts each keyword into the
core's `Settings` or the platform settings model declaring it; `app_of` builds the app from
either a plain `Settings` or that pair.

The suite runs with the platforms MENTOR_SIDECAR_PLATFORMS names (every installed one by
default): `MENTOR_SIDECAR_PLATFORMS= pytest` runs it with none, `=jitsi` with Jitsi only; tests
of a platform not chosen skip (`needs`).
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import pytest
from aiohttp import web

from sidecar.app import create_app
from sidecar.platforms.loader import chosen_platforms, settings_models
from sidecar.settings import Settings, SettingsGroup

TESTED = os.environ.get("MENTOR_SIDECAR_PLATFORMS", "all")
TESTED_NAMES = frozenset(p.name for p in chosen_platforms(Settings(platforms=TESTED)))


def needs(*names: str) -> pytest.MarkDecorator:
    """Skip unless every named platform is among those the suite runs with."""
    missing = sorted(set(names) - TESTED_NAMES)
    return pytest.mark.skipif(
        bool(missing), reason=f"MENTOR_SIDECAR_PLATFORMS leaves out {', '.join(missing)}"
    )


class Configured(NamedTuple):
    settings: Settings
    platforms: tuple[SettingsGroup, ...]

    @property
    def database_path(self) -> Any:
        return self.settings.database_path


def configured(**values: Any) -> Configured:
    by_model: dict[type[SettingsGroup], dict[str, Any]] = {m: {} for m in settings_models()}
    core: dict[str, Any] = {}
    for name, value in values.items():
        model = next((m for m in by_model if name in m.model_fields), None)
        (by_model[model] if model else core)[name] = value
    platforms = tuple(model(**given) for model, given in by_model.items() if given)
    return Configured(Settings(**({"platforms": TESTED} | core)), platforms)


def app_of(config: Settings | Configured) -> web.Application:
    if isinstance(config, Settings):
        return create_app(config)
    return create_app(config.settings, platform_settings=config.platforms)
