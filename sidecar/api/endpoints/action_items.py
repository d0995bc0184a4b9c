"""Next steps: who does what by when, carried from meeting to meeting until closed."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sidecar.api.routing import Call, api
from sidecar.api.schemas import ActionCreate, ActionItemOut, ActionList, ActionPatch, ActionQuery
from sidecar.domain.errors import Invalid
from sidecar.domain.ids import utcnow
from sidecar.domain.models import ActionItem

TAGS = ("action items",)
PAST_DUE = "that date has passed; send confirm_past_due: true to keep it"


async def _refuse_past_due(call: Call[Any], due: date | None, confirmed: bool) -> None:
    """A due date before today, in the writer's own time zone, is usually a slip of the finger."""
    if due is None or confirmed:
        return
    me = await call.repos.people.get(call.viewer)
    if due < utcnow().astimezone(ZoneInfo(me.timezone)).date():
        raise Invalid("due_date", PAST_DUE, words="That date has passed. Keep it?")


@api.route(
    "GET",
    "/mentorships/{mentorship_id}/action-items",
    summary="Next steps, optionally only those with a status",
    query=ActionQuery,
    response=ActionList,
    tags=TAGS,
)
async def list_action_items(call: Call[None]) -> ActionList:
    found = await call.repos.action_items.list(
        call.path("mentorship_id"), viewer=call.viewer, status=call.query.status
    )
    return ActionList(items=ActionItemOut.all(found))


@api.route(
    "POST",
    "/mentorships/{mentorship_id}/action-items",
    summary="Add a next step (a due date already past needs confirm_past_due)",
    body=ActionCreate,
    response=ActionItemOut,
    status=201,
    example={"text": "Send the portfolio draft", "due_date": "2031-12-03"},
    tags=TAGS,
    publishes="actions",
)
async def create_action_item(call: Call[ActionCreate]) -> ActionItem:
    body = call.body
    await _refuse_past_due(call, body.due_date, body.confirm_past_due)
    return await call.repos.action_items.create(
        call.path("mentorship_id"),
        text=body.text,
        owner_id=body.owner_id,
        due_date=body.due_date,
        created_in_meeting_id=body.created_in_meeting_id,
        viewer=call.viewer,
    )


@api.route(
    "PATCH",
    "/action-items/{action_item_id}",
    summary="Reword, reassign, move or close a next step (a new due date already past needs "
    "confirm_past_due)",
    body=ActionPatch,
    response=ActionItemOut,
    example={"status": "done"},
    tags=TAGS,
    publishes="actions",
)
async def patch_action_item(call: Call[ActionPatch]) -> ActionItem:
    changes = call.body.changes()
    confirmed = bool(changes.pop("confirm_past_due", False))
    if "due_date" in changes:
        await _refuse_past_due(call, changes["due_date"], confirmed)
    return await call.repos.action_items.update(
        call.path("action_item_id"), changes, viewer=call.viewer
    )


@api.route(
    "DELETE",
    "/action-items/{action_item_id}",
    summary="Remove a next step written down by mistake (to close one, PATCH its status)",
    status=204,
    tags=TAGS,
)
async def delete_action_item(call: Call[None]) -> None:
    removed = await call.repos.action_items.delete(call.path("action_item_id"), viewer=call.viewer)
    await call.publish("actions", mentorship_id=removed.mentorship_id)
