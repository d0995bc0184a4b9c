"""Zoom's event notifications at `/zoom/webhook`, and the worker that acts on them.

The request is verified (x-zm-signature over `v0:{timestamp}:{raw body}`, constant-time; a
timestamp more than MENTOR_SIDECAR_ZOOM_WEBHOOK_MAX_AGE_SECONDS away is refused), stored once
(keyed by event and payload, so Zoom's re-sends are one row) and answered at once; the worker
does the work afterwards, and finds unprocessed events again after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from sidecar import call_events
from sidecar.api.errors import ApiError, InputRejected
from sidecar.db.repositories import Repositories
from sidecar.domain.errors import NotFound
from sidecar.domain.ids import utcnow
from sidecar.domain.models import Meeting
from sidecar.keys import DATABASE, REPOS, SETTINGS
from zoom_app.crypto import signature_ok, url_validation_token
from zoom_app.settings import ZoomSettings
from zoom_app.state import ZOOM, ZoomState, keys_for
from zoom_app.store import StoredEvent, ZoomStore

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0
# Processed events are kept this long, so a late re-send from Zoom is still recognised.
KEEP_PROCESSED = timedelta(days=7)
MAX_ATTEMPTS = 5
# Claimed at a time by one worker: several processes share a backlog.
CLAIM_BATCH = 10
PLATFORM = "zoom"
HANDLED = frozenset({"meeting.ended", "meeting.participant_joined", "meeting.participant_left"})


async def receive(request: web.Request) -> web.Response:
    state = request.app[ZOOM]
    secret = state.settings.zoom_webhook_secret
    if not secret:
        raise ApiError(
            404, "zoom: Zoom events are off here (MENTOR_SIDECAR_ZOOM_WEBHOOK_SECRET is empty)"
        )
    raw = await request.read()
    if len(raw) > request.app[SETTINGS].max_body_bytes:
        raise ApiError(413, "body: too large")
    timestamp = request.headers.get("x-zm-request-timestamp", "")
    signature = request.headers.get("x-zm-signature", "")
    if not signature:
        raise ApiError(401, "x-zm-signature: missing")
    if not timestamp.isdigit():
        raise ApiError(401, "x-zm-request-timestamp: missing or not a number")
    if abs(time.time() - int(timestamp)) > state.settings.zoom_webhook_max_age_seconds:
        raise ApiError(401, "x-zm-request-timestamp: too old or in the future")
    if not signature_ok(secret, timestamp, raw, signature):
        raise ApiError(401, "x-zm-signature: does not match the body")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"body: not valid JSON ({exc})") from exc
    if not isinstance(body, dict) or not isinstance(body.get("event"), str):
        raise InputRejected([{"loc": "event", "msg": "a Zoom event names its event"}])
    event = body["event"]
    payload = body.get("payload")
    if event == "endpoint.url_validation":
        plain = payload.get("plainToken") if isinstance(payload, dict) else None
        if not isinstance(plain, str) or not plain:
            raise InputRejected([{"loc": "payload.plainToken", "msg": "missing"}])
        return web.json_response(
            {"plainToken": plain, "encryptedToken": url_validation_token(secret, plain)}
        )
    if not isinstance(payload, dict):
        raise InputRejected([{"loc": "payload", "msg": "expected an object"}])
    if event not in HANDLED:  # other events of the account: nothing of them is kept
        return web.json_response({"status": "ignored"})
    stored = await state.store.store_event(event, body)
    if stored:
        state.wake.set()
    return web.json_response({"status": "accepted" if stored else "duplicate"})


# --- the worker -------------------------------------------------------------------------------


async def process_pending(app: web.Application) -> int:
    """Act on every stored event not yet processed; returns how many were finished."""
    state = app[ZOOM]
    async with state.working:
        return await _process(app, state)


async def _process(app: web.Application, state: ZoomState) -> int:
    done = 0
    claimed = await state.store.claim_events(limit=CLAIM_BATCH, max_attempts=MAX_ATTEMPTS)
    left = {stored.id for stored in claimed}
    try:
        for stored in claimed:
            try:
                outcome = await handle(app, stored)
            except Exception as exc:
                log.exception("Zoom event %s (%s) failed", stored.id, stored.event)
                await state.store.fail_event(stored.id, repr(exc))
                left.discard(stored.id)
                continue
            await state.store.finish_event(stored.id, outcome)
            left.discard(stored.id)
            log.info("Zoom event %s (%s): %s", stored.id, stored.event, outcome)
            done += 1
    finally:
        if left:  # stopping (or a failed write): the next worker, here or elsewhere, takes them
            await asyncio.shield(state.store.release_events(sorted(left)))
    return done


async def handle(app: web.Application, stored: StoredEvent) -> str:
    if stored.event not in HANDLED:
        return "ignored: not an event the panel uses"
    payload = stored.body.get("payload")
    obj = payload.get("object") if isinstance(payload, dict) else None
    if not isinstance(obj, dict) or obj.get("id") in (None, ""):
        return "ignored: no meeting in the payload"
    number, uuid = str(obj["id"]), str(obj.get("uuid") or "")
    if stored.event == "meeting.ended":
        return await _ended(app, number, uuid, _when(obj.get("end_time")))
    participant = obj.get("participant")
    if not isinstance(participant, dict):
        return "ignored: no participant"
    joined = stored.event == "meeting.participant_joined"
    at = _when(participant.get("join_time" if joined else "leave_time"))
    return await _attendance(app, number, uuid, participant, at, joined=joined)


async def _meetings_for(
    app: web.Application, number: str, uuid: str, at: datetime, *, live_only: bool
) -> list[Meeting]:
    store, repos = app[ZOOM].store, app[REPOS]
    if uuid:
        known = await store.meeting_for_instance(uuid)
        if known is not None:
            with contextlib.suppress(NotFound):
                return [await repos.meetings.read_for_service(known)]
    found = []
    for mentorship_id in await store.mentorships_linked_to(number):
        meeting = await repos.meetings.for_call_at(mentorship_id, at=at)
        if meeting is not None and (meeting.status == "live" or not live_only):
            found.append(meeting)
    return found


async def _ended(app: web.Application, number: str, uuid: str, at: datetime) -> str:
    store = app[ZOOM].store
    meetings = await _meetings_for(app, number, uuid, at, live_only=True)
    if not meetings:
        return "ignored: no live meeting of a pair is linked to this Zoom meeting"
    outcomes = []
    for meeting in meetings:
        if uuid:  # a re-sent meeting.ended of this occurrence then finds the same meeting
            await store.remember_instance(uuid, number, meeting.id)
        ended = await call_events.ended(app, meeting.id, platform=PLATFORM)
        outcomes.append(f"{meeting.id} {'ended' if ended else 'had already ended'}")
    return "; ".join(outcomes)


async def _attendance(
    app: web.Application,
    number: str,
    uuid: str,
    participant: dict[str, Any],
    at: datetime,
    *,
    joined: bool,
) -> str:
    store = app[ZOOM].store
    meetings = await _meetings_for(app, number, uuid, at, live_only=False)
    recorded = []
    for meeting in meetings:
        person_id = await _person(app[REPOS], store, meeting, participant)
        if person_id is None:
            continue
        if joined:
            await call_events.joined(app, meeting.id, person_id, platform=PLATFORM, at=at)
            if uuid:
                await store.remember_instance(uuid, number, meeting.id)
        else:
            await call_events.left(app, meeting.id, person_id, platform=PLATFORM, at=at)
        recorded.append(f"{person_id} {'joined' if joined else 'left'} {meeting.id}")
    return "; ".join(recorded) or "ignored: not a member of a linked pair"


async def _person(
    repos: Repositories, store: ZoomStore, meeting: Meeting, participant: dict[str, Any]
) -> str | None:
    """The member of this pair the participant is: by linked Zoom user id, else by email."""
    pair = await repos.meetings.mentorship_for_service(meeting.id)
    members = {
        person_id: (await repos.people.get(person_id)).email
        for person_id in (pair.mentor_id, pair.mentee_id)
        if person_id
    }
    linked = await store.zoom_users_of(list(members))
    ids = {str(participant.get(k)) for k in ("id", "participant_user_id") if participant.get(k)}
    email = str(participant.get("email") or "").strip().casefold()
    for person_id, (zoom_user_id, _) in linked.items():
        if zoom_user_id in ids:
            return person_id
    if email:
        for person_id, member_email in members.items():
            zoom_email = linked.get(person_id, ("", ""))[1]
            if email in (member_email.casefold(), zoom_email.casefold()):
                return person_id
    return None


def _when(value: Any) -> datetime:
    if isinstance(value, str) and value:
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return utcnow()


async def _work(app: web.Application) -> None:
    state = app[ZOOM]
    while True:
        try:
            await process_pending(app)
            await state.store.forget_processed(before=utcnow() - KEEP_PROCESSED)
        except Exception:
            log.exception("processing Zoom events failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.wake.wait(), timeout=POLL_SECONDS)
        state.wake.clear()


def zoom_context(settings: ZoomSettings) -> Callable[[web.Application], AsyncIterator[None]]:
    """The cleanup context of the Zoom App's state and webhook worker, with these settings."""

    def context(app: web.Application) -> AsyncIterator[None]:
        return _zoom_context(app, settings)

    return context


async def _zoom_context(app: web.Application, settings: ZoomSettings) -> AsyncIterator[None]:
    """The Zoom App's state and its webhook worker (after the database's cleanup context)."""
    sealer, signer = keys_for(settings)
    http = aiohttp.ClientSession()
    app[ZOOM] = ZoomState(settings, ZoomStore(app[DATABASE]), http, sealer, signer)
    task = asyncio.create_task(_work(app), name="zoom-events")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await http.close()


__all__ = ["ZoomState", "process_pending", "receive", "zoom_context"]
