"""Starting a mentorship, inviting the other person, and the mentoring agreement."""

from __future__ import annotations

from datetime import timedelta

from sidecar.api.endpoints.links import invite_url, signin_url
from sidecar.api.endpoints.views import mentorship_out
from sidecar.api.routing import Call, api
from sidecar.api.schemas import (
    AgreementOut,
    AgreementPatch,
    InviteAccept,
    InviteAccepted,
    InviteCreated,
    InvitePreview,
    Inviter,
    MentorshipCreate,
    MentorshipCreated,
    MentorshipList,
    MentorshipOut,
    MentorshipPatch,
    ProfileIn,
)
from sidecar.domain.errors import Invalid
from sidecar.domain.ids import utcnow
from sidecar.domain.models import Agreement

TAGS = ("mentorships",)
_PROFILE_EXAMPLE = {
    "name": "Ana Souza",
    "email": "ana@example.org",
    "timezone": "America/Sao_Paulo",
    "locale": "pt-BR",
}


async def _person_for(
    call: Call[MentorshipCreate] | Call[InviteAccept], me: ProfileIn | None
) -> tuple[str, str | None]:
    """The acting person: the signed-in caller, or a new person made from `me`."""
    if call.identity is not None:
        if me is not None:
            raise Invalid("me", "must be omitted when signed in (edit your profile at /me)")
        return call.identity.person_id, None
    if me is None:
        raise Invalid("me", "field required when not signed in: your name, email and time zone")
    person = await call.repos.people.create(**me.model_dump())
    secret, _ = await call.repos.tokens.issue(
        person.id, kind="api", label="created with mentorship"
    )
    return person.id, secret


@api.route(
    "POST",
    "/mentorships",
    summary="Start a mentorship; returns an invite link for the other person",
    auth="optional",
    body=MentorshipCreate,
    response=MentorshipCreated,
    status=201,
    example={"title": "Design mentoring", "role": "mentee", "me": _PROFILE_EXAMPLE},
    tags=TAGS,
    limit="signup",
)
async def create_mentorship(call: Call[MentorshipCreate]) -> MentorshipCreated:
    repos = call.repos
    lifetime = timedelta(hours=call.settings.invite_ttl_hours)
    async with repos.transaction():
        person_id, token = await _person_for(call, call.body.me)
        mentorship = await repos.mentorships.create(person_id, call.body.role, call.body.title)
        code, _ = await repos.mentorships.create_invite(mentorship.id, lifetime, viewer=person_id)
        link = await signin_url(call.request, repos, person_id) if token else None
    return MentorshipCreated(
        mentorship=await mentorship_out(repos, mentorship, person_id),
        invite_url=invite_url(call.request, code),
        token=token,
        signin_url=link,
    )


@api.route(
    "GET", "/mentorships", summary="The mentorships I belong to", response=MentorshipList, tags=TAGS
)
async def list_mentorships(call: Call[None]) -> MentorshipList:
    found = await call.repos.mentorships.list_for(call.viewer)
    return MentorshipList(
        mentorships=[await mentorship_out(call.repos, m, call.viewer) for m in found]
    )


@api.route(
    "GET",
    "/mentorships/{mentorship_id}",
    summary="One mentorship",
    response=MentorshipOut,
    tags=TAGS,
)
async def get_mentorship(call: Call[None]) -> MentorshipOut:
    found = await call.repos.mentorships.get(call.path("mentorship_id"), viewer=call.viewer)
    return await mentorship_out(call.repos, found, call.viewer)


@api.route(
    "PATCH",
    "/mentorships/{mentorship_id}",
    summary="Rename a mentorship",
    body=MentorshipPatch,
    response=MentorshipOut,
    example={"title": "Leadership mentoring"},
    tags=TAGS,
)
async def patch_mentorship(call: Call[MentorshipPatch]) -> MentorshipOut:
    updated = await call.repos.mentorships.update(
        call.path("mentorship_id"), call.body.changes(), viewer=call.viewer
    )
    return await mentorship_out(call.repos, updated, call.viewer)


@api.route(
    "GET",
    "/mentorships/{mentorship_id}/agreement",
    summary="The mentoring agreement",
    response=AgreementOut,
    tags=TAGS,
)
async def get_agreement(call: Call[None]) -> Agreement:
    return await call.repos.mentorships.agreement(call.path("mentorship_id"), viewer=call.viewer)


@api.route(
    "PATCH",
    "/mentorships/{mentorship_id}/agreement",
    summary="Change the mentoring agreement",
    body=AgreementPatch,
    response=AgreementOut,
    example={"confidentiality": "What we discuss stays between us unless we agree otherwise."},
    tags=TAGS,
    publishes="agreement",
)
async def patch_agreement(call: Call[AgreementPatch]) -> Agreement:
    return await call.repos.mentorships.update_agreement(
        call.path("mentorship_id"), call.body.changes(), viewer=call.viewer
    )


@api.route(
    "POST",
    "/mentorships/{mentorship_id}/agreement/confirm",
    summary="Confirm the agreement as it stands; a later change asks both to confirm again",
    response=AgreementOut,
    tags=TAGS,
    publishes="agreement",
)
async def confirm_agreement(call: Call[None]) -> Agreement:
    return await call.repos.mentorships.confirm_agreement(
        call.path("mentorship_id"), viewer=call.viewer
    )


@api.route(
    "POST",
    "/mentorships/{mentorship_id}/invites",
    summary="A new invite link for the vacant place (earlier links stop working)",
    response=InviteCreated,
    status=201,
    tags=TAGS,
    limit="invite",
)
async def create_invite(call: Call[None]) -> InviteCreated:
    lifetime = timedelta(hours=call.settings.invite_ttl_hours)
    code, invite = await call.repos.mentorships.create_invite(
        call.path("mentorship_id"), lifetime, viewer=call.viewer
    )
    return InviteCreated(
        invite_url=invite_url(call.request, code), role=invite.role, expires_at=invite.expires_at
    )


@api.route(
    "GET",
    "/invites/{code}",
    summary="What an invite offers, for the person holding the link",
    auth="none",
    response=InvitePreview,
    tags=TAGS,
)
async def preview_invite(call: Call[None]) -> InvitePreview:
    invite = await call.repos.mentorships.invite(call.path("code"))
    inviter = await call.repos.people.get(invite.created_by)
    return InvitePreview(
        mentorship_title=await call.repos.mentorships.title_of(invite.mentorship_id),
        role=invite.role,
        invited_by=Inviter(name=inviter.name, timezone=inviter.timezone),
        expires_at=invite.expires_at,
    )


@api.route(
    "POST",
    "/invites/{code}/accept",
    summary="Join the mentorship an invite is for",
    auth="optional",
    body=InviteAccept,
    response=InviteAccepted,
    status=201,
    example={"me": _PROFILE_EXAMPLE},
    tags=TAGS,
    limit="signup",
)
async def accept_invite(call: Call[InviteAccept]) -> InviteAccepted:
    repos = call.repos
    code = call.path("code")
    async with repos.transaction():
        await repos.mentorships.invite(code)  # an unknown invite is a 404 before any profile check
        person_id, token = await _person_for(call, call.body.me)
        mentorship = await repos.mentorships.accept_invite(code, person_id)
        upcoming = await repos.meetings.next_for(mentorship.id, after=utcnow())
        next_path = f"/meetings/{upcoming.id}" if upcoming else "/"
        link = await signin_url(call.request, repos, person_id, next_path) if token else None
    return InviteAccepted(
        mentorship=await mentorship_out(repos, mentorship, person_id),
        token=token,
        signin_url=link,
    )
