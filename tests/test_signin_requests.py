"""Getting back in: "Email me a sign-in link", the sign-in link in every email, and the devices a
person is signed in on. Email goes to the real SMTP server of the `smtp` fixture."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sidecar import reminders, step_reminders
from sidecar.app import create_app
from sidecar.cancellation import cancel_meeting
from sidecar.keys import DATABASE, OUTBOX, REPOS, SETTINGS, SIGNIN_MAILER
from sidecar.meeting_lifecycle import end_meeting
from sidecar.settings import Settings
from sidecar.web.devices import describe_device
from tests.conftest import Pair, add_meeting, make_pair
from tests.smtp_server import SmtpServer

Client = TestClient[web.Request, web.Application]
LINK = re.compile(r"https?://[^\s\"<>]+/signin/msl_[A-Za-z0-9_-]+(?:\?next=[^\s\"<>]+)?")
CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_ON_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"


@pytest.fixture
async def mailing(aiohttp_client: Any, tmp_path: Path, smtp: SmtpServer) -> Client:
    settings = Settings(
        data_dir=tmp_path / "data",
        outbox_poll_seconds=0.1,
        trust_forwarded_headers=True,
        **smtp.settings(),
    )
    client: Client = await aiohttp_client(create_app(settings))
    return client


async def arrived(smtp: SmtpServer, address: str, count: int = 1) -> list[EmailMessage]:
    """The messages to `address`, once `count` of them are in (generous deadline, no sleeps
    standing in for synchronisation: the condition is polled)."""
    deadline = asyncio.get_running_loop().time() + 20
    while len(smtp.inbox.to(address)) < count:
        assert asyncio.get_running_loop().time() < deadline, f"no email to {address}"
        await asyncio.sleep(0.05)
    return smtp.inbox.to(address)


def body_of(message: EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def device_session(agent: str | None = None) -> aiohttp.ClientSession:
    """Another device: a cookie jar of its own (that keeps cookies of a numeric host too)."""
    headers = {"User-Agent": agent} if agent else None
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)


def origin(client: Client) -> dict[str, str]:
    return {"Origin": f"http://{client.host}:{client.port}"}


async def ask(client: Client, address: str, via: str = "203.0.113.9") -> Any:
    return await client.post(
        "/api/v1/signin-requests", json={"email": address}, headers={"X-Forwarded-For": via}
    )


async def test_the_answer_is_the_same_for_known_and_unknown_addresses(
    mailing: Client, smtp: SmtpServer
) -> None:
    pair = await make_pair(mailing.app, "known")
    known = await ask(mailing, "MENTEE.known@Example.org")  # as typed, in any case
    unknown = await ask(mailing, "nobody@example.org")
    assert known.status == unknown.status == 202
    assert await known.json() == await unknown.json()
    assert "link is on its way" in (await known.json())["message"]
    assert dict(known.headers).keys() == dict(unknown.headers).keys()

    [message] = await arrived(smtp, "mentee.known@example.org")
    assert message["Subject"] == "Your sign-in link for Mentor Sidecar"
    assert "Hello known," in body_of(message)
    [url] = LINK.findall(body_of(message))
    assert url in body_of(message, "html")
    await mailing.app[SIGNIN_MAILER].drain()
    rows = await mailing.app[DATABASE].fetch_all("SELECT recipient, person_id FROM outbox")
    assert [r["person_id"] for r in rows] == [pair.mentee_id]  # nothing for the unknown one


async def test_the_emailed_link_signs_in_once_after_a_click(
    mailing: Client, smtp: SmtpServer
) -> None:
    pair = await make_pair(mailing.app, "click")
    await ask(mailing, "mentor.click@example.org")
    [message] = await arrived(smtp, "mentor.click@example.org")
    [url] = LINK.findall(body_of(message))
    link = path_of(url)

    # A mail scanner fetching the link finds a page with a button, and uses nothing up.
    for _ in range(2):
        page = await mailing.get(link, allow_redirects=False)
        assert page.status == 200 and 'data-page="signin"' in await page.text()
        assert page.headers["Cache-Control"] == "no-store"
    assert (await mailing.get("/api/v1/me")).status == 401

    forged = await mailing.post(link, headers={"Origin": "https://evil.example"})
    assert forged.status == 403
    pressed = await mailing.post(
        link, headers={**origin(mailing), "User-Agent": CHROME_ON_WINDOWS}, allow_redirects=False
    )
    assert pressed.status == 303 and pressed.headers["Location"] == "/"
    assert "HttpOnly" in pressed.headers["Set-Cookie"]
    me = await (await mailing.get("/api/v1/me")).json()
    assert me["person"]["id"] == pair.mentor_id
    sessions = (await (await mailing.get("/api/v1/me/sessions")).json())["sessions"]
    assert [(s["device"], s["current"]) for s in sessions] == [("Chrome on Windows", True)]

    mailing.session.cookie_jar.clear()  # another device: the link is spent
    again = await mailing.get(link, allow_redirects=False)
    assert again.status == 404 and 'data-page="link-used"' in await again.text()
    assert (await mailing.post(link, headers=origin(mailing))).status == 404
    assert (await mailing.get("/api/v1/me")).status == 401


async def test_one_address_with_several_profiles_gets_one_email_with_a_link_each(
    mailing: Client, smtp: SmtpServer
) -> None:
    repos = mailing.app[REPOS]
    first = await make_pair(mailing.app, "twice")
    again = await repos.people.create(
        name="twice Mentee", email="mentee.twice@example.org", timezone="UTC", locale="en"
    )
    await repos.mentorships.create(again.id, "mentee", "Writing mentoring")
    assert (await ask(mailing, "mentee.twice@example.org")).status == 202
    [message] = await arrived(smtp, "mentee.twice@example.org")
    text = body_of(message)
    assert "belongs to 2 profiles" in text
    assert "twice mentoring, with twice Mentor" in text and "Writing mentoring" in text
    urls = LINK.findall(text)
    assert len(urls) == 2
    people = []
    for url in urls:
        async with device_session() as browser:  # a device of its own for each
            signed = await browser.post(
                str(mailing.make_url(path_of(url))), headers=origin(mailing)
            )
            assert signed.status == 200
            me = await browser.get(str(mailing.make_url("/api/v1/me")))
            people.append((await me.json())["person"]["id"])
    assert people == [first.mentee_id, again.id]


async def test_requests_are_limited_per_address_and_per_email(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client: Client = await aiohttp_client(
        create_app(
            Settings(
                data_dir=tmp_path / "data",
                signin_requests_per_hour=3,
                signin_requests_per_email_per_hour=2,
                trust_forwarded_headers=True,
            )
        )
    )
    for n in range(3):
        assert (await ask(client, f"p{n}@example.org", via="198.51.100.1")).status == 202
    refused = await ask(client, "p9@example.org", via="198.51.100.1")
    assert refused.status == 429
    assert (await refused.json())["error"]["message"].startswith("signin_request:")
    assert int(refused.headers["Retry-After"]) >= 1

    # One inbox, asked about from everywhere: the third request is refused, known or not.
    for n in range(2):
        assert (await ask(client, "Target@example.org", via=f"192.0.2.{n}")).status == 202
    refused = await ask(client, "target@EXAMPLE.org", via="192.0.2.77")
    assert refused.status == 429
    body = await refused.json()
    assert body["error"]["message"].startswith("signin_email:")
    assert "SIGNIN_REQUESTS_PER_EMAIL_PER_HOUR" in body["error"]["message"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await ask(client, "other@example.org", via="192.0.2.78")).status == 202


@pytest.mark.parametrize(
    "body",
    [{}, {"email": ""}, {"email": "not an address"}, {"email": None}, {"email": 7}],
)
async def test_bad_input_names_the_email_field(client: Client, body: dict[str, Any]) -> None:
    response = await client.post("/api/v1/signin-requests", json=body)
    assert response.status == 422
    assert [f["loc"] for f in (await response.json())["error"]["fields"]] == ["email"]


async def test_an_unknown_field_is_refused(client: Client) -> None:
    response = await client.post(
        "/api/v1/signin-requests", json={"email": "a@example.org", "admin": True}
    )
    assert response.status == 422
    assert "admin" in (await response.json())["error"]["message"]


async def test_every_email_carries_a_link_that_signs_its_reader_in(
    mailing: Client, smtp: SmtpServer
) -> None:
    """Agenda, both reminders, a next step due, summary, cancellation, erasure notice and the
    sign-in request: each to its own reader."""
    app = mailing.app
    pair = await make_pair(app, "every")
    assert (
        await mailing.post(
            f"/api/v1/meetings/{pair.meeting_id}/agenda/send", headers=pair.auth("mentee")
        )
    ).status == 200
    soon = await add_meeting(app, pair, datetime.now(UTC) + timedelta(minutes=10), title="Soon")
    await reminders.schedule(app[REPOS], soon, app[SETTINGS])
    assert await reminders.send_due(app[REPOS], app[OUTBOX], app[SETTINGS]) == 3
    assert await end_meeting(app, soon.id, source="idle", actor=None)
    later = await add_meeting(app, pair, datetime.now(UTC) + timedelta(days=3), title="Later")
    await cancel_meeting(app, later.id, viewer=pair.mentor_id)
    # A next step due in three days (Tokyo time), reminded the day before at 10:00 there.
    tokyo = ZoneInfo("Asia/Tokyo")
    due = datetime.now(tokyo).date() + timedelta(days=3)
    await app[REPOS].action_items.create(
        pair.mentorship_id,
        text="Send the portfolio",
        owner_id=pair.mentee_id,
        due_date=due,
        created_in_meeting_id=None,
        viewer=pair.mentee_id,
    )
    day_before = datetime.combine(due - timedelta(days=1), time(10), tokyo)
    assert await step_reminders.send_due(app[REPOS], app[OUTBOX], app[SETTINGS], day_before) == 1
    await ask(mailing, "mentor.every@example.org")
    await app[SIGNIN_MAILER].drain()
    erase = await mailing.delete(
        f"/api/v1/mentorships/{pair.mentorship_id}", json={"confirm": True}, headers=pair.auth()
    )
    assert erase.status == 202, await erase.text()  # the mentee is told, with a week to undo

    rows = await app[DATABASE].fetch_all(
        "SELECT kind, person_id, message FROM outbox WHERE kind != 'webhook' ORDER BY id"
    )
    kinds = sorted(r["kind"] for r in rows)
    expected = ["agenda", "agenda_due", "starting_soon", "starting_soon", "summary", "summary"]
    expected += ["cancellation", "cancellation", "step_due", "signin", "erasure_notice"]
    assert kinds == sorted(expected)
    for row in rows:
        message = email.message_from_bytes(row["message"], policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        urls = LINK.findall(body_of(message))
        assert urls, f"{row['kind']} email has no sign-in link"
        if message.get_body(preferencelist=("html",)) is not None:
            assert any(u.replace("&", "&amp;") in body_of(message, "html") for u in urls), row[
                "kind"
            ]
        # The link signs in the email's own reader, on a device of its own.
        async with device_session() as device:
            signed = await device.post(
                str(mailing.make_url(path_of(urls[0]))), headers=origin(mailing)
            )
            assert signed.status == 200, row["kind"]
            me = await device.get(str(mailing.make_url("/api/v1/me")))
            assert (await me.json())["person"]["id"] == row["person_id"], row["kind"]
        if row["kind"] == "erasure_notice":
            assert "next=/me" in urls[0]
        elif row["kind"] != "signin":
            assert "next=/meetings/" in urls[0], row["kind"]
    await arrived(smtp, "mentor.every@example.org", count=4)  # and they do go out by SMTP


async def test_an_emailed_link_on_a_device_already_signed_in_just_follows(
    mailing: Client, pair: Pair
) -> None:
    repos = mailing.app[REPOS]
    first = await repos.tokens.create_signin_link(pair.mentor_id, timedelta(minutes=5))
    assert (await mailing.get(f"/signin/{first}", allow_redirects=False)).status == 303
    code = await repos.tokens.create_signin_link(
        pair.mentor_id, timedelta(minutes=5), needs_click=True
    )
    target = f"/meetings/{pair.meeting_id}"
    followed = await mailing.get(f"/signin/{code}", params={"next": target}, allow_redirects=False)
    assert followed.status == 303 and followed.headers["Location"] == target
    assert (await repos.tokens.peek_signin_link(code)).usable  # not used up
    # Signed in as someone else, the page offers to sign in as the link's person instead.
    other = await repos.tokens.create_signin_link(
        pair.mentee_id, timedelta(minutes=5), needs_click=True
    )
    offered = await mailing.get(f"/signin/{other}", allow_redirects=False)
    assert offered.status == 200 and 'data-page="signin"' in await offered.text()


async def test_the_profile_lists_each_device_and_signs_one_out(mailing: Client, pair: Pair) -> None:
    repos = mailing.app[REPOS]
    devices = []
    for agent in (CHROME_ON_WINDOWS, FIREFOX_ON_ANDROID):
        device = device_session(agent)
        code = await repos.tokens.create_signin_link(pair.mentee_id, timedelta(minutes=5))
        assert (await device.get(str(mailing.make_url(f"/signin/{code}")))).status == 200
        devices.append(device)
    laptop, phone = devices
    try:
        url = str(mailing.make_url(f"/ws/meetings/{pair.meeting_id}/events"))
        socket = await phone.ws_connect(url, headers=origin(mailing))
        await socket.receive_json()  # hello

        listed = await laptop.get(str(mailing.make_url("/api/v1/me/sessions")))
        sessions = (await listed.json())["sessions"]
        assert {(s["device"], s["current"]) for s in sessions} == {
            ("Chrome on Windows", True),
            ("Firefox on Android", False),
        }
        assert all(s["last_used_at"] for s in sessions)
        phone_id = next(s["id"] for s in sessions if not s["current"])
        ended = await laptop.delete(
            str(mailing.make_url(f"/api/v1/me/sessions/{phone_id}")), headers=origin(mailing)
        )
        assert ended.status == 204
        closing = await asyncio.wait_for(socket.receive(), 10)
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4401
        assert (await phone.get(str(mailing.make_url("/api/v1/me")))).status == 401
        assert (await laptop.get(str(mailing.make_url("/api/v1/me")))).status == 200
        again = await laptop.delete(
            str(mailing.make_url(f"/api/v1/me/sessions/{phone_id}")), headers=origin(mailing)
        )
        assert again.status == 404
        # An API token is not a session: the bearer one of the fixture cannot be ended here.
        tokens = await repos.tokens.list(pair.mentee_id)
        api_token = next(t for t in tokens if t.kind == "api")
        assert (
            await laptop.delete(
                str(mailing.make_url(f"/api/v1/me/sessions/{api_token.id}")),
                headers=origin(mailing),
            )
        ).status == 404
    finally:
        for device in devices:
            await device.close()


async def test_signing_out_lands_on_the_page_that_says_how_to_get_back_in(
    client: Client, pair: Pair
) -> None:
    code = await client.app[REPOS].tokens.create_signin_link(pair.mentor_id, timedelta(minutes=5))
    await client.get(f"/signin/{code}")
    assert (await client.get("/signed-out", allow_redirects=False)).status == 303  # signed in
    out = await client.post("/signout", headers=origin(client), allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/signed-out"
    page = await client.get("/signed-out")
    assert page.status == 200 and 'data-page="after-signout"' in await page.text()


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (CHROME_ON_WINDOWS, "Chrome on Windows"),
        (FIREFOX_ON_ANDROID, "Firefox on Android"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
            " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iPhone",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like"
            " Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
            "Edge on macOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " HeadlessChrome/131.0.0.0 Safari/537.36",
            "Chrome on Linux",
        ),
        ("curl/8.5.0", "A browser"),
        (None, "A browser"),
    ],
)
def test_devices_are_described_in_a_few_words(agent: str | None, expected: str) -> None:
    assert describe_device(agent) == expected
