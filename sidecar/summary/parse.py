"""Reads agreements and next steps out of the shared notes.

Conventions (also shown in the panel's help):
- a next step is a task line: `- [ ] send the draft to Ana @mentee by 2026-12-03`
  (`@mentor`, `@mentee` or a first name names the owner; `by`/`due` and an ISO date the due date;
  `- [x] …` is a step already done);
- an agreement is a line starting `Agreed:` or `Agreement:` (after an optional bullet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_TASK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[(?P<mark>[ xX])\]\s+(?P<body>.+?)\s*$")
_AGREED = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*)?(?:agreed|agreement)(?:\*\*)?\s*:\s*(?P<body>.+?)\s*$", re.I
)
_OWNER = re.compile(r"(?<![\w.])@(?P<who>[\w.-]+)")
_DUE = re.compile(r"\b(?:by|due(?:\s+on)?|before)\s+(?P<date>\d{4}-\d{2}-\d{2})\b", re.I)
_BARE_DATE = re.compile(r"\b(?P<date>\d{4}-\d{2}-\d{2})\b")


@dataclass(frozen=True)
class NextStep:
    text: str
    owner: str | None  # "mentor", "mentee", or a name as written after @
    due: date | None
    done: bool


@dataclass(frozen=True)
class Outcomes:
    agreements: list[str]
    next_steps: list[NextStep]


def parse_notes(markdown: str) -> Outcomes:
    agreements: list[str] = []
    steps: list[NextStep] = []
    in_code = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        if task := _TASK.match(line):
            steps.append(_next_step(task["body"], done=task["mark"] != " "))
        elif agreed := _AGREED.match(line):
            agreements.append(agreed["body"])
    return Outcomes(agreements, steps)


def _next_step(body: str, *, done: bool) -> NextStep:
    owner = None
    if found := _OWNER.search(body):
        owner = (
            found["who"].lower() if found["who"].lower() in ("mentor", "mentee") else found["who"]
        )
        body = body[: found.start()] + body[found.end() :]
    due = None
    if found_due := (_DUE.search(body) or _BARE_DATE.search(body)):
        try:
            due = date.fromisoformat(found_due["date"])
        except ValueError:
            due = None  # 2026-13-45: leave the words as they are
        else:
            body = body[: found_due.start()] + body[found_due.end() :]
    text = re.sub(r"\s{2,}", " ", body).strip(" ,;:-")
    return NextStep(text=text, owner=owner, due=due, done=done)
