"""Goals and their dated progress entries."""

from __future__ import annotations

from sidecar.api.routing import Call, api
from sidecar.api.schemas import (
    GoalCreate,
    GoalList,
    GoalOut,
    GoalPatch,
    GoalProgressOut,
    ProgressCreate,
)
from sidecar.domain.ids import utcnow
from sidecar.domain.models import Goal, GoalProgress

TAGS = ("goals",)


@api.route(
    "GET",
    "/mentorships/{mentorship_id}/goals",
    summary="Goals with their progress",
    response=GoalList,
    tags=TAGS,
)
async def list_goals(call: Call[None]) -> GoalList:
    return GoalList(
        goals=GoalOut.all(
            await call.repos.goals.list(call.path("mentorship_id"), viewer=call.viewer)
        )
    )


@api.route(
    "POST",
    "/mentorships/{mentorship_id}/goals",
    summary="Add a goal",
    body=GoalCreate,
    response=GoalOut,
    status=201,
    example={"title": "Lead a design review", "description": "By March, run one end to end."},
    tags=TAGS,
    publishes="goals",
)
async def create_goal(call: Call[GoalCreate]) -> Goal:
    return await call.repos.goals.create(
        call.path("mentorship_id"),
        title=call.body.title,
        description=call.body.description,
        viewer=call.viewer,
    )


@api.route("GET", "/goals/{goal_id}", summary="One goal", response=GoalOut, tags=TAGS)
async def get_goal(call: Call[None]) -> Goal:
    return await call.repos.goals.get(call.path("goal_id"), viewer=call.viewer)


@api.route(
    "PATCH",
    "/goals/{goal_id}",
    summary="Change a goal",
    body=GoalPatch,
    response=GoalOut,
    example={"status": "achieved"},
    tags=TAGS,
    publishes="goals",
)
async def patch_goal(call: Call[GoalPatch]) -> Goal:
    return await call.repos.goals.update(
        call.path("goal_id"), call.body.changes(), viewer=call.viewer
    )


@api.route(
    "POST",
    "/goals/{goal_id}/progress",
    summary="Record dated progress on a goal",
    body=ProgressCreate,
    response=GoalProgressOut,
    status=201,
    example={"note": "Ran the first review with two colleagues.", "status": "on_track"},
    tags=TAGS,
)
async def add_progress(call: Call[ProgressCreate]) -> GoalProgress:
    goal = await call.repos.goals.get(call.path("goal_id"), viewer=call.viewer)
    entry = await call.repos.goals.add_progress(
        goal.id,
        entry_date=call.body.entry_date or utcnow().date(),
        note=call.body.note,
        status=call.body.status,
        viewer=call.viewer,
    )
    await call.publish("goals", mentorship_id=goal.mentorship_id)
    return entry
