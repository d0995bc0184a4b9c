"""Erasing with a grace period: nobody loses a mentorship without being told and able to undo.

Erasing a mentorship (either person) plans it `ERASE_GRACE_DAYS` ahead and emails the other
person; during the grace period the mentorship works as before (so the other person can still
read and download it) and both see when it will go, with Undo. Erasing one's profile plans the
profile and every mentorship of the person for the same day; the others are emailed, and only
the person leaving can undo it (undoing brings all of it back). A worker erases what is due,
claiming each row once, so a restart or a second instance neither skips nor doubles an erasure.
With a grace of 0 days everything goes at once, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from sidecar import privacy
from sidecar.db.repositories.erasures import ErasureRepository, MentorshipErasure, ProfileErasure
from sidecar.domain.errors import Conflict, NotFound
from sidecar.domain.ids import utcnow
from sidecar.domain.models import Mentorship, Person
from sidecar.keys import OUTBOX, REPOS, SETTINGS
from sidecar.mail.compose import compose
from sidecar.mail.signin_links import signin_url_for
from sidecar.web.open_sockets import close_person_sockets

log = logging.getLogger(__name__)


def _repo(app: web.Application) -> ErasureRepository:
    return app[REPOS].erasures


def _when(app: web.Application) -> datetime:
    return utcnow() + timedelta(days=app[SETTINGS].erase_grace_days)


async def request_mentorship_erasure(
    app: web.Application, mentorship: Mentorship, requester: str
) -> MentorshipErasure | None:
    """Plan the erasure and tell the other person; None when it was erased at once."""
    other = await _other_person(app, mentorship, requester)
    if app[SETTINGS].erase_grace_days <= 0:
        await privacy.delete_mentorship(app, mentorship.id)
        if other is not None:
            await _tell(app, other, requester, None, mentorship.id)
        return None
    planned = await _repo(app).schedule_mentorship(
        mentorship.id, requester, _when(app), "mentorship"
    )
    if other is not None:
        await _tell(app, other, requester, planned.erase_after, mentorship.id)
    return planned


async def undo_mentorship_erasure(
    app: web.Application, mentorship: Mentorship, person_id: str
) -> None:
    repo = _repo(app)
    planned = await repo.mentorship(mentorship.id)
    if planned is None:
        raise NotFound("planned erasure")
    if planned.reason == "profile" and planned.requested_by == person_id:
        raise Conflict("you are erasing your profile: undo that on your profile page instead")
    if planned.reason == "profile":
        raise Conflict(
            "the other person is erasing their profile; only they can undo it (download "
            "what you want to keep before then)"
        )
    if not await repo.cancel_mentorship(mentorship.id):
        raise Conflict("the erasure has begun and can no longer be undone")
    # Whoever did not undo it was told it would go (or asked for it): tell them it stays.
    other = await _other_person(app, mentorship, person_id)
    if other is not None:
        await _tell_kept(app, other, person_id, planned)


async def request_profile_erasure(app: web.Application, person_id: str) -> ProfileErasure | None:
    """Plan the person's erasure with all their mentorships; None when done at once."""
    repo = _repo(app)
    mentorship_ids = await repo.mentorship_ids_of(person_id)
    if app[SETTINGS].erase_grace_days <= 0:
        others = [await _other_of(app, m, person_id) for m in mentorship_ids]
        for mentorship_id, other in zip(mentorship_ids, others, strict=True):
            await privacy.delete_mentorship(app, mentorship_id)
            if other is not None:
                await _tell(app, other, person_id, None, mentorship_id, leaving=True)
        await _erase_person(app, person_id)
        return None
    planned = await repo.schedule_profile(person_id, _when(app))
    for mentorship_id in mentorship_ids:
        await repo.schedule_mentorship(mentorship_id, person_id, planned.erase_after, "profile")
        other = await _other_of(app, mentorship_id, person_id)
        if other is not None:
            await _tell(app, other, person_id, planned.erase_after, mentorship_id, leaving=True)
    return planned


async def undo_profile_erasure(app: web.Application, person_id: str) -> None:
    if not await _repo(app).cancel_profile(person_id):
        raise Conflict("no erasure of your profile is planned")


async def erase_due(app: web.Application, now: datetime | None = None) -> int:
    """Erase every mentorship and profile whose grace period is over; returns how many."""
    repo = _repo(app)
    now = now or utcnow()
    erased = 0
    for mentorship_id in await repo.due_mentorships(now):
        if await repo.claim_mentorship(mentorship_id, now):
            await privacy.delete_mentorship(app, mentorship_id)
            erased += 1
    for person_id in await repo.due_profiles(now):
        if await repo.claim_profile(person_id, now):
            for mentorship_id in await repo.mentorship_ids_of(person_id):
                await privacy.delete_mentorship(app, mentorship_id)  # joined since: goes too
            await _erase_person(app, person_id)
            erased += 1
    return erased


async def _erase_person(app: web.Application, person_id: str) -> None:
    await close_person_sockets(app, person_id)
    await _repo(app).delete_person(person_id)
    await privacy.scrub(app)
    log.info("person %s erased", person_id)


async def _other_of(app: web.Application, mentorship_id: str, person_id: str) -> Person | None:
    mentorship = await app[REPOS].mentorships.get(mentorship_id, viewer=person_id)
    return await _other_person(app, mentorship, person_id)


async def _other_person(
    app: web.Application, mentorship: Mentorship, person_id: str
) -> Person | None:
    other_id = mentorship.mentee_id if person_id == mentorship.mentor_id else mentorship.mentor_id
    return await app[REPOS].people.get(other_id) if other_id else None


async def _tell(
    app: web.Application,
    reader: Person,
    requester_id: str,
    erase_after: datetime | None,
    mentorship_id: str,
    *,
    leaving: bool = False,
) -> None:
    """Email `reader` that `requester` erased (or will erase) the mentorship they share. The
    email names people and dates only, not the mentorship's contents, since it outlives it."""
    settings = app[SETTINGS]
    # Through a link that signs the reader in: they may be signed out where they read this.
    profile = await signin_url_for(app[REPOS], settings, reader.id, "/me#your-data")
    requester = await app[REPOS].people.get(requester_id)
    who = requester.name
    what = f"{who} is leaving Mentor Sidecar and erasing their profile" if leaving else ""
    if erase_after is None:
        subject = f"{who} erased your mentorship on Mentor Sidecar"
        text = (
            f"Hello {reader.name},\n\n"
            + (f"{what}. " if leaving else f"{who} erased the mentorship you shared. ")
            + "Its agreement, goals, meetings, notes and summaries are gone for both of you.\n"
        )
    else:
        day = f"{erase_after.astimezone(ZoneInfo(reader.timezone)):%A %d %B %Y}"
        subject = f"{who} asked to erase your mentorship on Mentor Sidecar"
        first = (
            f"{what}, so the mentorship you share will be erased on {day}."
            if leaving
            else f"{who} asked to erase the mentorship you share. It will be erased on {day}: "
            "its agreement, goals, meetings, notes and summaries, for both of you."
        )
        undo = (
            "Until then you can download everything from your profile page."
            if leaving
            else "If that is not what you want, either of you can undo it until then, and you "
            "can download everything to keep a copy."
        )
        text = f"Hello {reader.name},\n\n{first}\n\n{undo}\n\nYour profile: {profile}\n"
    message = compose(
        sender=settings.mail_from,
        to_name=reader.name,
        to_address=reader.email,
        subject=subject,
        text=text,
    )
    stamp = erase_after.isoformat() if erase_after else "now"
    await app[OUTBOX].enqueue(
        f"erasure:{mentorship_id}:{reader.id}:{stamp}",
        message,
        kind="erasure_notice",
        person_id=reader.id,
    )


async def _tell_kept(
    app: web.Application, reader: Person, undone_by: str, planned: MentorshipErasure
) -> None:
    settings = app[SETTINGS]
    profile = await signin_url_for(app[REPOS], settings, reader.id, "/me#your-data")
    who = (await app[REPOS].people.get(undone_by)).name
    text = (
        f"Hello {reader.name},\n\n{who} undid the erasure of the mentorship you share: nothing "
        "will be erased, and everything stays as it was.\n\n"
        f"Your profile: {profile}\n"
    )
    message = compose(
        sender=settings.mail_from,
        to_name=reader.name,
        to_address=reader.email,
        subject=f"{who} kept your mentorship on Mentor Sidecar",
        text=text,
    )
    await app[OUTBOX].enqueue(
        f"erasure-undone:{planned.mentorship_id}:{reader.id}:{planned.requested_at.isoformat()}",
        message,
        kind="erasure_notice",
        person_id=reader.id,
    )


async def run_forever(app: web.Application) -> None:
    while True:
        try:
            await erase_due(app)
        except Exception:
            log.exception("an erasure round failed")
        await asyncio.sleep(app[SETTINGS].reminders_poll_seconds)


async def erasure_context(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(run_forever(app), name="erasures")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
