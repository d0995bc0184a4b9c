"""Room tokens: one short-lived JWT per person and meeting room.

Self-hosted Jitsi (Prosody `authentication = "token"`, jitsi-meet `doc/tokens.md` of
lib-jitsi-meet): HS256 signed with `app_secret`; `iss` is the `app_id`, `aud` one of
`asap_accepted_audiences`, `sub` the XMPP domain (or `*`), `room` the bare room name (not the MUC
JID), `exp`/`nbf`/`iat` in seconds. `context.user` carries `id`, `name` and `email` (strings only:
Prosody rejects other types), which Prosody hands to the event_sync module so its events name the
person; `moderator` ("true"/"false", JaaS's and the moderation plugins' convention) and
`affiliation` (`owner`/`member`, read by jitsi-contrib's token_affiliation) make the mentor the
moderator.

JaaS (developer.8x8.com, "The Jitsi JSON Web Token"): RS256 with a `kid` header naming the
uploaded API key; `iss` "chat", `aud` "jitsi", `sub` the app ID, the same `context.user`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from jitsi_app.config import JitsiConfig
from sidecar.domain.models import Person

# Tolerated clock difference between this service and Prosody.
CLOCK_SKEW = timedelta(seconds=30)


@dataclass(frozen=True)
class RoomToken:
    token: str
    expires_at: datetime


def room_token(
    config: JitsiConfig, *, room: str, person: Person, moderator: bool, now: datetime
) -> RoomToken | None:
    """The person's token for `room`, or None when the server takes no tokens."""
    if not config.signs_tokens:
        return None
    expires = now + timedelta(minutes=config.token_minutes)
    user = {
        "id": person.id,
        "name": person.name,
        "email": person.email,
        "moderator": "true" if moderator else "false",
        "affiliation": "owner" if moderator else "member",
    }
    claims: dict[str, Any] = {
        "room": room,
        "iat": int(now.timestamp()),
        "nbf": int((now - CLOCK_SKEW).timestamp()),
        "exp": int(expires.timestamp()),
        "context": {"user": user},
    }
    if config.kind == "jaas":
        claims |= {"iss": "chat", "aud": "jitsi", "sub": config.app_id}
        claims["context"]["features"] = {
            "livestreaming": "false",
            "recording": "false",
            "transcription": "false",
            "outbound-call": "false",
        }
        token = jwt.encode(
            claims,
            config.jaas_private_key,
            algorithm="RS256",
            headers={"kid": config.jaas_key_id, "typ": "JWT"},
        )
    else:
        claims |= {"iss": config.app_id, "aud": config.audience, "sub": config.subject}
        token = jwt.encode(claims, config.app_secret, algorithm="HS256", headers={"typ": "JWT"})
    return RoomToken(token, datetime.fromtimestamp(claims["exp"], now.tzinfo))
