"""The sign-in link every email carries: opening it signs its reader in on that device.

Each is a one-time `/signin/{code}?next=…` link that waits for a click on its page (so a mail
scanner that fetches every link does not use it up), valid for `EMAIL_SIGNIN_LINK_TTL_HOURS`.
A device that is already signed in as that person just goes on to `next`, link or no link.
Every email composed for a person gets its links from here, so none leaves them locked out.
"""

from __future__ import annotations

from datetime import timedelta

from yarl import URL

from sidecar.db.repositories import Repositories
from sidecar.settings import Settings


async def signin_url_for(
    repos: Repositories,
    settings: Settings,
    person_id: str,
    next_path: str = "/",
    *,
    base_url: str | None = None,
    lifetime: timedelta | None = None,
) -> str:
    """A one-time link to `next_path` (a path on this site) that signs `person_id` in first.

    `base_url` is the site's origin as the request saw it, where there is one; else the setting.
    """
    valid = lifetime or timedelta(hours=settings.email_signin_link_ttl_hours)
    code = await repos.tokens.create_signin_link(person_id, valid, needs_click=True)
    url = URL(f"{(base_url or settings.base_url).rstrip('/')}/signin/{code}")
    return str(url.with_query(next=next_path) if next_path != "/" else url)
