"""Security headers on every response; a Content-Security-Policy on every HTML page.

A Zoom App is refused without HSTS, nosniff, a Referrer-Policy and a CSP; the policy is strict
(no inline script, no eval) and allows only the nonce'd <style> CodeMirror injects.
"""

from __future__ import annotations

import secrets

from aiohttp import web

from sidecar.keys import SETTINGS

_NONCE: web.RequestKey[str] = web.RequestKey("csp_nonce")


def csp_nonce(request: web.Request) -> str:
    """This response's nonce, made on first use."""
    if _NONCE not in request:
        request[_NONCE] = secrets.token_urlsafe(16)
    nonce: str = request[_NONCE]
    return nonce


def content_security_policy(nonce: str | None) -> str:
    style_elem = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"style-src-elem {style_elem}",
            # y-codemirror.next colours the other person's cursor with a style attribute.
            "style-src-attr 'unsafe-inline'",
            "connect-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    settings = request.app[SETTINGS]
    headers = response.headers
    headers.setdefault(
        "Strict-Transport-Security", f"max-age={settings.hsts_max_age}; includeSubDomains"
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Sign-in and invite codes travel in URLs; never leak a page's URL to another site.
    headers.setdefault("Referrer-Policy", "no-referrer")
    if response.content_type == "text/html":
        headers.setdefault("Content-Security-Policy", content_security_policy(request.get(_NONCE)))
        headers.setdefault("Cache-Control", "no-store")
