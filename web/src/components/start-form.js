// "Start a mentorship": creates the mentorship (POST /api/v1/mentorships) and then shows the
// invite link to send to the other person, with a copy button and a way to continue.

import { createMentorship } from "../lib/api.js";
import { h, liveRegion, setChildren, setText } from "../lib/dom.js";
import { field, formValues, radioGroup, showErrors, whileSubmitting } from "../lib/forms.js";
import { otherRole } from "../lib/words.js";
import { personFields } from "./person-fields.js";

function copyRow(url) {
  const input = h("input", { id: "invite-link", type: "text", readonly: true, class: "copy-input" });
  input.value = url;
  input.addEventListener("focus", () => input.select());
  const announcer = liveRegion("copy-status");
  const button = h(
    "button",
    {
      type: "button",
      class: "button",
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(url);
          setText(announcer, "Copied.");
        } catch {
          input.focus();
          input.select();
          setText(announcer, "Selected: press Ctrl+C (or ⌘C) to copy.");
        }
      },
    },
    "Copy link",
  );
  return h(
    "div",
    { class: "field" },
    h("label", { for: "invite-link" }, "Invite link"),
    h("div", { class: "copy-row" }, input, button),
    announcer,
  );
}

function resultView(result, role, signedIn) {
  const url = new URL(result.invite_url, window.location.origin).href;
  const other = otherRole(role);
  const next = result.signin_url ? new URL(result.signin_url, window.location.origin).href : "/";
  return h(
    "div",
    { class: "invite-result", dataset: { inviteUrl: url } },
    h("h3", { tabindex: "-1", class: "result-title" }, "Your mentorship is ready"),
    h(
      "p",
      {},
      `Send this link to your ${other}. It is personal to them and works once.`,
    ),
    copyRow(url),
    h(
      "p",
      { class: "hint" },
      "Before your first call, think about how often you want to meet, how you will keep in touch in between, what stays between the two of you, and how you each like to receive feedback. You will agree on these together.",
    ),
    h(
      "div",
      { class: "form-actions" },
      h(
        "a",
        { class: "button button--primary", href: next, dataset: { continue: "" } },
        signedIn ? "Back to your mentorships" : "Continue to Mentor Sidecar",
      ),
    ),
  );
}

/**
 * The start form; `signedIn` leaves out the "about you" fields (the service knows you).
 * On success the form is replaced by the invite link.
 */
export function startForm({ signedIn }) {
  const container = h("div", { class: "start" });
  const form = h(
    "form",
    { class: "start-form", novalidate: true, "aria-label": "Start a mentorship" },
    h(
      "p",
      { class: "section-intro" },
      signedIn
        ? "You get a new invite link to send to your mentoring partner."
        : "Tell us who you are. You get a link to send to your mentoring partner; no passwords.",
    ),
    radioGroup({
      name: "role",
      legend: "I am the…",
      value: "mentor",
      choices: [
        { value: "mentor", label: "Mentor" },
        { value: "mentee", label: "Mentee" },
      ],
    }),
    field({
      name: "title",
      label: "Name for this mentorship",
      placeholder: "e.g. Product design, spring 2025",
      hint: "Both of you will see it.",
      maxlength: 200,
    }),
    signedIn ? null : personFields(),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "button button--primary" }, "Create and get the invite link"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = { role: values.role };
    if (values.title) body.title = values.title;
    if (!signedIn) body.me = values.me;
    try {
      const result = await whileSubmitting(form, () => createMentorship(body));
      setChildren(container, resultView(result, values.role, signedIn));
      container.querySelector(".result-title")?.focus();
    } catch (error) {
      showErrors(form, error);
    }
  });
  container.append(form);
  return container;
}
