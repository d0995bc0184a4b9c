"""Every rejected field carries a sentence for a person (`message`) beside pydantic's detail."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from sidecar.api.field_words import readable
from tests.conftest import Pair

PYDANTIC_PHRASES = (
    "String should",
    "Input should",
    "Field required",
    "Value error",
    "Extra inputs",
)


async def fields_of(response: object) -> dict[str, dict[str, str]]:
    body = await response.json()  # type: ignore[attr-defined]
    return {f["loc"]: f for f in body["error"]["fields"]}


async def test_a_rejected_profile_reads_in_words(client: TestClient, pair: Pair) -> None:
    response = await client.patch(
        "/api/v1/me",
        json={"name": "  ", "email": "nobody", "about": "x" * 9214, "timezone": "Mars/Base"},
        headers=pair.auth(),
    )
    assert response.status == 422
    fields = await fields_of(response)
    assert fields["name"]["message"] == "Name can't be empty."
    assert fields["name"]["type"] == "string_too_short"  # machine detail stays
    assert fields["name"]["msg"] == "String should have at least 1 character"
    assert fields["about"]["message"] == "At most 8,000 characters (you have 9,214)."
    assert fields["email"]["message"] == "Enter an email address like ana@example.org."
    assert fields["timezone"]["message"].startswith("Not a known IANA time zone")
    for field in fields.values():
        assert not any(p in field["message"] for p in PYDANTIC_PHRASES), field


async def test_domain_rules_and_missing_fields_read_in_words(
    client: TestClient, pair: Pair
) -> None:
    create = f"/api/v1/mentorships/{pair.mentorship_id}/action-items"
    response = await client.post(create, json={"owner_id": "stranger"}, headers=pair.auth())
    fields = await fields_of(response)
    assert fields["text"]["message"] == "This is needed."
    response = await client.post(
        create, json={"text": "Call Ana", "owner_id": "stranger"}, headers=pair.auth()
    )
    fields = await fields_of(response)
    assert (
        fields["owner_id"]["message"]
        == "Owner must be the mentor or the mentee of this mentorship."
    )
    response = await client.post(
        create, json={"text": "Call Ana", "due_date": "2001-01-01"}, headers=pair.auth()
    )
    fields = await fields_of(response)
    assert fields["due_date"]["message"] == "That date has passed. Keep it?"
    assert "confirm_past_due" in fields["due_date"]["msg"]
    response = await client.delete(
        f"/api/v1/mentorships/{pair.mentorship_id}", json={"confirm": False}, headers=pair.auth()
    )
    assert (await fields_of(response))["confirm"]["message"] == "Please confirm."


def test_a_domain_rule_reads_with_or_without_the_fields_name() -> None:
    assert readable("photo", "invalid", "must be a JPEG, PNG or WebP image", {}, None) == (
        "Photo must be a JPEG, PNG or WebP image."
    )
    assert readable("photo", "invalid", "the body is empty", {}, None) == "The body is empty."
    assert readable("scheduled_end", "invalid", "must be after scheduled_start", {}, None) == (
        "End must be after start."
    )
