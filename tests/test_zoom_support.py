"""Stand-ins for Zoom shared by the tests/test_zoom_*.py files (no tests here).

Each helper is written from Zoom's documentation, not from zoom_app's code, so a test that uses
it checks our implementation against what Zoom does:

- `seal_context`: what the Zoom client sends as `x-zoom-app-context` (Zoom Apps docs, "Zoom App
  Context" / "Decrypting the header value", and Zoom's sample zoomapps-sample-js
  server/helpers/cipher.js): base64 of [IV length: 1 byte][IV][AAD length: uint16 LE][AAD]
  [ciphertext length: int32 LE][ciphertext][16-byte tag], AES-256-GCM, key = SHA-256 of the
  client secret; the JSON has typ, uid, mid, ts and exp (milliseconds).
- `signed_webhook`: how Zoom signs an event notification (Zoom "Using webhooks", "Verify webhook
  events"): `x-zm-request-timestamp` (seconds) and `x-zm-signature` = `v0=` + hex
  HMAC-SHA256(secret token, `v0:{timestamp}:{raw body}`).
- `FakeZoom`: Zoom's OAuth token endpoint (`POST /oauth/token`, HTTP Basic client credentials,
  authorization_code with PKCE S256 and refresh_token grants) and `GET /v2/users/me`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.platform_settings import Configured, configured

CLIENT_ID = "zoom-client-id"
CLIENT_SECRET = "zoom-client-secret-for-tests"
WEBHOOK_SECRET = "zoom-webhook-secret-token"


def zoom_settings(tmp_path: Path, **overrides: Any) -> Configured:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "zoom_client_id": CLIENT_ID,
        "zoom_client_secret": CLIENT_SECRET,
        "zoom_webhook_secret": WEBHOOK_SECRET,
        "outbox_poll_seconds": 0.1,
    }
    return configured(**(values | overrides))


def seal_context(
    claims: dict[str, Any], secret: str = CLIENT_SECRET, *, aad: bytes = b"zoom-aad"
) -> str:
    """Encrypt an app context exactly as Zoom's layout says."""
    key = hashlib.sha256(secret.encode()).digest()
    iv = os.urandom(12)
    sealed = AESGCM(key).encrypt(iv, json.dumps(claims).encode(), aad)
    ciphertext, tag = sealed[:-16], sealed[-16:]
    packed = (
        bytes([len(iv)])
        + iv
        + struct.pack("<H", len(aad))
        + aad
        + struct.pack("<i", len(ciphertext))
        + ciphertext
        + tag
    )
    return base64.b64encode(packed).decode()


def context_claims(uid: str, *, mid: str = "mid-uuid==", ttl_s: int = 300) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    return {"typ": "meeting", "uid": uid, "mid": mid, "ts": now_ms, "exp": now_ms + ttl_s * 1000}


def signed_webhook(
    body: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "x-zm-request-timestamp": ts,
        "x-zm-signature": f"v0={digest}",
    }
    return raw, headers


def meeting_ended(
    number: str, uuid: str, *, end_time: str = "2026-11-25T10:45:00Z"
) -> dict[str, Any]:
    """Shape of Zoom's meeting.ended event (Zoom Meetings webhooks, "meeting.ended")."""
    return {
        "event": "meeting.ended",
        "event_ts": int(time.time() * 1000),
        "payload": {
            "account_id": "AAAAAbbbbCCCCdddd",
            "object": {
                "id": number,
                "uuid": uuid,
                "host_id": "z8yCxjabcdEFGHfp8uQ",
                "topic": "Mentoring",
                "type": 8,
                "start_time": "2026-11-25T10:00:00Z",
                "end_time": end_time,
                "duration": 45,
                "timezone": "Europe/Lisbon",
            },
        },
    }


def participant_event(
    kind: str, number: str, uuid: str, *, at: str, email: str = "", zoom_user_id: str = ""
) -> dict[str, Any]:
    """Shape of meeting.participant_joined / participant_left (Zoom Meetings webhooks)."""
    participant: dict[str, Any] = {
        "user_id": "16778240",  # this participant in this meeting, not the Zoom user
        "user_name": "Someone",
        "id": zoom_user_id,
        "participant_user_id": zoom_user_id,
        "email": email,
        "participant_uuid": "8A6C3E1B-AAAA-BBBB-CCCC-1234567890AB",
    }
    participant["join_time" if kind == "joined" else "leave_time"] = at
    if kind == "left":
        participant["leave_reason"] = "left the meeting"
    return {
        "event": f"meeting.participant_{kind}",
        "event_ts": int(time.time() * 1000),
        "payload": {
            "account_id": "AAAAAbbbbCCCCdddd",
            "object": {
                "id": number,
                "uuid": uuid,
                "host_id": "z8yCxjabcdEFGHfp8uQ",
                "topic": "Mentoring",
                "type": 8,
                "start_time": "2026-11-25T10:00:00Z",
                "timezone": "Europe/Lisbon",
                "participant": participant,
            },
        },
    }


@dataclass
class FakeZoom:
    """Zoom's token endpoint and /v2/users/me, as a small aiohttp app."""

    user_id: str = "zoom-user-1"
    email: str = "helena@zoom.example"
    expires_in: int = 3600
    challenges: dict[str, str] = field(default_factory=dict)  # code -> code_challenge
    grants: list[dict[str, str]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # access tokens handed out

    def authorize(self, challenge: str) -> str:
        """What Zoom's consent screen does: a code bound to the PKCE challenge."""
        code = f"code-{len(self.challenges) + 1}"
        self.challenges[code] = challenge
        return code

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth/token", self.token)
        app.router.add_get("/v2/users/me", self.me)
        return app

    def _tokens(self) -> web.Response:
        access = f"access-{len(self.issued) + 1}"
        self.issued.append(access)
        return web.json_response(
            {
                "access_token": access,
                "token_type": "bearer",
                "refresh_token": f"refresh-{len(self.issued)}",
                "expires_in": self.expires_in,
                "scope": "user:read:user zoomapp:inmeeting",
            }
        )

    async def token(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"reason": "Invalid client_id or client_secret"}, status=401)
        form = dict(await request.post())
        self.grants.append({k: str(v) for k, v in form.items()})
        if form.get("grant_type") == "authorization_code":
            challenge = self.challenges.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier", ""))
            digest = hashlib.sha256(verifier.encode()).digest()
            computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if challenge is None or computed != challenge:
                return web.json_response({"reason": "Invalid authorization code"}, status=400)
            return self._tokens()
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") != f"refresh-{len(self.issued)}":
                return web.json_response({"reason": "Invalid Token!"}, status=400)
            return self._tokens()
        return web.json_response({"reason": "unsupported grant_type"}, status=400)

    async def me(self, request: web.Request) -> web.Response:
        if (
            request.headers.get("Authorization")
            != f"Bearer {self.issued[-1] if self.issued else ''}"
        ):
            return web.json_response({"code": 124, "message": "Invalid access token."}, status=401)
        return web.json_response(
            {"id": self.user_id, "email": self.email, "first_name": "Helena", "account_id": "acc"}
        )
