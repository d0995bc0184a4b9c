"""How a next step's due date reads: "by 3 Dec", "by 3 Dec 2027" (the year only when it is not
this year's), "overdue since 3 Dec" once the day has passed. The panel words them the same way
(web/src/lib/time.js, formatDueDate)."""

from __future__ import annotations

from datetime import date


def short_date(day: date, today: date) -> str:
    return f"{day.day} {day:%b}" + ("" if day.year == today.year else f" {day.year}")


def is_overdue(due: date, today: date) -> bool:
    return due < today


def due_words(due: date, today: date) -> str:
    if is_overdue(due, today):
        return f"overdue since {short_date(due, today)}"
    return f"by {short_date(due, today)}"
