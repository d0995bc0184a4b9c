"""Security headers on every response; a Content-Security-Policy on every HTML page.

A Zoom App is refused without HSTS, nosniff, a Referrer-Policy and a CSP; the policy is strict
(no inline script, no eval) and allows only the nonce'd <style> CodeMirror injects.
"""

from __future__ import annotations

import secrets

from aiohttp import web

from sidecar.keys import SETTINGS

_NONCE: web.RequestKey[str] = web.RequestKey("csp_nonce")
# Sources a page adds to a directive of the strict default (the Jitsi page's script and frame,
# Zoom's frame-ancestors), so one module builds every policy.
_WIDENED: web.RequestKey[dict[str, list[str]]] = web.RequestKey("csp_widened")


def widen_csp(request: web.Request, directive: str, *sources: str) -> None:
    """Allow more sources for one directive of this response's policy.

    `frame-ancestors` replaces the default `'self'` list entirely when widened with `'self'`
    included by the caller if wanted; other directives add to the default.
    """
    if _WIDENED not in request:
        request[_WIDENED] = {}
    request[_WIDENED].setdefault(directive, []).extend(sources)


def csp_nonce(request: web.Request) -> str:
    """This response's nonce, made on first use."""
    if _NONCE not in request:
        request[_NONCE] = secrets.token_urlsafe(16)
    nonce: str = request[_NONCE]
    return nonce


def content_security_policy(nonce: str | None, widened: dict[str, list[str]] | None = None) -> str:
    style_elem = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    directives: dict[str, list[str]] = {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-elem": style_elem.split(" "),
        # y-codemirror.next colours the other person's cursor with a style attribute.
        "style-src-attr": ["'unsafe-inline'"],
        "connect-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
    for directive, sources in (widened or {}).items():
        if directive == "frame-ancestors":
            directives[directive] = list(dict.fromkeys(sources))
        else:
            current = [s for s in directives.get(directive, []) if s != "'none'"]
            directives[directive] = list(dict.fromkeys([*current, *sources]))
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


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
        headers.setdefault(
            "Content-Security-Policy",
            content_security_policy(request.get(_NONCE), request.get(_WIDENED)),
        )
        headers.setdefault("Cache-Control", "no-store")
