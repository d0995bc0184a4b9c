"""Every `web.AppKey` of the application, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from sidecar.db import Database
from sidecar.db.repositories import Repositories
from sidecar.limits import RateLimiter, SocketBudget
from sidecar.live.hub import MeetingEvents
from sidecar.mail.outbox import Outbox
from sidecar.notes.room import Rooms
from sidecar.settings import Settings

if TYPE_CHECKING:  # the keys' types are only needed by mypy
    from sidecar.platforms.loader import ActivePlatform
    from sidecar.relay.redis_relay import RedisRelay
    from sidecar.signin_requests import SigninMailer  # (it imports this module)
    from sidecar.web.open_sockets import OpenSockets  # (it imports this module)

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
REPOS = web.AppKey("repositories", Repositories)
# Open websockets with whose they are (sidecar/web/open_sockets.py): closed with 4401 when their
# token is revoked, 4410 when their mentorship is erased, 1001 on shutdown.
WEBSOCKETS: web.AppKey[OpenSockets] = web.AppKey("websockets")
ASSET_VERSION = web.AppKey("asset_version", str)
# Open panels of each meeting, told when shared state changes (sidecar.live).
LIVE_EVENTS = web.AppKey("live_events", MeetingEvents)
# Email waiting to go out (sidecar.mail).
OUTBOX = web.AppKey("outbox", Outbox)
# The live-notes documents in memory (sidecar.notes).
NOTE_ROOMS = web.AppKey("note_rooms", Rooms)
# With MENTOR_SIDECAR_REDIS_URL only: notes, presence and panel events between instances
# (sidecar.relay); its `instance_id` names this process.
REDIS_RELAY: web.AppKey[RedisRelay] = web.AppKey("redis_relay")
# Quotas of HTTP actions (sidecar.limits): sign-ups, invites, uploads.
RATE_LIMITER: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
# Open websockets per person and per meeting (sidecar.limits; shared through Redis when set).
SOCKET_BUDGET: web.AppKey[SocketBudget] = web.AppKey("socket_budget")
# "Email me a sign-in link" work running after its answer (sidecar/signin_requests.py).
SIGNIN_MAILER: web.AppKey[SigninMailer] = web.AppKey("signin_mailer")


@dataclass
class Lifecycle:
    """Mutable run state (the app itself is frozen once started)."""

    shutting_down: bool = False  # set when shutdown begins, so /readyz turns traffic away


LIFECYCLE = web.AppKey("lifecycle", Lifecycle)


# The call platforms enabled here (MENTOR_SIDECAR_PLATFORMS), each with its settings. A platform
# keeps its own state under keys of its own (zoom_app.state.ZOOM, jitsi_app.config.JITSI).
PLATFORMS: web.AppKey[tuple[ActivePlatform, ...]] = web.AppKey("platforms")
