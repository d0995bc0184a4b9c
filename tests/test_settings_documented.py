"""Every setting is documented in the README's settings table, with its real default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import Field, ValidationError

from sidecar.platforms.loader import settings_models
from sidecar.settings import Settings, SettingsError, SettingsGroup, documented_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_table() -> dict[str, str]:
    rows = re.findall(r"^\| `(MENTOR_SIDECAR_\w+)` \| `([^`]*)` \|", README.read_text(), re.M)
    return dict(rows)


def test_every_setting_is_in_the_readme_with_its_default() -> None:
    table = readme_table()
    documented = documented_settings(settings_models())  # the core's and each platform's
    for name, default, help_text in documented:
        assert help_text, f"{name} has no help text"
        assert name in table, f"{name} is not in README.md: run python scripts/settings_table.py"
        assert table[name] == (str(default) or "(empty)"), f"{name}: README default is stale"
    assert set(table) == {name for name, _, _ in documented}, "README lists extras"


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


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MENTOR_SIDECAR_SMTP_SECURITY", "ssl", "'starttls', 'tls' or 'none'"),
        ("MENTOR_SIDECAR_NOTES_COMMIT_WINDOW_MS", "2000", "less than or equal to 1000"),
    ],
)
def test_a_value_outside_its_choices_says_what_is_allowed(
    name: str, value: str, expected: str
) -> None:
    with pytest.raises(SettingsError, match=name) as raised:
        Settings.from_env({name: value})
    assert expected in str(raised.value)


def test_keyword_construction_reads_only_its_arguments_and_settings_are_immutable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MENTOR_SIDECAR_PORT", "9000")
    settings = Settings(data_dir=tmp_path)
    assert settings.port == 8080 and settings.data_dir == tmp_path
    assert Settings.from_env().port == 9000
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Settings(no_such_setting=1)  # type: ignore[call-arg]


def test_a_plugin_settings_model_is_listed_after_the_core_ones() -> None:
    class PluginSettings(SettingsGroup):
        plugin_url: str = Field(default="", description="Where the plugin lives.")

    listed = documented_settings([PluginSettings])
    assert listed[-1] == ("MENTOR_SIDECAR_PLUGIN_URL", "", "Where the plugin lives.")
    assert PluginSettings.from_env({"MENTOR_SIDECAR_PLUGIN_URL": "x"}).plugin_url == "x"

    class Clashing(SettingsGroup):
        port: int = Field(default=1, description="Taken already.")

    with pytest.raises(SettingsError, match="MENTOR_SIDECAR_PORT"):
        documented_settings([Clashing])
