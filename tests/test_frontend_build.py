"""The front-end shipped in sidecar/static/ is exactly what `web/` builds, and fits the contract.

The rebuild tests need Node and `web/node_modules` (run `npm ci` in web/); the others only read
the shipped files, so a pip-installed package is checked too.
"""

from __future__ import annotations

import gzip
import posixpath
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
STATIC = ROOT / "sidecar" / "static"
ZOOM_STATIC = ROOT / "zoom_app" / "static"  # bundled by web/build.mjs too
TEMPLATE = ROOT / "sidecar" / "templates" / "page.html"
ENTRY = "panel.js"  # the one script a page names; the rest are chunks it imports

KB = 1024
LIGHT_PAGE_LIMIT = 40 * KB
PANEL_LIMIT = 150 * KB
# The chunk of each page's module (esbuild names an entry chunk after its file, see build.mjs),
# or a platform's page script by its path under /static/ (served()).
LIGHT_PAGES = {
    "home": ("home-",),
    "invite": ("invite-",),
    # Zoom's card follows the profile: its own script, loaded by platforms.js
    "profile": ("profile-", "platforms-", "platforms/zoom/profile.js"),
    "agreement": ("agreement-",),
    "signed-out": ("signed-out-",),
    "zoom (outside Zoom)": ("platforms-", "platforms/zoom/pages.js"),
}
ZOOM_SDK = "sdk.es-"
ZOOM_PAGES = "platforms/zoom/pages.js"  # zoom_app/static/pages.js, built from static_src/

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed, so the front-end cannot be rebuilt here"
)
needs_node_modules = pytest.mark.skipif(
    not (WEB / "node_modules" / "esbuild").is_dir(),
    reason="web/node_modules is missing: run `npm ci` in web/ to check the front-end build",
)


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file of a built front-end, by its path relative to the folder."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def shipped() -> dict[str, bytes]:
    return files_under(STATIC)


def assets() -> list[str]:
    """The scripts and stylesheets (each has a .gz twin)."""
    return [name for name in shipped() if not name.endswith(".gz")]


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
    build_into(tmp_path)  # the core's files, and the platforms' bundles in platforms/<name>/
    fresh = {n: b for n, b in files_under(tmp_path).items() if not n.startswith("platforms/")}
    ships = shipped()
    assert sorted(fresh) == sorted(ships), "sidecar/static/ is stale: run `npm run build` in web/"
    for name, data in fresh.items():
        assert data == ships[name], f"sidecar/static/{name} is stale: run `npm run build` in web/"
    zoom, zoom_ships = files_under(tmp_path / "platforms" / "zoom"), files_under(ZOOM_STATIC)
    assert zoom == zoom_ships, "zoom_app/static/ is stale: run `npm run build` in web/"


@needs_node
@needs_node_modules
def test_two_builds_give_identical_bytes(tmp_path: Path) -> None:
    build_into(tmp_path / "one")
    build_into(tmp_path / "two")
    assert files_under(tmp_path / "one") == files_under(tmp_path / "two")


@needs_node
@needs_node_modules
def test_a_build_removes_the_chunks_of_the_build_before(tmp_path: Path) -> None:
    stale = tmp_path / "chunks" / "panel-OLDHASH.js"
    stale.parent.mkdir()
    stale.write_text("old")
    build_into(tmp_path)
    assert not stale.exists()


def test_every_asset_has_a_reproducible_gzip_twin() -> None:
    files = shipped()
    assert ENTRY in files and "panel.css" in files and any(n.startswith("chunks/") for n in files)
    assert sorted(files) == sorted([*assets(), *(f"{name}.gz" for name in assets())])
    for name in assets():
        packed = files[f"{name}.gz"]
        assert gzip.decompress(packed) == files[name], name
        flags, mtime = packed[3], int.from_bytes(packed[4:8], "little")
        assert flags & 0x08 == 0, f"the gzip header of {name} carries a file name"
        assert mtime == 0, f"the gzip header of {name} carries a modification time"
        assert packed[8] == 2, f"{name} is not compressed at the best level (XFL should be 2)"


def test_every_platform_script_has_a_current_gzip_twin() -> None:
    """A platform's scripts are served as written, with the twin `npm run build` writes beside
    each; a stale twin would be what a browser that accepts gzip runs."""
    from sidecar.platforms.loader import installed_platforms

    for platform in installed_platforms().values():
        if platform.front_end is None:
            continue
        for script in sorted(platform.front_end.static_dir.rglob("*.js")):
            twin = script.with_name(f"{script.name}.gz")
            assert twin.exists(), f"{script} has no gzip twin: run `npm run build` in web/"
            packed = twin.read_bytes()
            assert gzip.decompress(packed) == script.read_bytes(), (
                f"{twin} is stale: run `npm run build` in web/"
            )
            assert int.from_bytes(packed[4:8], "little") == 0 and packed[3] & 0x08 == 0, twin


def test_assets_are_minified_and_free_of_eval() -> None:
    for name in assets():
        text = shipped()[name].decode("utf-8")
        assert text.count("\n") < 10, f"{name} is not minified"
        if name.endswith(".js"):
            assert not re.search(r"\beval\s*\(|new Function\s*\(", text), name
            assert "sourceMappingURL" not in text, name
        else:
            assert not re.search(r"https?://", text), "the stylesheet must not load from elsewhere"


# --- what each page downloads (issue 15), read from the shipped files -------------------------
# tests/test_page_weight_browser.py measures the same in Chromium.

_STATIC_IMPORT = re.compile(r'(?:\bimport|\bexport)\s*(?:[\w$*{}\s,]*?\bfrom\s*)?"(\.{1,2}/[^"]+)"')
_DYNAMIC_IMPORT = re.compile(r'\bimport\("(\.{1,2}/[^"]+)"\)')


def served() -> dict[str, bytes]:
    """The core's files and the platforms' (under platforms/<name>/), by their path in /static/."""
    from sidecar.platforms.loader import installed_platforms

    files = dict(shipped())
    for name, platform in installed_platforms().items():
        if platform.front_end is not None:
            for path, data in files_under(platform.front_end.static_dir).items():
                files[f"platforms/{name}/{path}"] = data
    return files


def imports(name: str, pattern: re.Pattern[str]) -> set[str]:
    text = served()[name].decode("utf-8")
    folder = posixpath.dirname(name)
    return {posixpath.normpath(posixpath.join(folder, path)) for path in pattern.findall(text)}


def loaded_with(*names: str) -> set[str]:
    """The files a browser fetches for these modules: them and their static imports, deeply."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(imports(name, _STATIC_IMPORT))
    return seen


def chunk(prefix: str) -> str:
    found = [n for n in assets() if n.startswith(f"chunks/{prefix}") and n.endswith(".js")]
    found = [n for n in found if re.fullmatch(rf"chunks/{re.escape(prefix)}[A-Z0-9]+\.js", n)]
    assert len(found) == 1, (prefix, found)
    return found[0]


def gzip_size(names: set[str]) -> int:
    files = served()
    return sum(len(files.get(f"{name}.gz", files[name])) for name in names)


def page_scripts(*prefixes: str) -> set[str]:
    return loaded_with(ENTRY, *(p if p.startswith("platforms/") else chunk(p) for p in prefixes))


@pytest.mark.parametrize("page", sorted(LIGHT_PAGES))
def test_a_light_page_downloads_at_most_40_kb_gzip_of_script(page: str) -> None:
    scripts = page_scripts(*LIGHT_PAGES[page])
    assert gzip_size(scripts) <= LIGHT_PAGE_LIMIT, (page, gzip_size(scripts), sorted(scripts))
    assert not any(n.rsplit("/", 1)[-1].startswith(ZOOM_SDK) for n in scripts)
    assert "CodeMirror" not in " ".join(served()[n].decode("utf-8") for n in scripts), page


def test_the_meeting_panel_downloads_at_most_150_kb_gzip_of_script() -> None:
    scripts = page_scripts("panel-")
    assert gzip_size(scripts) <= PANEL_LIMIT, gzip_size(scripts)


def test_the_zoom_sdk_is_only_imported_on_demand_by_the_zoom_pages() -> None:
    """Zoom's own bundle (zoom_app/static), not the core's: its pages' script imports the SDK's
    chunk on demand (inside Zoom only), nothing else does."""
    scripts = [n for n in served() if n.endswith(".js")]
    [sdk] = [n for n in scripts if n.startswith(f"platforms/zoom/chunks/{ZOOM_SDK}")]
    for name in scripts:
        assert sdk not in imports(name, _STATIC_IMPORT), f"{name} imports the Zoom SDK"
        if sdk in imports(name, _DYNAMIC_IMPORT):
            assert name == ZOOM_PAGES, f"{name} may load the Zoom SDK"
    assert sdk in imports(ZOOM_PAGES, _DYNAMIC_IMPORT)
    for name in assets():  # the core's bundle: no Zoom page, route or SDK
        text = shipped()[name].decode("utf-8")
        assert "/zoom/" not in text and "appssdk" not in text.lower(), name


def test_the_jitsi_call_page_is_jitsis_own_script_not_the_cores() -> None:
    """jitsi_app/static/call.js, served through the platform's FrontEnd: no core asset has it."""
    for name in assets():
        assert "JitsiMeetExternalAPI" not in shipped()[name].decode("utf-8"), name
    call = ROOT / "jitsi_app" / "static" / "call.js"
    assert "JitsiMeetExternalAPI" in call.read_text(encoding="utf-8")
    assert not re.search(r"^\s*import\b", call.read_text(encoding="utf-8"), re.M), (
        "a platform script imports nothing: the core hands it what it needs"
    )


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
        "platform_scripts",
        "platform_preloads",
    }
    assert 'data-page="{{page}}"' in html
    assert 'data-platform-scripts="{{platform_scripts}}"' in html
    assert 'data-meeting-id="{{meeting_id}}"' in html
    assert 'data-mentorship-id="{{mentorship_id}}"' in html
    assert 'data-invite-code="{{invite_code}}"' in html
    assert '<link rel="stylesheet" href="/static/panel.css?v={{asset_version}}">' in html
    assert '<script type="module" src="/static/panel.js?v={{asset_version}}"></script>' in html
    # CSP: no inline script, no inline <style>, nothing from another origin.
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert "<style" not in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
