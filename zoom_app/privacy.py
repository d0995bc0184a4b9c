"""What of Zoom's tables is a person's or a pair's, for the export and the erasure
(the core's sidecar/privacy.py runs these with its own tables')."""

from __future__ import annotations

from sidecar.platforms.hookspecs import MEETINGS_OF_MENTORSHIP, PrivacyDeclaration

# Zoom's event notifications about the pair's Zoom meetings (stored raw, so matched by the
# meeting number or instance UUID inside them).
_ZOOM_EVENTS_OF_PAIR = (
    "(CAST(json_extract(body, '$.payload.object.id') AS TEXT) IN"
    " (SELECT zoom_meeting_id FROM zoom_meeting_links WHERE mentorship_id = :mentorship)"
    " OR json_extract(body, '$.payload.object.uuid') IN"
    f" (SELECT zoom_uuid FROM zoom_meeting_instances WHERE meeting_id IN {MEETINGS_OF_MENTORSHIP}))"
)

ZOOM_PRIVACY = PrivacyDeclaration(
    person_tables={
        # The sealed OAuth tokens stay behind: they are Zoom's keys to the account, not data.
        "zoom_accounts": (
            "SELECT zoom_user_id, zoom_email, scope, token_expires_at, linked_at, updated_at"
            " FROM zoom_accounts WHERE person_id = :person"
        ),
        "zoom_link_codes": (
            "SELECT expires_at, used_at FROM zoom_link_codes WHERE person_id = :person"
        ),
    },
    mentorship_tables={
        "zoom_meeting_links": "SELECT * FROM zoom_meeting_links WHERE mentorship_id = :mentorship",
        "zoom_meeting_instances": (
            f"SELECT * FROM zoom_meeting_instances WHERE meeting_id IN {MEETINGS_OF_MENTORSHIP}"
        ),
        "zoom_events": (
            "SELECT event, body, received_at, processed_at, outcome FROM zoom_events"
            f" WHERE json_valid(body) AND {_ZOOM_EVENTS_OF_PAIR}"
        ),
    },
    # Before the links and instances it is matched by go (with the mentorship, by cascade).
    erase_with_mentorship=(
        f"DELETE FROM zoom_events WHERE json_valid(body) AND {_ZOOM_EVENTS_OF_PAIR}",
    ),
)
