"""Posting a summary to the pair's own chat (a Slack-compatible incoming webhook).

The URL comes from the pair, so the service must not become a way to reach its own network:
every address the host resolves to must be public (unless the operator allows private ones),
and redirects are not followed. The host is resolved once: the connection goes to exactly the
addresses that were checked (`PinnedResolver`), so a DNS answer that changes between the check
and the connection (rebinding) cannot send it to a private address. TLS still verifies the
certificate against the URL's host name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

# getaddrinfo's shape: (host, port) -> [(family, type, proto, canonname, sockaddr), ...]
AddressInfo = tuple[Any, ...]
Lookup = Callable[[str, int], Awaitable[Sequence[AddressInfo]]]
SocketFactory = Callable[[Any], socket.socket]


class WebhookRefused(Exception):
    pass


async def system_lookup(host: str, port: int) -> Sequence[AddressInfo]:
    return await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)


class PinnedResolver(AbstractResolver):
    """Answers aiohttp with the addresses already checked, for the one host they belong to."""

    def __init__(self, host: str, addresses: Sequence[ResolveResult]) -> None:
        self._host = host
        self._addresses = list(addresses)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != self._host:  # redirects are off, so aiohttp never asks for another host
            raise OSError(f"{host} was not checked")
        return [{**address, "port": port or address["port"]} for address in self._addresses]

    async def close(self) -> None:
        return None


async def check_destination(
    url: str, *, allow_private: bool, lookup: Lookup = system_lookup
) -> list[ResolveResult] | None:
    """Refuse a URL that is not http(s) or whose host has a non-public address; return the
    checked addresses to connect to (None when private addresses are allowed: no pinning)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookRefused("the webhook URL must be http(s)://host/…")
    if allow_private:
        return None
    if parts.scheme != "https":
        raise WebhookRefused("the webhook URL must use https")
    port = parts.port or 443
    try:
        infos = await lookup(parts.hostname, port)
    except OSError as exc:
        raise WebhookRefused(f"{parts.hostname} could not be resolved ({exc})") from exc
    checked: list[ResolveResult] = []
    for family, _type, proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if not address.is_global:
            raise WebhookRefused(f"{parts.hostname} resolves to a non-public address")
        checked.append(
            {
                "hostname": parts.hostname,
                "host": str(address),
                "port": port,
                "family": family,
                "proto": proto,
                "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            }
        )
    if not checked:
        raise WebhookRefused(f"{parts.hostname} has no address")
    return checked


async def post(
    url: str,
    payload: bytes,
    *,
    allow_private: bool,
    lookup: Lookup = system_lookup,
    socket_factory: SocketFactory | None = None,
) -> None:
    """POST `payload`; `lookup` and `socket_factory` let a test play DNS and watch connects."""
    checked = await check_destination(url, allow_private=allow_private, lookup=lookup)
    hostname = urlsplit(url).hostname or ""
    connector = aiohttp.TCPConnector(
        resolver=PinnedResolver(hostname, checked) if checked is not None else None,
        use_dns_cache=False,
        socket_factory=socket_factory,
    )
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession(timeout=timeout, connector=connector) as session,
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
