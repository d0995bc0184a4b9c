"""Rewrite the README's settings table from sidecar.settings and each installed platform's
settings (run after adding a setting)."""

from __future__ import annotations

from pathlib import Path

from sidecar.platforms.loader import settings_models
from sidecar.settings import documented_settings

README = Path(__file__).resolve().parent.parent / "README.md"
HEADER = "| variable | default | what it does |\n| --- | --- | --- |\n"


def table() -> str:
    rows = [
        f"| `{name}` | `{str(default) or '(empty)'}` | {help_text} |"
        for name, default, help_text in documented_settings(settings_models())
    ]
    return HEADER + "\n".join(rows) + "\n"


def main() -> None:
    text = README.read_text()
    start = text.index(HEADER)
    end = text.index("\n\n", start)
    README.write_text(text[:start] + table() + text[end + 1 :])


if __name__ == "__main__":
    main()
