// Tiny DOM helpers. Everything is built with createElement and text nodes: server data never
// goes through innerHTML, so names, agenda items and notes cannot inject markup.

let idCounter = 0;

/** A page-unique id with a readable prefix, for label/for and aria-describedby pairs. */
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

function appendChildren(parent, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) appendChildren(parent, child);
    else if (child instanceof Node) parent.append(child);
    else parent.append(document.createTextNode(String(child)));
  }
}

/**
 * h("button", { class: "button", type: "button", onclick: fn }, "Save")
 * Attributes: `class`, `dataset` (object), `on<event>` (listener), `hidden`/`disabled`/... (true
 * sets, false/null skips), anything else is set with setAttribute.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  appendChildren(el, children);
  return el;
}

/** Replace the content of `el` with `children`. */
export function setChildren(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
  return el;
}

/** Set text only when it changed, so live clocks do not disturb selection or screen readers. */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** A polite live region for short announcements ("Added to Successes"). */
export function liveRegion(className = "visually-hidden") {
  return h("p", { class: className, role: "status", "aria-live": "polite" });
}
