"""Shared fixtures: a real SQLite file in tmp_path behind the real application."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sidecar.api.routing import api
from sidecar.app import create_app
from sidecar.demo import DemoSeed, seed_demo
from sidecar.domain.models import Meeting
from sidecar.keys import REPOS
from sidecar.platforms.loader import installed_platforms
from sidecar.settings import Settings
from tests.browser_support import ConsoleWatch
from tests.platform_settings import TESTED, TESTED_NAMES, Configured, app_of
from tests.postgres_cluster import FreshDatabases, PostgresCluster
from tests.postgres_cluster import why_not as postgres_unavailable

if TYPE_CHECKING:
    from tests.smtp_server import SmtpServer
    from tests.test_notes_node_client import NodeDriver

# The real SMTP server fixture (`smtp`) and the real Redis fixtures (`redis_url`, `redis_server`,
# `redis_env`) for every test.
pytest_plugins = ["tests.smtp_server", "tests.redis_server"]

# Load the installed platforms now, so their endpoints are in the API registry before test
# modules list it (the access matrix, the OpenAPI checks); each app serves only its enabled ones.
installed_platforms()
# ...and only those the suite runs with (MENTOR_SIDECAR_PLATFORMS): the apps serve no others.
api.endpoints[:] = api.endpoints_for(TESTED_NAMES)

ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]

# MENTOR_SIDECAR_TEST_DATABASE=postgresql runs the tests on a throwaway PostgreSQL cluster, with a
# fresh database per test (tests/postgres_cluster.py); the default is SQLite in tmp_path.
TEST_DATABASE = os.environ.get("MENTOR_SIDECAR_TEST_DATABASE", "") or "sqlite"
if TEST_DATABASE not in ("sqlite", "postgresql"):
    raise RuntimeError(
        f"MENTOR_SIDECAR_TEST_DATABASE is sqlite or postgresql, not {TEST_DATABASE!r}"
    )


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the session (skips, saying why, without one)."""
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    cluster = PostgresCluster()
    try:
        cluster.start()
        cluster.build_template()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of this test's own, on any backend switch."""
    name = postgres_cluster.copy_now()
    yield postgres_cluster.url(name)
    postgres_cluster.drop(name)


@pytest.fixture(autouse=True)
def tested_platforms_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Settings a test builds runs the platforms the suite runs with
    (MENTOR_SIDECAR_PLATFORMS), unless it names its own: an app with Jitsi's pages but without
    Jitsi's API endpoints (left out of the registry above) is no service anyone runs."""
    if TESTED == "all":
        return
    settings_init = Settings.__init__

    def init(self: Settings, *args: Any, **values: Any) -> None:
        values.setdefault("platforms", TESTED)
        settings_init(self, *args, **values)

    monkeypatch.setattr(Settings, "__init__", init)


@pytest.fixture(autouse=True)
def database_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FreshDatabases | None]:
    """On PostgreSQL, every Settings built without a database_url gets a fresh database."""
    if TEST_DATABASE != "postgresql":
        yield None
        return
    fresh = FreshDatabases(request.getfixturevalue("postgres_cluster"))
    fresh.install(monkeypatch)
    try:
        yield fresh
    finally:
        fresh.drop_all()


@pytest.fixture
def database_env(
    database_backend: FreshDatabases | None, monkeypatch: pytest.MonkeyPatch
) -> str | None:
    """For tests that start the service as a child process: on PostgreSQL, its database made
    now and named in MENTOR_SIDECAR_DATABASE_URL (the children inherit it); None on SQLite."""
    if database_backend is None:
        return None
    url = database_backend.created_now()
    monkeypatch.setenv("MENTOR_SIDECAR_DATABASE_URL", url)
    return url


@pytest.fixture
async def node() -> AsyncIterator[NodeDriver]:
    """The real npm Yjs clients (web/test-clients/yjs_sync.mjs) in one Node process; the tests
    that use it skip without node (tests/test_notes_node_client.py says how)."""
    from tests.test_notes_node_client import NodeDriver

    driver = await NodeDriver.launch()
    try:
        yield driver
    finally:
        await driver.close()


@pytest.fixture(params=["fast", "public"])
def notes_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a live-notes test on both paths (sidecar/notes/aiohttp_gate.py): "fast", aiohttp's
    private parser and writer, and "public", receive() and send_bytes() as on an aiohttp the
    fast path was not tested with. Use with `pytest.mark.usefixtures("notes_path")`."""
    from sidecar.notes import aiohttp_gate

    if request.param == "fast" and not aiohttp_gate.AVAILABLE:
        pytest.skip(f"no fast path here: {aiohttp_gate.REASON}")
    if request.param == "public":
        monkeypatch.setattr(aiohttp_gate, "AVAILABLE", False)
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", platforms=TESTED)


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, settings: Settings | Configured
) -> TestClient[web.Request, web.Application]:
    # A test module's `settings` may carry a platform's settings too (tests/platform_settings.py).
    return await aiohttp_client(app_of(settings))


@dataclass
class Pair:
    mentorship_id: str
    mentor_id: str
    mentee_id: str
    mentor_token: str
    mentee_token: str
    meeting_id: str
    agenda_item_id: str
    goal_id: str
    action_item_id: str
    spare_token_id: str  # a second token of the mentor's, for the revoke endpoint
    agreement_id: str

    def auth(self, who: str = "mentor") -> dict[str, str]:
        token = self.mentor_token if who == "mentor" else self.mentee_token
        return {"Authorization": f"Bearer {token}"}


async def make_pair(app: web.Application, label: str) -> Pair:
    """A complete pair built through the repositories: people, tokens, one of everything."""
    repos = app[REPOS]
    mentor = await repos.people.create(
        name=f"{label} Mentor",
        email=f"mentor.{label}@example.org",
        timezone="Europe/Lisbon",
        locale="pt-PT",
    )
    mentee = await repos.people.create(
        name=f"{label} Mentee",
        email=f"mentee.{label}@example.org",
        timezone="Asia/Tokyo",
        locale="ja",
    )
    mentor_token, _ = await repos.tokens.issue(mentor.id)
    mentee_token, _ = await repos.tokens.issue(mentee.id)
    _, spare = await repos.tokens.issue(mentor.id, label="spare")
    mentorship = await repos.mentorships.create(mentor.id, "mentor", f"{label} mentoring")
    code, _ = await repos.mentorships.create_invite(
        mentorship.id, timedelta(hours=1), viewer=mentor.id
    )
    await repos.mentorships.accept_invite(code, mentee.id)
    start = datetime.now(UTC) + timedelta(days=1)
    meeting = await repos.meetings.create(
        mentorship.id,
        title="Check-in",
        scheduled_start=start,
        scheduled_end=start + timedelta(minutes=45),
        platform="link",
        join_url=None,
        viewer=mentor.id,
    )
    item = await repos.agenda.add(meeting.id, section="topics", text="Feedback", viewer=mentee.id)
    goal = await repos.goals.create(
        mentorship.id, title="Lead a review", description="", viewer=mentee.id
    )
    action = await repos.action_items.create(
        mentorship.id,
        text="Send the draft",
        owner_id=mentee.id,
        due_date=None,
        created_in_meeting_id=meeting.id,
        viewer=mentor.id,
    )
    await repos.people.save_photo(mentee.id, tiny_png())
    agreed = await repos.meeting_agreements.add(meeting.id, "We meet weekly", viewer=mentee.id)
    await repos.summaries.save(meeting.id, "# Check-in\n\nAgreed: meet weekly.", author=None)
    return Pair(
        mentorship_id=mentorship.id,
        mentor_id=mentor.id,
        mentee_id=mentee.id,
        mentor_token=mentor_token,
        mentee_token=mentee_token,
        meeting_id=meeting.id,
        agenda_item_id=item.id,
        goal_id=goal.id,
        action_item_id=action.id,
        spare_token_id=spare.id,
        agreement_id=agreed.id,
    )


async def add_meeting(
    app: web.Application, pair: Pair, start: datetime, *, title: str = "Check-in", by: str = ""
) -> Meeting:
    """Another meeting of the pair, an hour long, made by the mentor unless `by` says."""
    return await app[REPOS].meetings.create(
        pair.mentorship_id,
        title=title,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        platform="link",
        join_url=None,
        viewer=by or pair.mentor_id,
    )


def tiny_png(color: str = "teal") -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (40, 30), color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def pair(client: TestClient[web.Request, web.Application]) -> Pair:
    return await make_pair(client.app, "a")


@pytest.fixture
async def other_pair(client: TestClient[web.Request, web.Application]) -> Pair:
    return await make_pair(client.app, "b")


# --- shared by the browser tests ---------------------------------------------------------------


@pytest.fixture
async def server(aiohttp_server: ClientFactory, tmp_path: Path, smtp: SmtpServer) -> TestServer:
    """The real service, its email going to the real SMTP server of the `smtp` fixture."""
    settings = Settings(data_dir=tmp_path / "data", outbox_poll_seconds=0.1, **smtp.settings())
    server: TestServer = await aiohttp_server(create_app(settings))
    return server


@pytest.fixture
async def demo(server: TestServer) -> DemoSeed:
    return await seed_demo(server.app)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from tests.browser_support import chromium

    async with chromium() as launched:
        yield launched


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()
