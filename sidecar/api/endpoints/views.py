"""Builds the composite response bodies several endpoints share."""

from __future__ import annotations

from sidecar.api.schemas import AgreementOut, ErasurePlan, MentorshipBrief, MentorshipOut, PersonOut
from sidecar.db.repositories import Repositories
from sidecar.domain.ids import utcnow
from sidecar.domain.models import Mentorship


async def mentorship_out(repos: Repositories, mentorship: Mentorship, viewer: str) -> MentorshipOut:
    role = mentorship.role_of(viewer)
    assert role is not None, "repositories only return mentorships the viewer belongs to"
    return MentorshipOut(
        id=mentorship.id,
        title=mentorship.title,
        created_at=mentorship.created_at,
        created_by=mentorship.created_by,
        mentor=await _person(repos, mentorship.mentor_id),
        mentee=await _person(repos, mentorship.mentee_id),
        agreement=AgreementOut.of(await repos.mentorships.agreement(mentorship.id, viewer=viewer)),
        my_role=role,
        summary_webhook_url=mentorship.summary_webhook_url,
        invite_pending=await repos.mentorships.has_pending_invite(mentorship.id),
        erasure=await erasure_plan(repos, mentorship.id, viewer),
    )


async def erasure_plan(repos: Repositories, mentorship_id: str, viewer: str) -> ErasurePlan | None:
    planned = await repos.erasures.mentorship(mentorship_id)
    if planned is None:
        return None
    return ErasurePlan(
        erase_after=planned.erase_after,
        requested_by=planned.requested_by,
        reason=planned.reason,
        # A profile's erasure is undone as a whole, on the profile (POST /me/erasure/undo).
        can_undo=planned.reason == "mentorship",
    )


async def mentorship_brief(
    repos: Repositories, mentorship: Mentorship, viewer: str
) -> MentorshipBrief:
    role = mentorship.role_of(viewer)
    assert role is not None
    other_id = mentorship.mentee_id if role == "mentor" else mentorship.mentor_id
    upcoming = await repos.meetings.next_for(mentorship.id, after=utcnow())
    return MentorshipBrief(
        id=mentorship.id,
        title=mentorship.title,
        role=role,
        other=await _person(repos, other_id),
        next_meeting_id=upcoming.id if upcoming else None,
        next_meeting_start=upcoming.scheduled_start if upcoming else None,
        next_meeting_status=upcoming.status if upcoming else None,
        invite_pending=await repos.mentorships.has_pending_invite(mentorship.id),
        erasure=await erasure_plan(repos, mentorship.id, viewer),
    )


async def _person(repos: Repositories, person_id: str | None) -> PersonOut | None:
    return None if person_id is None else PersonOut.of(await repos.people.get(person_id))
