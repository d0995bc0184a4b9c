// Goals of the mentorship, each with its latest progress entry.

import { h } from "../lib/dom.js";
import { formatCalendarDate } from "../lib/time.js";
import { GOAL_STATUS_LABEL, PROGRESS_STATUS_LABEL } from "../lib/words.js";

const GOAL_ORDER = { active: 0, achieved: 1, dropped: 2 };

function latestProgress(goal) {
  const entries = [...(goal.progress ?? [])];
  entries.sort(
    (a, b) =>
      String(b.entry_date).localeCompare(String(a.entry_date)) ||
      String(b.created_at).localeCompare(String(a.created_at)),
  );
  return entries[0] ?? null;
}

function goalItem(goal, locale) {
  const latest = latestProgress(goal);
  return h(
    "li",
    { class: `goal goal--${goal.status}`, dataset: { goalId: goal.id } },
    h(
      "div",
      { class: "goal-head" },
      h("span", { class: "goal-title" }, goal.title),
      goal.status !== "active"
        ? h("span", { class: `pill pill--${goal.status}` }, GOAL_STATUS_LABEL[goal.status] ?? goal.status)
        : null,
    ),
    latest
      ? h(
          "p",
          { class: "goal-progress" },
          h(
            "span",
            { class: `pill pill--${latest.status}` },
            PROGRESS_STATUS_LABEL[latest.status] ?? latest.status,
          ),
          " ",
          h("time", { datetime: latest.entry_date, class: "muted" }, formatCalendarDate(latest.entry_date, locale)),
          latest.note ? h("span", { class: "progress-note" }, ` ${latest.note}`) : null,
        )
      : h("p", { class: "goal-progress muted" }, "No progress noted yet."),
  );
}

export function goalsSection(ctx, goals) {
  const sorted = [...goals].sort(
    (a, b) => (GOAL_ORDER[a.status] ?? 9) - (GOAL_ORDER[b.status] ?? 9),
  );
  return h(
    "section",
    { id: "goals", class: "card", "aria-labelledby": "goals-heading" },
    h("h2", { id: "goals-heading" }, "Goals"),
    sorted.length
      ? h("ul", { class: "plain-list" }, sorted.map((goal) => goalItem(goal, ctx.locale)))
      : h(
          "p",
          { class: "empty-prompt" },
          "No goals written down yet. Agree on one or two things this mentorship should achieve.",
        ),
  );
}
