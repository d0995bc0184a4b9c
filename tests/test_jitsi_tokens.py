"""Room tokens and rooms for the Jitsi call page, checked the way Prosody would check them.

Stands in for Prosody's token authentication (mod_auth_token / token_verification): PyJWT
decodes each token with the app secret, requiring the issuer (`app_id`), the audience and the
claims that plugin reads (jitsi-meet / lib-jitsi-meet `doc/tokens.md`: iss, aud, sub, room, exp,
context.user). JaaS tokens are decoded with the public half of the key the service signs with,
as JaaS would after the public key is uploaded (developer.8x8.com, "The Jitsi JSON Web Token").
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jitsi_app.config import JitsiConfig
from jitsi_app.rooms import meeting_for_room
from jitsi_app.store import JITSI_STORE
from sidecar.settings import SettingsError
from tests.conftest import ClientFactory, Pair, make_pair
from tests.platform_settings import Configured, app_of, configured, needs

pytestmark = needs("jitsi")

Client = TestClient[web.Request, web.Application]
SECRET = "prosody-app-secret-0123456789abcdef"
APP_ID = "mentor_sidecar"


def jitsi_settings(tmp_path: Path, **extra: object) -> Configured:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "jitsi_base_url": "https://meet.example.org",
        "jitsi_app_id": APP_ID,
        "jitsi_app_secret": SECRET,
        "jitsi_event_secret": "event-secret",
    }
    return configured(**(values | extra))


@pytest.fixture
async def jclient(aiohttp_client: ClientFactory, tmp_path: Path) -> Client:
    return await aiohttp_client(app_of(jitsi_settings(tmp_path)))


@pytest.fixture
async def jpair(jclient: Client) -> Pair:
    return await make_pair(jclient.app, "j")


async def get_call(client: Client, pair: Pair, who: str) -> dict[str, object]:
    response = await client.get(f"/api/v1/meetings/{pair.meeting_id}/jitsi", headers=pair.auth(who))
    assert response.status == 200, await response.text()
    body: dict[str, object] = await response.json()
    return body


def decode(token: str, audience: str = "jitsi") -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience=audience,
        issuer=APP_ID,
        options={"require": ["iss", "aud", "sub", "room", "exp", "nbf", "iat"]},
    )
    return claims


async def test_each_person_gets_an_hs256_token_for_the_meeting_room(
    jclient: Client, jpair: Pair
) -> None:
    mentor = await get_call(jclient, jpair, "mentor")
    mentee = await get_call(jclient, jpair, "mentee")

    assert mentor["configured"] is True and mentor["kind"] == "self-hosted"
    assert mentor["domain"] == "meet.example.org"
    assert mentor["script_url"] == "https://meet.example.org/external_api.js"
    room = str(mentor["room_name"])
    assert room == mentee["room_name"], "both people join the same room"
    # Unguessable (128 random bits) and lower case, as Jitsi lower-cases room names.
    assert re.fullmatch(r"ms-[0-9a-f]{32}", room)
    assert await meeting_for_room(jclient.app[JITSI_STORE], room.upper()) == jpair.meeting_id

    header = jwt.get_unverified_header(str(mentor["jwt"]))
    assert header["alg"] == "HS256" and header["typ"] == "JWT"
    now = time.time()
    for who, answer in (("mentor", mentor), ("mentee", mentee)):
        claims = decode(str(answer["jwt"]))
        assert claims["iss"] == APP_ID
        assert claims["aud"] == "jitsi"
        assert claims["sub"] == "meet.example.org"  # the domain, for /ROOM conferences
        assert claims["room"] == room  # the bare room name, not the MUC JID
        exp, nbf = int(claims["exp"]), int(claims["nbf"])  # type: ignore[call-overload]
        assert now + 89 * 60 < exp <= now + 91 * 60, "short-lived: JITSI_TOKEN_MINUTES (90)"
        assert nbf <= now
        user = claims["context"]["user"]  # type: ignore[index]
        person_id = jpair.mentor_id if who == "mentor" else jpair.mentee_id
        assert user["id"] == person_id
        assert user["email"] == f"{who}.j@example.org"
        assert user["name"] == f"j {who.capitalize()}"
        # Prosody rejects non-string user fields, so the flags are strings.
        assert all(isinstance(value, str) for value in user.values())
        assert answer["display_name"] == user["name"] and answer["email"] == user["email"]
    assert decode(str(mentor["jwt"]))["context"]["user"]["moderator"] == "true"  # type: ignore[index]
    assert decode(str(mentor["jwt"]))["context"]["user"]["affiliation"] == "owner"  # type: ignore[index]
    assert decode(str(mentee["jwt"]))["context"]["user"]["moderator"] == "false"  # type: ignore[index]
    assert mentor["moderator"] is True and mentee["moderator"] is False


async def test_a_token_fails_with_the_wrong_secret_or_audience(
    jclient: Client, jpair: Pair
) -> None:
    token = str((await get_call(jclient, jpair, "mentee"))["jwt"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token, "another-secret-of-the-same-length-000", algorithms=["HS256"], audience="jitsi"
        )
    with pytest.raises(jwt.InvalidAudienceError):
        decode(token, audience="someone-else")


async def test_rooms_differ_per_meeting_and_stay_the_same(jclient: Client, jpair: Pair) -> None:
    first = (await get_call(jclient, jpair, "mentor"))["room_name"]
    assert (await get_call(jclient, jpair, "mentee"))["room_name"] == first
    other = await make_pair(jclient.app, "k")
    assert (await get_call(jclient, other, "mentor"))["room_name"] != first


async def test_strangers_get_no_room_and_no_token(jclient: Client, jpair: Pair) -> None:
    other = await make_pair(jclient.app, "x")
    response = await jclient.get(
        f"/api/v1/meetings/{jpair.meeting_id}/jitsi", headers=other.auth("mentor")
    )
    assert response.status == 404
    assert (await jclient.get(f"/api/v1/meetings/{jpair.meeting_id}/jitsi")).status == 401


async def test_without_jitsi_the_endpoint_says_so(client: Client, pair: Pair) -> None:
    body = await (
        await client.get(f"/api/v1/meetings/{pair.meeting_id}/jitsi", headers=pair.auth())
    ).json()
    assert body["configured"] is False and body["jwt"] is None and body["room_name"] == ""
    assert "MENTOR_SIDECAR_JITSI_BASE_URL" in body["message"]


async def test_without_an_app_secret_rooms_are_joined_without_a_token(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    settings = jitsi_settings(tmp_path, jitsi_app_secret="", jitsi_base_url="https://meet.jit.si")
    client = await aiohttp_client(app_of(settings))
    pair = await make_pair(client.app, "p")
    body = await get_call(client, pair, "mentee")
    assert body["jwt"] is None and body["configured"] is True
    assert "five minutes" in str(body["warning"])  # meet.jit.si cuts embedded calls


async def test_jaas_tokens_are_rs256_with_the_key_id(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "jaas.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    app_id = "vpaas-magic-cookie-0123456789abcdef"
    settings = jitsi_settings(
        tmp_path,
        jitsi_base_url="https://8x8.vc",
        jitsi_app_id=app_id,
        jitsi_app_secret="",
        jitsi_jaas_key_id=f"{app_id}/4f4910",
        jitsi_jaas_private_key_file=str(pem),
    )
    client = await aiohttp_client(app_of(settings))
    pair = await make_pair(client.app, "q")
    body = await get_call(client, pair, "mentor")
    assert body["kind"] == "jaas"
    assert body["script_url"] == f"https://8x8.vc/{app_id}/external_api.js"
    assert str(body["room_name"]).startswith(f"{app_id}/ms-")  # JaaS rooms live under the app
    token = str(body["jwt"])
    assert jwt.get_unverified_header(token)["kid"] == f"{app_id}/4f4910"
    claims = jwt.decode(token, key.public_key(), algorithms=["RS256"], audience="jitsi")
    assert claims["iss"] == "chat" and claims["sub"] == app_id
    assert claims["room"] == str(body["room_name"]).split("/", 1)[1]
    assert claims["context"]["user"]["moderator"] == "true"


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        ({"jitsi_base_url": "meet.example.org"}, "JITSI_BASE_URL"),
        ({"jitsi_base_url": "https://meet.example.org/room"}, "JITSI_BASE_URL"),
        ({"jitsi_app_id": ""}, "JITSI_APP_ID"),
        ({"jitsi_jaas_key_id": "kid"}, "JITSI_JAAS_PRIVATE_KEY_FILE"),
        ({"jitsi_token_minutes": 0}, "JITSI_TOKEN_MINUTES"),
    ],
)
def test_bad_jitsi_settings_stop_the_start(
    tmp_path: Path, extra: dict[str, object], names: str
) -> None:
    with pytest.raises(SettingsError, match=names):
        JitsiConfig.from_settings(jitsi_settings(tmp_path, **extra).platforms[0])
