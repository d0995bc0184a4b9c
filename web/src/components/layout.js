// The frame shared by every page: a slim top bar with the product name, the page content,
// and (when signed in) who you are with a sign-out button.

import { signOut } from "../lib/api.js";
import { h } from "../lib/dom.js";

export function topBar(...extra) {
  return h(
    "div",
    { class: "topbar" },
    h("a", { class: "brand", href: "/" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), "Mentor Sidecar"),
    ...extra,
  );
}

export function signedInFooter(person) {
  if (!person) return null;
  return h(
    "footer",
    { class: "page-footer" },
    h("p", {}, "Signed in as ", h("strong", {}, person.name), person.email ? ` (${person.email})` : ""),
    h(
      "button",
      {
        type: "button",
        class: "button button--quiet",
        onclick: async (event) => {
          event.currentTarget.disabled = true;
          await signOut();
          window.location.assign("/signed-out"); // it says how to get back in
        },
      },
      "Sign out",
    ),
  );
}

/** A calm full-width message (loading failed, not found, ...), with an optional action. */
export function notice({ title, body, action = null, tone = "info" }) {
  return h(
    "div",
    { class: `notice notice--${tone}`, role: tone === "error" ? "alert" : null },
    h("h1", { class: "notice-title" }, title),
    ...(Array.isArray(body) ? body : [body]).map((p) => h("p", {}, p)),
    action,
  );
}

export function retryButton() {
  return h(
    "button",
    { type: "button", class: "button", onclick: () => window.location.reload() },
    "Try again",
  );
}
