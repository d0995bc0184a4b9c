"""The email answering "Email me a sign-in link": one link per profile the address belongs to.

An address can belong to several people records (each start of a mentorship while signed out
makes a new one), so the email lists each with its mentorships and lets the reader choose.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sidecar.domain.models import Person
from sidecar.mail.compose import compose


@dataclass(frozen=True)
class SigninChoice:
    person: Person
    mentorships: list[str]  # "Design mentoring, with Bruno Lima"
    url: str

    def describe(self) -> str:
        where = "; ".join(self.mentorships) or "no mentorship at the moment"
        return f"{self.person.name} ({where})"


def signin_request_email(
    *, mail_from: str, address: str, choices: list[SigninChoice], expires_at: datetime
) -> EmailMessage:
    first = choices[0].person
    zone = first.timezone
    until = f"{expires_at.astimezone(ZoneInfo(zone)):%A %d %B, %H:%M} ({zone})"
    closing = (
        f"Each link works once, until {until}. If you did not ask for it, ignore this email: "
        "nobody can sign in without the link."
    )
    button = (
        '<p><a href="{url}" style="display:inline-block;padding:10px 16px;background:#115e59;'
        'color:#fff;border-radius:6px;text-decoration:none">{label}</a></p>'
    )
    if len(choices) == 1:
        one = choices[0]
        greeting = f"Hello {one.person.name.split()[0]},"
        intro = (
            "Here is your link to sign in to Mentor Sidecar. Open it on the device where you "
            "want to be signed in, and press Sign in:"
        )
        text = "\n\n".join([greeting, intro, one.url, closing.replace("Each link", "It")]) + "\n"
        parts = [
            f"<p>{html.escape(greeting)}</p>",
            f"<p>{html.escape(intro)}</p>",
            button.format(url=html.escape(one.url), label="Sign in to Mentor Sidecar"),
            f"<p>{html.escape(closing.replace('Each link', 'It'))}</p>",
        ]
    else:
        intro = (
            f"This address belongs to {len(choices)} profiles at Mentor Sidecar. Open the link of "
            "the one you want, on the device where you want to be signed in, and press Sign in:"
        )
        text = "\n\n".join(
            ["Hello,", intro, *[f"{c.describe()}:\n{c.url}" for c in choices], closing]
        )
        parts = ["<p>Hello,</p>", f"<p>{html.escape(intro)}</p>"]
        for choice in choices:
            parts.append(f"<p>{html.escape(choice.describe())}</p>")
            parts.append(
                button.format(url=html.escape(choice.url), label=f"Sign in as {choice.person.name}")
            )
        parts.append(f"<p>{html.escape(closing)}</p>")
        text += "\n"
    return compose(
        sender=mail_from,
        to_name=first.name if len(choices) == 1 else "",
        to_address=address,
        subject="Your sign-in link for Mentor Sidecar",
        text=text,
        html='<div style="font-family:sans-serif">' + "\n".join(parts) + "</div>",
    )
