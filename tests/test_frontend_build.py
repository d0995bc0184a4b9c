"""The front-end shipped in sidecar/static/ is exactly what `web/` builds, and fits the contract.

The rebuild tests need Node and `web/node_modules` (run `npm ci` in web/); the others only read
the shipped files, so a pip-installed package is checked too.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
STATIC = ROOT / "sidecar" / "static"
TEMPLATE = ROOT / "sidecar" / "templates" / "page.html"
ASSETS = ("panel.js", "panel.css")
BUILT = (*ASSETS, *(f"{name}.gz" for name in ASSETS))

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed, so the front-end cannot be rebuilt here"
)
needs_node_modules = pytest.mark.skipif(
    not (WEB / "node_modules" / "esbuild").is_dir(),
    reason="web/node_modules is missing: run `npm ci` in web/ to check the front-end build",
)


def build_into(outdir: Path) -> None:
    assert NODE is not None
    result = subprocess.run(
        [NODE, "build.mjs", "--outdir", str(outdir)],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"build failed:\n{result.stdout}\n{result.stderr}"


@needs_node
@needs_node_modules
def test_shipped_assets_equal_a_fresh_build(tmp_path: Path) -> None:
    build_into(tmp_path)
    for name in BUILT:
        fresh = (tmp_path / name).read_bytes()
        shipped = (STATIC / name).read_bytes()
        assert fresh == shipped, f"sidecar/static/{name} is stale: run `npm run build` in web/"


@needs_node
@needs_node_modules
def test_two_builds_give_identical_bytes(tmp_path: Path) -> None:
    build_into(tmp_path / "one")
    build_into(tmp_path / "two")
    for name in BUILT:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), (
            name
        )


@pytest.mark.parametrize("name", ASSETS)
def test_gzip_twin_is_reproducible_and_matches(name: str) -> None:
    raw = (STATIC / name).read_bytes()
    packed = (STATIC / f"{name}.gz").read_bytes()
    assert gzip.decompress(packed) == raw
    flags, mtime = packed[3], int.from_bytes(packed[4:8], "little")
    assert flags & 0x08 == 0, "the gzip header carries a file name"
    assert mtime == 0, "the gzip header carries a modification time"
    assert packed[8] == 2, "not compressed at the best level (XFL should be 2)"


def test_assets_are_minified_and_free_of_eval() -> None:
    js = (STATIC / "panel.js").read_text(encoding="utf-8")
    css = (STATIC / "panel.css").read_text(encoding="utf-8")
    assert js.count("\n") < 10 and css.count("\n") < 10, "assets are not minified"
    assert not re.search(r"\beval\s*\(|new Function\s*\(", js)
    assert "sourceMappingURL" not in js
    assert not re.search(r"https?://", css), "the stylesheet must not load anything from elsewhere"


def test_template_follows_the_contract() -> None:
    html = TEMPLATE.read_text(encoding="utf-8")
    placeholders = set(re.findall(r"{{(\w+)}}", html))
    assert placeholders == {
        "page",
        "meeting_id",
        "mentorship_id",
        "invite_code",
        "csp_nonce",
        "asset_version",
        "title",
    }
    assert 'data-page="{{page}}"' in html
    assert 'data-meeting-id="{{meeting_id}}"' in html
    assert 'data-mentorship-id="{{mentorship_id}}"' in html
    assert 'data-invite-code="{{invite_code}}"' in html
    assert '<link rel="stylesheet" href="/static/panel.css?v={{asset_version}}">' in html
    assert '<script type="module" src="/static/panel.js?v={{asset_version}}"></script>' in html
    # CSP: no inline script, no inline <style>, nothing from another origin.
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert "<style" not in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
