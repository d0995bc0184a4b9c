"""Posting a summary to the pair's own chat (a Slack-compatible incoming webhook).

The URL comes from the pair, so the service must not become a way to reach its own network:
every address the host resolves to must be public (unless the operator allows private ones),
and redirects are not followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from urllib.parse import urlsplit

import aiohttp


class WebhookRefused(Exception):
    pass


async def check_destination(url: str, *, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookRefused("the webhook URL must be http(s)://host/…")
    if allow_private:
        return
    if parts.scheme != "https":
        raise WebhookRefused("the webhook URL must use https")
    infos = await asyncio.get_running_loop().getaddrinfo(
        parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
    )
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise WebhookRefused(f"{parts.hostname} resolves to a non-public address")


async def post(url: str, payload: bytes, *, allow_private: bool) -> None:
    await check_destination(url, allow_private=allow_private)
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(
            url,
            data=payload,
            headers={"Content-Type": "application/json"},
            allow_redirects=False,
        ) as response,
    ):
        if response.status >= 300:
            raise WebhookRefused(f"the webhook answered {response.status}")


def summary_payload(title: str, markdown: str, meeting_id: str) -> bytes:
    """`text` is what Slack (and most chat webhooks) show; the rest is for other receivers."""
    return json.dumps(
        {"text": f"*{title}*\n\n{markdown}", "meeting_id": meeting_id, "summary": markdown}
    ).encode()
