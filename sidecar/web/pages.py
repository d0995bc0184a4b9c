"""The HTML pages: one template, filled per page; the panel's script does the rest."""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path, PurePosixPath

from aiohttp import web

from sidecar.api.auth import SESSION_COOKIE, identify
from sidecar.domain.errors import NotFound
from sidecar.keys import ASSET_VERSION, PLATFORMS, REPOS
from sidecar.platforms.loader import ActivePlatform, PlatformError
from sidecar.web.open_sockets import close_token_sockets
from sidecar.web.security import csp_nonce

STATIC_DIR = Path(str(resources.files("sidecar") / "static"))
_TEMPLATE_FILE = resources.files("sidecar") / "templates" / "page.html"
_PLACEHOLDER = re.compile(r"{{(\w+)}}")
_FIELDS = (
    "page",
    "meeting_id",
    "mentorship_id",
    "invite_code",
    "csp_nonce",
    "asset_version",
    "title",
    "platform_scripts",
    "platform_preloads",
)
# Filled with HTML this module builds (each URL in it escaped), so not escaped again.
_RAW_FIELDS = frozenset({"platform_preloads"})
PLATFORM_STATIC = "/static/platforms/"
# Page name (body[data-page]) -> the URLs of the platforms' ES modules that page loads.
PAGE_SCRIPTS: web.AppKey[Mapping[str, tuple[str, ...]]] = web.AppKey("page_scripts")


@functools.cache
def _template() -> str:
    """Read once per process: the template ships with the package and never changes at run time."""
    return _TEMPLATE_FILE.read_text(encoding="utf-8")


def asset_version() -> str:
    digest = hashlib.sha256()
    for name in ("panel.js", "panel.css"):
        path = STATIC_DIR / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def folder_version(folder: Path) -> str:
    """A hash of every file in a platform's static folder: its scripts' ``?v=``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def platform_page_scripts(platforms: Iterable[ActivePlatform]) -> dict[str, tuple[str, ...]]:
    """What each page loads of the platforms' front-ends (`FrontEnd.page_scripts`), as URLs
    under /static/platforms/<name>/. A script that is not a file in its folder stops the start."""
    scripts: dict[str, list[str]] = {}
    for active in platforms:
        front = active.platform.front_end
        if front is None:
            continue
        version = folder_version(front.static_dir)
        for page, paths in front.page_scripts.items():
            for path in paths:
                relative = PurePosixPath(path)
                if relative.is_absolute() or ".." in relative.parts:
                    raise PlatformError(f"{active.name}: {path!r} is not inside its static folder")
                if not (front.static_dir / relative).is_file():
                    raise PlatformError(f"{active.name}: {path!r} is not in {front.static_dir}")
                url = f"{PLATFORM_STATIC}{active.name}/{relative.as_posix()}?v={version}"
                scripts.setdefault(page, []).append(url)
    return {page: tuple(urls) for page, urls in scripts.items()}


def _preloads(urls: Iterable[str]) -> str:
    """Fetch the platforms' modules along with panel.js (main.js imports them)."""
    return "".join(
        f'<link rel="modulepreload" href="{html.escape(url, quote=True)}">\n' for url in urls
    )


def render(
    request: web.Request,
    page: str,
    *,
    title: str,
    status: int = 200,
    meeting_id: str = "",
    mentorship_id: str = "",
    invite_code: str = "",
) -> web.Response:
    scripts = request.app.get(PAGE_SCRIPTS, {}).get(page, ())
    values = {
        "page": page,
        "meeting_id": meeting_id,
        "mentorship_id": mentorship_id,
        "invite_code": invite_code,
        "csp_nonce": csp_nonce(request),
        "asset_version": request.app[ASSET_VERSION],
        "title": title,
        "platform_scripts": " ".join(scripts),
        "platform_preloads": _preloads(scripts),
    }

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name, "")
        return value if name in _RAW_FIELDS else html.escape(value, quote=True)

    body = _PLACEHOLDER.sub(fill, _template())
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


async def home(request: web.Request) -> web.Response:
    return render(request, "home", title="Mentor Sidecar")


PageHandler = Callable[[web.Request, str], Awaitable[web.Response]]


def for_members(handler: PageHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A page for a signed-in person (their id is passed on); anything not theirs is 404."""

    async def page(request: web.Request) -> web.Response:
        identity = await identify(request)
        if identity is None:
            return render(request, "signed-out", title="Sign in to Mentor Sidecar", status=401)
        try:
            return await handler(request, identity.person_id)
        except NotFound:
            return render(request, "not-found", title="Not found", status=404)

    return page


@for_members
async def panel(request: web.Request, viewer: str) -> web.Response:
    meeting = await request.app[REPOS].meetings.get(request.match_info["meeting_id"], viewer=viewer)
    return render(
        request,
        "panel",
        title=meeting.title,
        meeting_id=meeting.id,
        mentorship_id=meeting.mentorship_id,
    )


@for_members
async def agreement(request: web.Request, viewer: str) -> web.Response:
    mentorship = await request.app[REPOS].mentorships.get(
        request.match_info["mentorship_id"], viewer=viewer
    )
    return render(
        request, "agreement", title=f"Agreement: {mentorship.title}", mentorship_id=mentorship.id
    )


@for_members
async def profile(request: web.Request, viewer: str) -> web.Response:
    return render(request, "profile", title="Your profile")


async def invite(request: web.Request) -> web.Response:
    return render(
        request, "invite", title="Join a mentorship", invite_code=request.match_info["code"]
    )


async def signout(request: web.Request) -> web.Response:
    identity = await identify(request)
    if identity is not None and identity.via == "cookie":
        await request.app[REPOS].tokens.revoke(identity.person_id, identity.token_id)
        await close_token_sockets(request.app, identity.token_id)  # 4401: its panels' sockets
    response = web.HTTPSeeOther("/signed-out")  # which says how to get back in
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def favicon(request: web.Request) -> web.Response:
    return web.Response(status=204)


CHUNKS_PATH = "/static/chunks/"
# A chunk's name carries a hash of its content (web/build.mjs): a new build makes new names, so a
# browser may keep each one for good. panel.js and panel.css keep their names; the page asks for
# them with ?v=asset_version.
CHUNK_CACHE_CONTROL = "public, max-age=31536000, immutable"


def is_hashed_chunk(path: str) -> bool:
    """The core's chunks and a platform's (/static/platforms/<name>/chunks/...), built alike."""
    if path.startswith(CHUNKS_PATH):
        return True
    if not path.startswith(PLATFORM_STATIC):
        return False
    _name, _, rest = path[len(PLATFORM_STATIC) :].partition("/")
    return rest.startswith("chunks/")


async def cache_hashed_chunks(request: web.Request, response: web.StreamResponse) -> None:
    if response.status == 200 and is_hashed_chunk(request.path):
        response.headers["Cache-Control"] = CHUNK_CACHE_CONTROL


def local_path(target: str) -> str:
    """Only redirect within this site: '/x' yes, '//evil.example' or 'https://…' no."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def add_routes(app: web.Application) -> None:
    from sidecar.web import signin  # it renders with this module's `render`

    app.router.add_get("/", home)
    app.router.add_get("/meetings/{meeting_id}", panel)
    app.router.add_get("/mentorships/{mentorship_id}/agreement", agreement)
    app.router.add_get("/me", profile)
    app.router.add_get("/invite/{code}", invite)
    signin.add_routes(app)  # /signin/{code}, /signed-out
    app.router.add_post("/signout", signout)
    app.router.add_get("/favicon.ico", favicon)
    # Before /static, whose prefix would otherwise claim /static/platforms/... too.
    platforms = app[PLATFORMS]
    for active in platforms:
        front = active.platform.front_end
        if front is not None:
            app.router.add_static(f"{PLATFORM_STATIC}{active.name}", front.static_dir)
    app[PAGE_SCRIPTS] = platform_page_scripts(platforms)
    if STATIC_DIR.is_dir():
        app.router.add_static("/static", STATIC_DIR)  # serves a file's .gz twin when accepted
        app.on_response_prepare.append(cache_hashed_chunks)
