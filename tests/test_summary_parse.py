"""Agreements and next steps read from realistic meeting notes."""

from __future__ import annotations

from datetime import date

from sidecar.summary.parse import NextStep, parse_notes

NOTES = """# Weekly check-in (2026-11-24)

## Since last time
- [x] Portfolio draft sent to Helena @mentee
- Critique shadowing happened on Thursday; notes in the doc

## Topics
Talked about giving feedback to more senior people.
Agreed: Arjun tries the "observation, impact, question" pattern in the next review
- agreement: we keep Tuesdays, but move to 14:30 Lisbon in December
**Agreed**: Helena sends written feedback within two days of a call

## Next steps
- [ ] Send the draft to Ana @mentee by 2026-12-03
- [ ] Share two articles on running critiques @mentor due 2026-11-28
* [ ] Book a room for the critique @Arjun before 2026-12-05
1. [ ] Think about what a good critique looks like
- [ ] Impossible date 2026-13-45 stays as written @mentor

```
- [ ] not a task: inside a code block
Agreed: not an agreement either
```
I agreed: this line is prose, not a convention
"""


def test_next_steps_with_owner_and_due_date() -> None:
    steps = parse_notes(NOTES).next_steps
    assert steps == [
        NextStep("Portfolio draft sent to Helena", "mentee", None, True),
        NextStep("Send the draft to Ana", "mentee", date(2026, 12, 3), False),
        NextStep("Share two articles on running critiques", "mentor", date(2026, 11, 28), False),
        NextStep("Book a room for the critique", "Arjun", date(2026, 12, 5), False),
        NextStep("Think about what a good critique looks like", None, None, False),
        NextStep("Impossible date 2026-13-45 stays as written", "mentor", None, False),
    ]


def test_agreements() -> None:
    assert parse_notes(NOTES).agreements == [
        'Arjun tries the "observation, impact, question" pattern in the next review',
        "we keep Tuesdays, but move to 14:30 Lisbon in December",
        "Helena sends written feedback within two days of a call",
    ]


def test_empty_and_plain_notes() -> None:
    assert parse_notes("").agreements == [] and parse_notes("").next_steps == []
    plain = parse_notes("Just talking today.\nNo structure at all.")
    assert plain.agreements == [] and plain.next_steps == []
