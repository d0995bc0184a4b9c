// Form building blocks and the display of the service's validation errors.
// Every field is wrapped in an element with data-field="<loc>", where <loc> is the dotted path
// the service uses in error.fields[].loc (e.g. "me.email", "text"), so a 422 lands next to
// the right control, in words (problemWords): never pydantic's "String should have at least 1
// character". A field with a `limit` (the API's max_length) counts its characters as you type.

import { h, uid } from "./dom.js";

function describedBy(...ids) {
  return ids.filter(Boolean).join(" ") || null;
}

/** A labelled input, select or textarea with an optional hint and an error slot. */
export function field({
  name,
  label,
  type = "text",
  value = "",
  required = false,
  hint = "",
  autocomplete = null,
  options = null, // [{value, label, alias}] makes a <select> (an alias option is never preselected)
  maxlength = null,
  placeholder = null,
  className = "",
  markOptional = true,
  limit = null, // the API's max_length: shows a character counter (typing past it is allowed)
}) {
  const id = uid("f");
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  let control;
  if (options) {
    control = h(
      "select",
      { id, name, required, "aria-describedby": describedBy(hintId) },
      options.map((o) => h("option", { value: o.value, selected: o.value === value && !o.alias }, o.label)),
    );
  } else if (type === "textarea") {
    control = h("textarea", {
      id,
      name,
      required,
      rows: 2,
      maxlength,
      placeholder,
      "aria-describedby": describedBy(hintId),
    });
    control.value = value;
  } else {
    control = h("input", {
      id,
      name,
      type,
      required,
      autocomplete,
      maxlength,
      placeholder,
      spellcheck: type === "email" ? "false" : null,
      "aria-describedby": describedBy(hintId),
    });
    control.value = value;
  }
  return h(
    "div",
    { class: `field ${className}`.trim(), dataset: { field: name } },
    h(
      "label",
      { for: id },
      label,
      required || !markOptional ? null : h("span", { class: "optional" }, " (optional)"),
    ),
    control,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    limit ? characterCounter(control, limit, type === "textarea") : null,
    h("p", { class: "field-error", id: errorId, hidden: true }),
  );
}

const count = (n) => n.toLocaleString("en");

/** Characters as the service counts them (code points, so an emoji is one). */
export function characters(text) {
  return [...String(text ?? "")].length;
}

/**
 * "1,204 / 8,000 characters" under a long field, updated as you type; past the limit it turns
 * to "9,214 / 8,000 characters: 1,214 too many". A short field shows it only near its limit.
 */
function characterCounter(control, limit, always) {
  const counter = h("p", { class: "char-count", "aria-live": "polite" });
  const announce = h("span", { class: "visually-hidden" });
  let wasOver = false;
  const draw = () => {
    const have = characters(control.value);
    const over = have > limit;
    counter.hidden = !always && have < limit * 0.8;
    counter.classList.toggle("char-count--over", over);
    const words = `${count(have)} / ${count(limit)} characters${over ? `: ${count(have - limit)} too many` : ""}`;
    counter.replaceChildren(h("span", { "aria-hidden": "true" }, words), announce);
    // Say it once when crossing the limit, not at every keystroke.
    if (over !== wasOver) announce.textContent = over ? `Too long: at most ${count(limit)} characters.` : "";
    wasOver = over;
  };
  control.addEventListener("input", draw);
  control.dataset.limit = String(limit);
  queueMicrotask(draw); // after the caller sets a starting value
  draw();
  return counter;
}

/** A group of radio buttons inside a fieldset with a legend. */
export function radioGroup({ name, legend, choices, value }) {
  const errorId = uid("f-error");
  return h(
    "fieldset",
    { class: "field radio-group", dataset: { field: name } },
    h("legend", {}, legend),
    h(
      "div",
      { class: "radio-row" },
      choices.map((choice) => {
        const id = uid("r");
        return h(
          "label",
          { class: "radio", for: id },
          h("input", {
            id,
            type: "radio",
            name,
            value: choice.value,
            checked: choice.value === value,
          }),
          h("span", {}, choice.label),
        );
      }),
    ),
    h("p", { class: "field-error", id: errorId, hidden: true }),
  );
}

/** Read a form into a nested object: "me.name" becomes {me: {name}}. Empty strings are kept. */
export function formValues(form) {
  const out = {};
  for (const [key, raw] of new FormData(form).entries()) {
    const value = typeof raw === "string" ? raw.trim() : raw;
    const path = key.split(".");
    let target = out;
    for (const part of path.slice(0, -1)) {
      target[part] ??= {};
      target = target[part];
    }
    target[path[path.length - 1]] = value;
  }
  return out;
}

/** The form-level message box; created on first use, placed before the submit row. */
function formMessage(form) {
  let box = form.querySelector(":scope > .form-error");
  if (!box) {
    box = h("p", { class: "form-error", role: "alert", hidden: true });
    const actions = form.querySelector(":scope > .form-actions");
    form.insertBefore(box, actions);
  }
  return box;
}

/** Remove every error shown by showErrors. */
export function clearErrors(form) {
  for (const wrapper of form.querySelectorAll("[data-field]")) {
    const slot = wrapper.querySelector(":scope > .field-error");
    if (slot) {
      slot.textContent = "";
      slot.hidden = true;
    }
    for (const control of wrapper.querySelectorAll("input, select, textarea")) {
      control.removeAttribute("aria-invalid");
      const ids = (control.getAttribute("aria-describedby") ?? "")
        .split(" ")
        .filter((x) => x && x !== slot?.id);
      if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
      else control.removeAttribute("aria-describedby");
    }
  }
  const box = form.querySelector(":scope > .form-error");
  if (box) {
    box.textContent = "";
    box.hidden = true;
  }
}

/** Find the field wrapper for a loc like "me.email", "body.me.email" or "text". */
function wrapperFor(form, loc) {
  const parts = String(loc ?? "")
    .split(".")
    .filter(Boolean);
  for (let start = 0; start < parts.length; start += 1) {
    const name = parts.slice(start).join(".");
    const wrapper = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (wrapper) return wrapper;
  }
  return null;
}

function sentence(msg) {
  const text = String(msg ?? "").trim();
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : "This value was not accepted.";
}

// Pydantic's own phrasing: machine detail, never shown to a person.
const MACHINE = /^(string should|input should|field required|value error|extra inputs|value is not)/i;

/** The visible label of a field wrapper, without "(optional)". */
function labelOf(wrapper) {
  const label = wrapper?.querySelector(":scope > label, :scope > legend");
  if (!label) return null;
  const text = [...label.childNodes]
    .filter((node) => !(node instanceof Element && node.classList.contains("optional")))
    .map((node) => node.textContent)
    .join("")
    .trim();
  return text || null;
}

/**
 * One rejected field in words. The few types that read best with the form's own label are worded
 * here ("Your name can't be empty."); the rest take the service's `message` ("At most 8,000
 * characters (you have 9,214)."). A bare `msg` (a check of the panel's own) is shown unless it is
 * pydantic's phrasing.
 */
export function problemWords(problem, wrapper = null) {
  const label = labelOf(wrapper);
  if (label && problem.type === "missing") return `${label} is needed.`;
  if (label && problem.type === "string_too_short" && /at least 1 character/.test(problem.msg ?? "")) {
    return `${label} can't be empty.`;
  }
  if (problem.message) return sentence(problem.message);
  if (problem.msg && !MACHINE.test(String(problem.msg).trim())) return sentence(problem.msg);
  return label ? `${label}: this was not accepted.` : "This was not accepted.";
}

/**
 * Show an ApiError (or any Error) on `form`: each `fields[]` entry next to its control, the
 * rest in the form-level box. Focuses the first control with a problem.
 */
export function showErrors(form, error) {
  clearErrors(form);
  const unplaced = [];
  let firstControl = null;
  for (const problem of error.fields ?? []) {
    const wrapper = wrapperFor(form, problem.loc);
    const slot = wrapper?.querySelector(":scope > .field-error");
    const words = problemWords(problem, wrapper);
    if (!wrapper || !slot) {
      unplaced.push(words);
      continue;
    }
    slot.textContent = slot.textContent ? `${slot.textContent} ${words}` : words;
    slot.hidden = false;
    for (const control of wrapper.querySelectorAll("input, select, textarea")) {
      control.setAttribute("aria-invalid", "true");
      const ids = (control.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
      if (!ids.includes(slot.id)) control.setAttribute("aria-describedby", [...ids, slot.id].join(" "));
      firstControl ??= control;
    }
  }
  if (unplaced.length || !(error.fields ?? []).length) {
    const box = formMessage(form);
    box.textContent = unplaced.length ? unplaced.join(" ") : error.message;
    box.hidden = false;
  }
  firstControl?.focus();
}

/** Disable the submit button while `work` runs; returns what `work` returns. */
export async function whileSubmitting(form, work) {
  const buttons = form.querySelectorAll("button[type=submit]");
  form.setAttribute("aria-busy", "true");
  for (const b of buttons) b.disabled = true;
  try {
    return await work();
  } finally {
    form.removeAttribute("aria-busy");
    for (const b of buttons) b.disabled = false;
  }
}
