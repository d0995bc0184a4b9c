"""A sentence a person understands for each rejected field, beside pydantic's machine detail.

`{"loc": "me.name", "msg": "String should have at least 1 character", "type":
"string_too_short", "message": "Name can't be empty."}`: `msg` and `type` stay for programs;
the panel shows `message` (web/src/lib/forms.js words the few types that read better with the
form's own label).
"""

from __future__ import annotations

from typing import Any

# Field names whose plain reading ("owner id") is not what a person calls them.
HUMAN_NAMES = {
    "owner_id": "Owner",
    "due_date": "Due date",
    "timezone": "Time zone",
    "locale": "Language and region",
    "about": "About you",
    "summary_webhook_url": "Chat webhook URL",
    "join_url": "Call link",
    "scheduled_start": "Start",
    "scheduled_end": "End",
    "first_start": "First meeting",
    "text": "This",
    "q": "Search",
}


_PREDICATES = ("must ", "is ", "are ", "should ", "cannot ", "can't ", "has ", "needs ")


def human_name(loc: str) -> str:
    last = next((part for part in reversed(loc.split(".")) if not part.isdigit()), loc)
    return HUMAN_NAMES.get(last, last.replace("_", " ").capitalize() or "This")


def _sentence(text: str) -> str:
    text = text.strip()
    if text.lower().startswith("value error, "):
        text = text[len("value error, ") :]
    if not text:
        return "This was not accepted."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def readable(loc: str, error_type: str, msg: str, ctx: dict[str, Any], given: Any) -> str:
    name = human_name(loc)
    if error_type == "missing":
        return f"{name} is needed."
    if error_type == "string_too_short":
        least = int(ctx.get("min_length", 1))
        if least <= 1:
            return f"{name} can't be empty."
        return f"At least {least:,} characters."
    if error_type == "string_too_long":
        most = int(ctx.get("max_length", 0))
        have = f" (you have {len(given):,})" if isinstance(given, str) else ""
        return f"At most {most:,} characters{have}."
    if error_type == "nul_character":
        return "This holds an invisible character (NUL) that can't be saved. Type it again."
    if error_type == "value_error" and "email address" in msg:
        return "Enter an email address like ana@example.org."
    if error_type.startswith("datetime_") or error_type == "timezone_aware":
        return "Enter a date and time with its offset, like 2026-12-03T14:30:00+00:00."
    if error_type.startswith("date_"):
        return "Enter a date like 2026-12-03."
    if error_type.startswith("url_"):
        return "Enter a web address starting with https://."
    if error_type == "literal_error" and ctx.get("expected") == "True":
        return "Please confirm."
    if error_type in ("literal_error", "enum"):
        return f"Choose one of {ctx.get('expected', 'the offered values')}."
    if error_type in ("int_parsing", "int_type", "float_parsing", "float_type"):
        return "Enter a number."
    if error_type == "greater_than_equal":
        return f"At least {ctx.get('ge')}."
    if error_type == "less_than_equal":
        return f"At most {ctx.get('le')}."
    if error_type == "extra_forbidden":
        return f"{name} is not something this form takes."
    if error_type == "invalid":  # a domain rule (sidecar.domain.errors.Invalid)
        for field, called in HUMAN_NAMES.items():  # "after scheduled_start": "after start"
            if field != "text":
                msg = msg.replace(field, called.lower())
        # "must be a JPEG…" reads as "Photo must be a JPEG…"; "the body is empty" as it is.
        about_the_field = msg.startswith(_PREDICATES)
        return _sentence(f"{name} {msg}" if about_the_field else msg)
    return _sentence(msg)
