"""Next steps: who does what by when, carried from meeting to meeting until closed."""

from __future__ import annotations

from sidecar.api.routing import Call, api
from sidecar.api.schemas import ActionCreate, ActionList, ActionPatch, ActionQuery
from sidecar.domain.models import ActionItem

TAGS = ("action items",)


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
    return ActionList(items=found)


@api.route(
    "POST",
    "/mentorships/{mentorship_id}/action-items",
    summary="Add a next step",
    body=ActionCreate,
    response=ActionItem,
    status=201,
    example={"text": "Send the portfolio draft", "due_date": "2026-12-03"},
    tags=TAGS,
    publishes="actions",
)
async def create_action_item(call: Call[ActionCreate]) -> ActionItem:
    body = call.body
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
    summary="Update or close a next step",
    body=ActionPatch,
    response=ActionItem,
    example={"status": "done"},
    tags=TAGS,
    publishes="actions",
)
async def patch_action_item(call: Call[ActionPatch]) -> ActionItem:
    return await call.repos.action_items.update(
        call.path("action_item_id"), call.body.changes(), viewer=call.viewer
    )
