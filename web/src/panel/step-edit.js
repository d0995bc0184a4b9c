// Editing a next step in place: its words, who does it (reassign) and by when, or removing it.
// A due date already past is refused by the service until confirmed: the form asks "That date
// has passed. Keep it?" (PATCH /action-items/{id} with confirm_past_due). Used by the
// "Agreements and next steps" card and the "Open next steps" card.

import { ApiError, deleteActionItem, updateActionItem } from "../lib/api.js";
import { isPastDueRefusal } from "../lib/due.js";
import { h } from "../lib/dom.js";
import { clearErrors, field, formValues, showErrors, whileSubmitting } from "../lib/forms.js";

export const STEP_TEXT_LIMIT = 2000; // ShortText's max_length in sidecar/api/schemas.py

/** Owner choices for a step: nobody in particular, or one of the pair. */
export function ownerChoices(ctx) {
  return [
    { value: "", label: "No one in particular" },
    ...["mentee", "mentor"]
      .filter((role) => ctx.people[role]?.id)
      .map((role) => ({
        value: ctx.people[role].id,
        label: `${ctx.people[role].id === ctx.me.id ? "You" : ctx.people[role].name} (${role})`,
      })),
  ];
}

function signedOutOr(form, error) {
  if (error instanceof ApiError && error.status === 401) {
    showErrors(form, { message: "You are signed out. Open your personal link again.", fields: [] });
  } else {
    showErrors(form, error);
  }
}

/**
 * Send `body` with `send(body)`; when the service refuses a past due date, ask inside `form`
 * whether to keep it and send again with confirm_past_due. Resolves to the result, or null
 * when the person chose to change the date (or another error was shown).
 */
export function sendCheckingPastDue(form, body, send) {
  return new Promise((resolve) => {
    const attempt = async (confirm) => {
      clearErrors(form);
      form.querySelector(":scope > .past-due-ask")?.remove();
      try {
        const result = await whileSubmitting(form, () => send(confirm ? { ...body, confirm_past_due: true } : body));
        resolve(result);
      } catch (error) {
        if (!confirm && isPastDueRefusal(error)) {
          askAboutPastDue(form, () => attempt(true), () => resolve(null));
        } else {
          signedOutOr(form, error);
          resolve(null);
        }
      }
    };
    attempt(false);
  });
}

function askAboutPastDue(form, keep, change) {
  const keepButton = h("button", { type: "button", class: "button button--primary" }, "Keep the date");
  const changeButton = h("button", { type: "button", class: "button button--quiet" }, "Change it");
  const ask = h(
    "div",
    { class: "past-due-ask", role: "alert" },
    h("p", {}, "That date has passed. Keep it?"),
    h("div", { class: "form-actions" }, keepButton, changeButton),
  );
  keepButton.addEventListener("click", () => {
    ask.remove();
    keep();
  });
  changeButton.addEventListener("click", () => {
    ask.remove();
    form.querySelector("input[name=due_date]")?.focus();
    change();
  });
  form.insertBefore(ask, form.querySelector(":scope > .form-actions"));
  keepButton.focus();
}

/** The inline form that edits `item`; `onSaved(updated)` or `onCancel()` ends it. */
export function stepEditor(ctx, item, { onSaved, onCancel }) {
  const form = h(
    "form",
    { class: "step-edit", "aria-label": `Edit next step: ${item.text}`, novalidate: true },
    field({ name: "text", label: "Next step", required: true, value: item.text, limit: STEP_TEXT_LIMIT }),
    h(
      "div",
      { class: "outcome-fields" },
      field({ name: "owner_id", label: "Owner", value: item.owner_id ?? "", options: ownerChoices(ctx), markOptional: false }),
      field({ name: "due_date", label: "Due", type: "date", value: item.due_date ?? "" }),
    ),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "button button--primary" }, "Save"),
      h("button", { type: "button", class: "button button--quiet", onclick: () => onCancel() }, "Cancel"),
    ),
  );
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") onCancel();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    if (!values.text) {
      showErrors(form, { message: "", fields: [{ loc: "text", msg: "Write what will be done." }] });
      return;
    }
    const body = { text: values.text, owner_id: values.owner_id || null, due_date: values.due_date || null };
    const updated = await sendCheckingPastDue(form, body, (b) => updateActionItem(item.id, b));
    if (updated) onSaved(updated);
  });
  queueMicrotask(() => form.querySelector("input[name=text]")?.focus());
  return form;
}

/** "Edit" and "Remove" buttons for a step's row; `edit()` opens the editor in the row. */
export function stepButtons(item, { edit, removed, failed }) {
  return [
    h(
      "button",
      { type: "button", class: "button button--quiet step-edit-start", "aria-label": `Edit: ${item.text}`, onclick: edit },
      "Edit",
    ),
    h(
      "button",
      {
        type: "button",
        class: "button button--quiet step-remove",
        "aria-label": `Remove: ${item.text}`,
        onclick: async (event) => {
          event.currentTarget.disabled = true;
          try {
            await deleteActionItem(item.id);
            removed(item);
          } catch (error) {
            failed(error);
          }
        },
      },
      "Remove",
    ),
  ];
}
