"""Every `web.AppKey` of the application, in one place."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from aiohttp import web

from sidecar.db import Database
from sidecar.db.repositories import Repositories
from sidecar.live.hub import MeetingEvents
from sidecar.mail.outbox import Outbox
from sidecar.notes.room import Rooms
from sidecar.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
REPOS = web.AppKey("repositories", Repositories)
# Open websockets, closed with GOING_AWAY on shutdown (the live-notes endpoint registers here).
WEBSOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("websockets")
ASSET_VERSION = web.AppKey("asset_version", str)
# Open panels of each meeting, told when shared state changes (sidecar.live).
LIVE_EVENTS = web.AppKey("live_events", MeetingEvents)
# Email waiting to go out (sidecar.mail).
OUTBOX = web.AppKey("outbox", Outbox)
# The live-notes documents in memory (sidecar.notes).
NOTE_ROOMS = web.AppKey("note_rooms", Rooms)


@dataclass
class Lifecycle:
    """Mutable run state (the app itself is frozen once started)."""

    shutting_down: bool = False  # set when shutdown begins, so /readyz turns traffic away


LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
