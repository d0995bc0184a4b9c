"""Finding the installed platforms (entry points `mentor_sidecar.platforms`) and choosing the
ones MENTOR_SIDECAR_PLATFORMS names (`all`, the default: every installed one; empty: none).

The core never imports a platform package (tests/contracts: import-linter); it only loads what
the entry points name, so a third platform is a package of its own with an entry point.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points

from sidecar.platforms.hookspecs import Platform
from sidecar.platforms.names import BadPlatformName, checked_platform_name
from sidecar.settings import Settings, SettingsError, SettingsGroup

ENTRY_POINT_GROUP = "mentor_sidecar.platforms"
ALL = "all"


class PlatformError(RuntimeError):
    """An installed platform does not satisfy the plugin interface."""


@dataclass(frozen=True)
class ActivePlatform:
    """A chosen platform with its settings, as the app runs it."""

    platform: Platform
    settings: SettingsGroup

    @property
    def name(self) -> str:
        return self.platform.name


def installed_platforms() -> dict[str, Platform]:
    """Every platform whose package declares the entry point, by name."""
    found: dict[str, Platform] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        platform = point.load()
        if not isinstance(platform, Platform):
            raise PlatformError(f"{point.value}: not a sidecar.platforms.hookspecs.Platform")
        try:
            checked_platform_name(platform.name)
        except BadPlatformName as exc:
            raise PlatformError(f"{point.value}: {exc}") from exc
        if platform.name != point.name:
            raise PlatformError(
                f"{point.value} is named {platform.name!r}, its entry point {point.name!r}"
            )
        found[platform.name] = platform
    return dict(sorted(found.items()))


def settings_models() -> list[type[SettingsGroup]]:
    """The settings of every installed platform (for `mentor-sidecar settings`, the README)."""
    return [platform.settings_model for platform in installed_platforms().values()]


def chosen_platforms(settings: Settings) -> list[Platform]:
    installed = installed_platforms()
    wanted = settings.platforms.strip()
    if wanted == ALL:
        return list(installed.values())
    names = list(dict.fromkeys(name.strip() for name in wanted.split(",") if name.strip()))
    unknown = [name for name in names if name not in installed]
    if unknown:
        raise SettingsError(
            f"MENTOR_SIDECAR_PLATFORMS: {', '.join(unknown)} not installed"
            f" (installed: {', '.join(installed) or 'none'})"
        )
    return [installed[name] for name in names]


def activate(
    settings: Settings,
    given: Iterable[SettingsGroup] = (),
    environ: Mapping[str, str] | None = None,
) -> tuple[ActivePlatform, ...]:
    """The chosen platforms, each with the settings given for it (by type), else read from the
    environment. Settings given for a platform not chosen are not used."""
    by_model = {type(value): value for value in given}
    active = []
    for platform in chosen_platforms(settings):
        model = platform.settings_model
        values = by_model.get(model) or model.from_env(os.environ if environ is None else environ)
        active.append(ActivePlatform(platform, values))
    return tuple(active)
