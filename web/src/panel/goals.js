// Goals of the mentorship, each with a running record of dated progress entries (a short note of
// evidence and a status). "Add progress" opens a small form under the goal; a form at the end
// adds a goal. Validation errors from the service appear next to the field.

import { ApiError, addGoal, addProgress } from "../lib/api.js";
import { h, liveRegion, setChildren, setText } from "../lib/dom.js";
import { clearErrors, field, formValues, showErrors, whileSubmitting } from "../lib/forms.js";
import { formatCalendarDate, localDateAttr } from "../lib/time.js";
import { GOAL_STATUS_LABEL, PROGRESS_STATUS_LABEL } from "../lib/words.js";

const GOAL_ORDER = { active: 0, achieved: 1, dropped: 2 };

function newestFirst(entries) {
  return [...(entries ?? [])].sort(
    (a, b) =>
      String(b.entry_date).localeCompare(String(a.entry_date)) ||
      String(b.created_at).localeCompare(String(a.created_at)),
  );
}

function entryLine(entry, locale, tag = "p") {
  return h(
    tag,
    { class: "goal-progress" },
    h("span", { class: `pill pill--${entry.status}` }, PROGRESS_STATUS_LABEL[entry.status] ?? entry.status),
    " ",
    h("time", { datetime: entry.entry_date, class: "muted" }, formatCalendarDate(entry.entry_date, locale)),
    entry.note ? h("span", { class: "progress-note" }, ` ${entry.note}`) : null,
  );
}

function apiProblem(form, error) {
  if (error instanceof ApiError && error.status === 401) {
    showErrors(form, { message: "You are signed out. Open your personal link again.", fields: [] });
  } else {
    showErrors(form, error);
  }
}

export function goalsSection(ctx, initialGoals) {
  let goals = initialGoals;
  const openForms = new Map(); // goal id -> form element (kept across redraws while open)
  const openHistory = new Set(); // goal ids whose earlier entries are unfolded
  const list = h("ul", { class: "plain-list goal-list" });
  const empty = h(
    "p",
    { class: "empty-prompt" },
    "No goals written down yet. Agree on one or two things this mentorship should achieve.",
  );
  const announcer = liveRegion();

  function progressForm(goal) {
    const today = localDateAttr(new Date(), ctx.viewerZone);
    const form = h(
      "form",
      { class: "progress-form", novalidate: true, "aria-label": `Progress on ${goal.title}` },
      h(
        "div",
        { class: "progress-fields" },
        field({ name: "entry_date", label: "Date", type: "date", value: today, required: true }),
        field({
          name: "status",
          label: "Status",
          required: true,
          value: "on_track",
          options: Object.entries(PROGRESS_STATUS_LABEL).map(([value, label]) => ({ value, label })),
        }),
      ),
      field({
        name: "note",
        label: "What happened",
        required: true,
        maxlength: 2000,
        placeholder: "A short note of evidence: what you did, saw or learned",
      }),
      h(
        "div",
        { class: "form-actions" },
        h("button", { type: "submit", class: "button button--primary button--quiet" }, "Save progress"),
        h(
          "button",
          {
            type: "button",
            class: "button button--quiet",
            onclick: () => {
              openForms.delete(goal.id);
              render();
              list.querySelector(`[data-goal-id="${CSS.escape(goal.id)}"] .add-progress`)?.focus();
            },
          },
          "Cancel",
        ),
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const values = formValues(form);
      if (!values.note) {
        showErrors(form, { message: "", fields: [{ loc: "note", msg: "Write a short note of what happened." }] });
        return;
      }
      try {
        const entry = await whileSubmitting(form, () =>
          addProgress(goal.id, {
            entry_date: values.entry_date || undefined,
            note: values.note,
            status: values.status,
          }),
        );
        goals = goals.map((g) =>
          g.id === goal.id ? { ...g, progress: [...(g.progress ?? []).filter((e) => e.id !== entry.id), entry] } : g,
        );
        openForms.delete(goal.id);
        render();
        setText(announcer, `Progress added to “${goal.title}”.`);
      } catch (error) {
        apiProblem(form, error);
      }
    });
    return form;
  }

  function goalItem(goal) {
    const entries = newestFirst(goal.progress);
    const [latest, ...older] = entries;
    const form = openForms.get(goal.id);
    const addButton = h(
      "button",
      {
        type: "button",
        class: "button button--tiny add-progress",
        "aria-label": `Add progress on ${goal.title}`,
        hidden: Boolean(form) || goal.status !== "active",
        onclick: () => {
          const created = progressForm(goal);
          openForms.set(goal.id, created);
          render();
          created.querySelector("[name=note]")?.focus();
        },
      },
      "+ Progress",
    );
    return h(
      "li",
      { class: `goal goal--${goal.status}`, dataset: { goalId: goal.id } },
      h(
        "div",
        { class: "goal-head" },
        h("span", { class: "goal-title" }, goal.title),
        goal.status !== "active"
          ? h("span", { class: `pill pill--${goal.status}` }, GOAL_STATUS_LABEL[goal.status] ?? goal.status)
          : addButton,
      ),
      latest ? entryLine(latest, ctx.locale) : h("p", { class: "goal-progress muted" }, "No progress noted yet."),
      older.length
        ? h(
            "details",
            {
              class: "goal-history",
              open: openHistory.has(goal.id),
              ontoggle: (event) =>
                event.currentTarget.open ? openHistory.add(goal.id) : openHistory.delete(goal.id),
            },
            h("summary", {}, `Earlier entries (${older.length})`),
            h("ul", { class: "history-list" }, older.map((entry) => entryLine(entry, ctx.locale, "li"))),
          )
        : null,
      form ?? null,
    );
  }

  function render() {
    const sorted = [...goals].sort((a, b) => (GOAL_ORDER[a.status] ?? 9) - (GOAL_ORDER[b.status] ?? 9));
    // Keep an open form (and what is typed in it) by reusing its element.
    setChildren(list, sorted.map(goalItem));
    list.hidden = sorted.length === 0;
    empty.hidden = sorted.length > 0;
  }

  // Add a goal.
  const goalForm = h(
    "form",
    { class: "add-goal", novalidate: true, "aria-label": "Add a goal" },
    field({ name: "title", label: "Goal", required: true, maxlength: 200, placeholder: "e.g. Lead a design critique on my own" }),
    field({ name: "description", label: "What would show it is reached?", type: "textarea", maxlength: 8000 }),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "button button--quiet" }, "Add goal")),
  );
  goalForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(goalForm);
    const values = formValues(goalForm);
    if (!values.title) {
      showErrors(goalForm, { message: "", fields: [{ loc: "title", msg: "Give the goal a short title." }] });
      return;
    }
    try {
      const created = await whileSubmitting(goalForm, () =>
        addGoal(ctx.mentorship.id, { title: values.title, description: values.description ?? "" }),
      );
      goals = [...goals.filter((g) => g.id !== created.id), created];
      render();
      goalForm.reset();
      details.open = false;
      setText(announcer, `Goal “${created.title}” added.`);
    } catch (error) {
      apiProblem(goalForm, error);
    }
  });
  const details = h("details", { class: "add-goal-details" }, h("summary", {}, "Add a goal"), goalForm);

  render();
  const element = h(
    "section",
    { id: "goals", class: "card", "aria-labelledby": "goals-heading" },
    h("h2", { id: "goals-heading" }, "Goals"),
    empty,
    list,
    details,
    announcer,
  );
  return {
    element,
    update(next) {
      goals = next;
      render();
    },
  };
}
