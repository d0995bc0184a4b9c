"""'Email me a sign-in link': a one-time link for each profile with that address, by email.

The API answers the same whether or not the address is known, and as fast: it looks the address
up in both cases and hands the rest (minting links, composing, enqueueing in the durable outbox)
to a background task, so the answer goes out before any work that only a known address causes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from sidecar.db.repositories import Repositories
from sidecar.domain.ids import new_id, utcnow
from sidecar.domain.models import Person
from sidecar.keys import OUTBOX, REPOS, SETTINGS, SIGNIN_MAILER
from sidecar.mail.outbox import Outbox
from sidecar.mail.signin_links import signin_url_for
from sidecar.mail.signin_request import SigninChoice, signin_request_email
from sidecar.settings import Settings

log = logging.getLogger(__name__)


async def send_signin_links(
    repos: Repositories, outbox: Outbox, settings: Settings, people: list[Person], base_url: str
) -> None:
    """One email to the address of `people`, with a link for each of them."""
    lifetime = timedelta(minutes=settings.signin_link_ttl_minutes)
    expires_at = utcnow() + lifetime
    async with repos.transaction():  # the links and their email, committed together
        choices = [
            SigninChoice(
                person,
                await _mentorships_of(repos, person.id),
                await signin_url_for(
                    repos, settings, person.id, base_url=base_url, lifetime=lifetime
                ),
            )
            for person in people
        ]
        message = signin_request_email(
            mail_from=settings.mail_from,
            address=people[0].email,
            choices=choices,
            expires_at=expires_at,
        )
        await outbox.enqueue(
            f"signin-request:{new_id()}", message, kind="signin", person_id=people[0].id
        )


async def _mentorships_of(repos: Repositories, person_id: str) -> list[str]:
    described = []
    for mentorship in await repos.mentorships.list_for(person_id):
        other = mentorship.mentee_id if mentorship.mentor_id == person_id else mentorship.mentor_id
        partner = f", with {(await repos.people.get(other)).name}" if other else ""
        described.append(f"{mentorship.title}{partner}")
    return described


class SigninMailer:
    """Runs `send_signin_links` off the request; shutdown waits for what was accepted."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, people: list[Person], base_url: str) -> None:
        task = asyncio.create_task(self._send(people, base_url), name="signin-request")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, people: list[Person], base_url: str) -> None:
        app = self._app
        try:
            await send_signin_links(app[REPOS], app[OUTBOX], app[SETTINGS], people, base_url)
        except Exception:
            log.exception("sending a sign-in link failed")

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def signin_mailer_context(app: web.Application) -> AsyncIterator[None]:
    """After the outbox in `cleanup_ctx`: the pending links are enqueued before it stops."""
    mailer = SigninMailer(app)
    app[SIGNIN_MAILER] = mailer
    try:
        yield
    finally:
        await mailer.drain()
