"""Zoom's cryptography, and ours around it.

- The `x-zoom-app-context` header (Zoom Apps, "Zoom App Context"): base64 of
  [IV length: 1 byte][IV][AAD length: 2 bytes LE][AAD][ciphertext length: 4 bytes LE]
  [ciphertext][tag: 16 bytes], AES-256-GCM with the SHA-256 of the client secret as the key.
- Webhook signatures (Zoom "Using webhooks"): `x-zm-signature` is `v0=` + hex HMAC-SHA256 of
  `v0:{x-zm-request-timestamp}:{raw body}` keyed with the secret token; `endpoint.url_validation`
  is answered with the hex HMAC-SHA256 of `plainToken`.
- Ours: OAuth tokens sealed with AES-256-GCM at rest, HMAC-signed cookies, PKCE S256.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import struct
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TAG_BYTES = 16
MAX_CONTEXT_CHARS = 8192
# A context without `exp` is trusted this long after its `ts`.
CONTEXT_DEFAULT_TTL_MS = 5 * 60 * 1000


class ContextError(ValueError):
    """The x-zoom-app-context header is malformed, tampered with, or expired."""


@dataclass(frozen=True)
class ZoomContext:
    typ: str  # running context: inMeeting, inMainClient, ...
    uid: str  # the Zoom user id
    mid: str  # the meeting UUID (in a meeting), else ""
    ts: int  # created, ms since the epoch
    exp: int  # expires, ms since the epoch
    raw: dict[str, Any]


def _b64decode(text: str) -> bytes:
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    try:
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ContextError("not base64") from exc


def unpack_context(header: str) -> tuple[bytes, bytes, bytes, bytes]:
    """(iv, aad, ciphertext, tag) from the header, checking every length against the data."""
    if not header or len(header) > MAX_CONTEXT_CHARS:
        raise ContextError("missing or too long")
    data = _b64decode(header)
    try:
        iv_len = data[0]
        pos = 1
        iv = data[pos : pos + iv_len]
        pos += iv_len
        (aad_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        aad = data[pos : pos + aad_len]
        pos += aad_len
        (cipher_len,) = struct.unpack_from("<i", data, pos)
        pos += 4
    except (IndexError, struct.error) as exc:
        raise ContextError("truncated") from exc
    if iv_len == 0 or len(iv) != iv_len or len(aad) != aad_len or cipher_len < 0:
        raise ContextError("truncated")
    ciphertext = data[pos : pos + cipher_len]
    tag = data[pos + cipher_len :]
    if len(ciphertext) != cipher_len or len(tag) != TAG_BYTES:
        raise ContextError("bad lengths")
    return iv, aad, ciphertext, tag


def decrypt_context(header: str, client_secret: str, *, now_ms: int | None = None) -> ZoomContext:
    """Decrypt and check Zoom's app context; raises ContextError when it cannot be trusted."""
    if not client_secret:
        raise ContextError("the Zoom client secret is not configured")
    iv, aad, ciphertext, tag = unpack_context(header)
    key = hashlib.sha256(client_secret.encode()).digest()
    try:
        plain = AESGCM(key).decrypt(iv, ciphertext + tag, aad)
    except InvalidTag as exc:
        raise ContextError("tampered with, or sealed with another secret") from exc
    try:
        data = json.loads(plain)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContextError("not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("uid"), str) or not data["uid"]:
        raise ContextError("no uid")
    ts = _millis(data.get("ts"))
    exp = _millis(data.get("exp")) or (ts + CONTEXT_DEFAULT_TTL_MS if ts else 0)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if not exp or exp <= now:
        raise ContextError("expired")
    mid = data.get("mid")
    typ = data.get("typ")
    return ZoomContext(
        typ=typ if isinstance(typ, str) else "",
        uid=data["uid"],
        mid=mid if isinstance(mid, str) else "",
        ts=ts,
        exp=exp,
        raw=data,
    )


def _millis(value: Any) -> int:
    """Zoom gives milliseconds; accept seconds too (anything before 1e11 cannot be ms)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    number = int(value)
    return number * 1000 if 0 < number < 100_000_000_000 else max(number, 0)


# --- webhooks ---------------------------------------------------------------------------------


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_ok(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    expected = webhook_signature(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.encode())


def url_validation_token(secret: str, plain_token: str) -> str:
    return hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()


# --- our own: token sealing, signed cookies, PKCE ---------------------------------------------


def derive_key(material: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, from a configured secret (HKDF-SHA256)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"mentor-sidecar/zoom", info=purpose.encode()
    ).derive(material.encode())


def parse_token_key(value: str) -> bytes:
    """MENTOR_SIDECAR_ZOOM_TOKEN_KEY: 32 bytes in URL-safe base64."""
    try:
        key = base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("MENTOR_SIDECAR_ZOOM_TOKEN_KEY: not URL-safe base64") from exc
    if len(key) != 32:
        raise ValueError("MENTOR_SIDECAR_ZOOM_TOKEN_KEY: must decode to 32 bytes")
    return key


class Sealer:
    """AES-256-GCM: 12-byte random nonce + ciphertext + tag; `context` is bound as AAD."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, data: dict[str, Any], context: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, json.dumps(data).encode(), context.encode())

    def open(self, blob: bytes, context: str) -> dict[str, Any]:
        try:
            plain = self._aead.decrypt(blob[:12], blob[12:], context.encode())
        except (InvalidTag, ValueError) as exc:
            raise ValueError("sealed data cannot be opened with this key") from exc
        data = json.loads(plain)
        if not isinstance(data, dict):
            raise ValueError("sealed data is not an object")
        return data


class Signer:
    """Compact signed values for cookies: base64url(JSON).base64url(HMAC-SHA256)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, data: dict[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()
        return (payload + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()

    def verify(self, value: str | None, *, now: float | None = None) -> dict[str, Any] | None:
        """The signed data if the signature holds and `exp` (seconds) has not passed."""
        if not value or "." not in value or len(value) > 4096:
            return None
        payload, _, mac = value.encode().partition(b".")
        expected = base64.urlsafe_b64encode(hmac.new(self._key, payload, hashlib.sha256).digest())
        if not hmac.compare_digest(expected.rstrip(b"="), mac):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
        except (binascii.Error, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        exp = data.get("exp")
        if not isinstance(exp, int | float) or exp <= (time.time() if now is None else now):
            return None
        return data


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) for PKCE with S256 (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)[:96]
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
