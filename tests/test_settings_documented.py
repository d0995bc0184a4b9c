"""Every setting is documented in the README's settings table, with its real default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sidecar.settings import Settings, SettingsError, documented_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_table() -> dict[str, str]:
    rows = re.findall(r"^\| `(MENTOR_SIDECAR_\w+)` \| `([^`]*)` \|", README.read_text(), re.M)
    return dict(rows)


def test_every_setting_is_in_the_readme_with_its_default() -> None:
    table = readme_table()
    for name, default, help_text in documented_settings():
        assert help_text, f"{name} has no help text"
        assert name in table, f"{name} is not in README.md: run python scripts/settings_table.py"
        assert table[name] == (str(default) or "(empty)"), f"{name}: README default is stale"
    assert set(table) == {name for name, _, _ in documented_settings()}, "README lists extras"


def test_environment_overrides_defaults_and_flags_override_environment() -> None:
    env = {"MENTOR_SIDECAR_PORT": "9000", "MENTOR_SIDECAR_TRUST_FORWARDED_HEADERS": "yes"}
    settings = Settings.from_env(env)
    assert settings.port == 9000 and settings.trust_forwarded_headers is True
    assert Settings.from_env(env, port=9100).port == 9100


@pytest.mark.parametrize(
    ("name", "value"),
    [("MENTOR_SIDECAR_PORT", "x"), ("MENTOR_SIDECAR_TRUST_FORWARDED_HEADERS", "maybe")],
)
def test_a_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
