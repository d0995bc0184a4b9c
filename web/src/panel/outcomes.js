// "Agreements and next steps" (section#outcomes): during the call both people write down what
// they agreed and the next steps (owner, due date) created in this meeting; they go into the
// summary email when the meeting ends. Agreements: GET/POST /meetings/{id}/agreements, DELETE
// /meeting-agreements/{id}. Next steps: open action items with created_in_meeting_id == this
// meeting (POST …/action-items, PATCH /action-items/{id} to mark one done, edit, reassign or
// move it, DELETE to remove it; a date already past is confirmed first, see step-edit.js).
// Agreements are reworded in place (PATCH /meeting-agreements/{id}). Live through the `actions`
// event; the forms and buttons are hidden once the meeting has ended.

import {
  ApiError,
  addActionItem,
  addMeetingAgreement,
  deleteMeetingAgreement,
  updateActionItem,
  updateMeetingAgreement,
} from "../lib/api.js";
import { isOverdue, shortDueDate } from "../lib/due.js";
import { h, liveRegion, setChildren, setText } from "../lib/dom.js";
import { clearErrors, field, formValues, showErrors, whileSubmitting } from "../lib/forms.js";
import { localDateAttr } from "../lib/time.js";
import { STEP_TEXT_LIMIT, ownerChoices, sendCheckingPastDue, stepButtons, stepEditor } from "./step-edit.js";

const AGREEMENT_LIMIT = 2000; // ShortText's max_length in sidecar/api/schemas.py

function problemOn(form, error) {
  if (error instanceof ApiError && error.status === 401) {
    showErrors(form, { message: "You are signed out. Open your personal link again.", fields: [] });
  } else {
    showErrors(form, error);
  }
}

/** Shows `message` beside the empty required `text` field; true when the form may be sent. */
function hasText(form, values, message) {
  if (values.text) return true;
  showErrors(form, { message: "", fields: [{ loc: "text", msg: message }] });
  return false;
}

function ownerName(ctx, ownerId) {
  if (!ownerId) return null;
  if (ownerId === ctx.me.id) return "You";
  for (const person of Object.values(ctx.people)) if (person?.id === ownerId) return person.name;
  return null;
}

export function outcomesSection(ctx, initial = {}) {
  let agreements = initial.agreements ?? [];
  let steps = initial.steps ?? [];
  const announcer = liveRegion();
  const agreementList = h("ul", { class: "plain-list outcome-list", "aria-label": "Agreements" });
  const stepList = h("ul", { class: "plain-list outcome-list", "aria-label": "Next steps" });
  const agreementsEmpty = h("p", { class: "empty-prompt" }, "No agreements written down yet.");
  const stepsEmpty = h("p", { class: "empty-prompt" }, "No next steps from this meeting yet.");
  const ended = () => ctx.meeting.status === "ended";

  let editing = null; // the id of the agreement or step being edited in place
  let editorRow = null; // kept across re-renders (live events), so typing is not lost

  function agreementEditor(a) {
    const form = h(
      "form",
      { class: "step-edit", "aria-label": `Edit agreement: ${a.text}`, novalidate: true },
      field({ name: "text", label: "Agreement", required: true, value: a.text, limit: AGREEMENT_LIMIT }),
      h(
        "div",
        { class: "form-actions" },
        h("button", { type: "submit", class: "button button--primary" }, "Save"),
        h("button", { type: "button", class: "button button--quiet", onclick: () => stopEditing() }, "Cancel"),
      ),
    );
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") stopEditing();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const values = formValues(form);
      if (!hasText(form, values, "Write what you agreed on.")) return;
      try {
        const saved = await whileSubmitting(form, () => updateMeetingAgreement(a.id, { text: values.text }));
        agreements = agreements.map((x) => (x.id === saved.id ? saved : x));
        stopEditing("Agreement saved.");
      } catch (error) {
        problemOn(form, error);
      }
    });
    queueMicrotask(() => form.querySelector("input")?.focus());
    return h("li", { class: "outcome outcome--agreement outcome--editing", dataset: { agreementId: a.id } }, form);
  }

  function stopEditing(announcement) {
    editing = null;
    editorRow = null;
    render();
    if (announcement) setText(announcer, announcement);
  }

  function agreementRow(a) {
    if (editing === a.id && !ended()) return (editorRow ??= agreementEditor(a));
    return h(
      "li",
      { class: "outcome outcome--agreement", dataset: { agreementId: a.id } },
      h("span", { class: "outcome-text" }, a.text),
      ended()
        ? null
        : h("span", { class: "action-buttons" }, h(
            "button",
            {
              type: "button",
              class: "button button--quiet",
              "aria-label": `Edit agreement: ${a.text}`,
              onclick: () => {
                editing = a.id;
                render();
              },
            },
            "Edit",
          ), h(
            "button",
            {
              type: "button",
              class: "button button--quiet",
              "aria-label": `Remove agreement: ${a.text}`,
              onclick: async (event) => {
                event.currentTarget.disabled = true;
                try {
                  await deleteMeetingAgreement(a.id);
                  agreements = agreements.filter((x) => x.id !== a.id);
                  render();
                  setText(announcer, "Agreement removed.");
                } catch (error) {
                  setText(announcer, error.message);
                  render();
                }
              },
            },
            "Remove",
          )),
    );
  }

  function stepRow(item) {
    if (editing === item.id && !ended()) {
      return (editorRow ??= h(
        "li",
        { class: "outcome outcome--step outcome--editing", dataset: { actionId: item.id } },
        stepEditor(ctx, item, {
          onSaved: (saved) => {
            steps = steps.map((x) => (x.id === saved.id ? saved : x));
            stopEditing("Next step saved.");
            ctx.refetch?.("actions");
          },
          onCancel: () => stopEditing(),
        }),
      ));
    }
    const owner = ownerName(ctx, item.owner_id);
    const today = localDateAttr(new Date(), ctx.viewerZone);
    const overdue = isOverdue(item.due_date, today);
    const meta = [];
    if (owner) meta.push(h("span", { class: "owner" }, owner));
    if (item.due_date) {
      meta.push(
        h(
          "span",
          { class: overdue ? "due due--overdue" : "due" },
          overdue ? "overdue since " : "by ",
          h("time", { datetime: item.due_date }, shortDueDate(item.due_date, today, ctx.locale)),
        ),
      );
    }
    return h(
      "li",
      { class: "outcome outcome--step", dataset: { actionId: item.id } },
      h(
        "span",
        { class: "outcome-body" },
        h("span", { class: "action-text" }, item.text),
        meta.length
          ? h("span", { class: "action-meta" }, ...meta.flatMap((m, i) => (i ? [" · ", m] : [m])))
          : null,
      ),
      ended()
        ? null
        : h("span", { class: "action-buttons" }, stepButtons(item, {
            edit: () => {
              editing = item.id;
              render();
            },
            removed: (gone) => {
              steps = steps.filter((x) => x.id !== gone.id);
              render();
              setText(announcer, "Next step removed.");
              ctx.refetch?.("actions");
            },
            failed: (error) => {
              setText(announcer, error.message);
              render();
            },
          }), h(
            "button",
            {
              type: "button",
              class: "button button--quiet",
              "aria-label": `Mark done: ${item.text}`,
              onclick: async (event) => {
                event.currentTarget.disabled = true;
                try {
                  await updateActionItem(item.id, { status: "done", closed_in_meeting_id: ctx.meeting.id });
                  steps = steps.filter((x) => x.id !== item.id);
                  render();
                  setText(announcer, "Next step marked done.");
                  ctx.refetch?.("actions");
                } catch (error) {
                  setText(announcer, error.message);
                  render();
                }
              },
            },
            "Done",
          )),
    );
  }

  function render() {
    // A live event re-renders while someone types in an editor: keep their place.
    const focused = element?.contains(document.activeElement) ? document.activeElement : null;
    draw();
    if (focused?.isConnected && document.activeElement !== focused) focused.focus({ preventScroll: true });
  }

  function draw() {
    const sortedAgreements = [...agreements].sort((a, b) =>
      String(a.created_at).localeCompare(String(b.created_at)),
    );
    setChildren(agreementList, sortedAgreements.map(agreementRow));
    agreementList.hidden = sortedAgreements.length === 0;
    agreementsEmpty.hidden = sortedAgreements.length > 0;
    const mine = steps
      .filter((s) => s.status === "open" && s.created_in_meeting_id === ctx.meeting.id)
      .sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
    setChildren(stepList, mine.map(stepRow));
    stepList.hidden = mine.length === 0;
    stepsEmpty.hidden = mine.length > 0;
    agreementForm.hidden = ended();
    stepForm.hidden = ended();
  }

  // Agreement form.
  const agreementForm = h(
    "form",
    { class: "add-item outcome-form", "aria-label": "Add an agreement", novalidate: true },
    field({
      name: "text",
      label: "Agreement",
      required: true,
      limit: AGREEMENT_LIMIT,
      placeholder: "What did you agree on?",
    }),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "button button--primary" }, "Add agreement"),
    ),
  );
  agreementForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(agreementForm);
    const values = formValues(agreementForm);
    if (!hasText(agreementForm, values, "Write what you agreed on.")) return;
    try {
      const created = await whileSubmitting(agreementForm, () =>
        addMeetingAgreement(ctx.meeting.id, { text: values.text }),
      );
      agreements = [...agreements.filter((a) => a.id !== created.id), created];
      render();
      const input = agreementForm.querySelector("input");
      input.value = "";
      input.dispatchEvent(new Event("input")); // its character counter
      input.focus();
      setText(announcer, "Agreement added.");
    } catch (error) {
      problemOn(agreementForm, error);
    }
  });

  // Next step form.
  const people = ownerChoices(ctx);
  const stepForm = h(
    "form",
    { class: "add-item outcome-form", "aria-label": "Add a next step", novalidate: true },
    field({
      name: "text",
      label: "Next step",
      required: true,
      limit: STEP_TEXT_LIMIT,
      placeholder: "What will be done?",
    }),
    h(
      "div",
      { class: "outcome-fields" },
      field({ name: "owner_id", label: "Owner", value: "", options: people, markOptional: false }),
      field({ name: "due_date", label: "Due", type: "date" }),
    ),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "button button--primary" }, "Add next step"),
    ),
  );
  stepForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(stepForm);
    const values = formValues(stepForm);
    if (!hasText(stepForm, values, "Write what will be done.")) return;
    const body = {
      text: values.text,
      owner_id: values.owner_id || undefined,
      due_date: values.due_date || undefined,
      created_in_meeting_id: ctx.meeting.id,
    };
    const created = await sendCheckingPastDue(stepForm, body, (b) => addActionItem(ctx.mentorship.id, b));
    if (!created) return;
    steps = [...steps.filter((s) => s.id !== created.id), created];
    render();
    stepForm.reset();
    stepForm.querySelector("input")?.dispatchEvent(new Event("input"));
    stepForm.querySelector("input")?.focus();
    setText(announcer, "Next step added.");
  });

  let element = null;
  render();
  element = h(
    "section",
    { id: "outcomes", class: "card outcomes", "aria-labelledby": "outcomes-heading" },
    h("h2", { id: "outcomes-heading" }, "Agreements and next steps"),
    h(
      "p",
      { class: "hint outcomes-hint" },
      "Lines in the notes count too: “Agreed: …” and “- [ ] … @mentee by YYYY-MM-DD”.",
    ),
    h("h3", {}, "Agreements"),
    agreementList,
    agreementsEmpty,
    agreementForm,
    h("h3", {}, "Next steps"),
    stepList,
    stepsEmpty,
    stepForm,
    announcer,
  );
  return {
    element,
    /** New data after a live event: {agreements, steps} (either may be missing). */
    update(data) {
      if (data.agreements) agreements = data.agreements;
      if (data.steps) steps = data.steps;
      render();
    },
    updateMeeting: render,
  };
}
