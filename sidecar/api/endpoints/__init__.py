"""Endpoint modules; importing them registers their routes on `sidecar.api.routing.api`."""

from sidecar.api.endpoints import (  # noqa: F401
    action_items,
    goals,
    history,
    meetings,
    mentorships,
    notes,
    people,
    privacy,
    profiles,
    signin,
)
