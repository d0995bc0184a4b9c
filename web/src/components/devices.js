// "Where you are signed in" on the profile: each browser session (GET /me/sessions), this device
// marked, each with its own Sign out (DELETE /me/sessions/{id}; its open panels close at once).

import { endSession, listSessions, signOut } from "../lib/api.js";
import { h, liveRegion, setChildren, setText } from "../lib/dom.js";
import { displayLocale } from "../lib/time.js";

function ago(iso, now = Date.now()) {
  const minutes = Math.round((now - new Date(iso).getTime()) / 60000);
  if (minutes < 2) return "just now";
  if (minutes < 60) return `${minutes} minutes ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return hours === 1 ? "an hour ago" : `${hours} hours ago`;
  const days = Math.round(hours / 24);
  return days === 1 ? "yesterday" : `${days} days ago`;
}

function day(iso, locale) {
  return new Date(iso).toLocaleDateString(locale, { day: "numeric", month: "long", year: "numeric" });
}

export function devicesSection(personLocale) {
  const locale = displayLocale(personLocale);
  const list = h("ul", { class: "device-list" });
  const announcer = liveRegion();
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });

  function showProblem(message) {
    setText(problem, message);
    problem.hidden = !message;
  }

  function row(session) {
    const button = h(
      "button",
      { type: "button", class: "button button--quiet device-signout" },
      // Not "Sign out": the page's footer has that button, for this device, already.
      session.current ? "Sign this device out" : "Sign that device out",
    );
    const item = h(
      "li",
      { class: "device", dataset: { sessionId: session.id, current: String(session.current) } },
      h(
        "div",
        { class: "device-text" },
        h(
          "p",
          { class: "device-name" },
          h("strong", {}, session.device),
          session.current ? h("span", { class: "pill pill--current" }, "This device") : null,
        ),
        h(
          "p",
          { class: "muted device-when" },
          `Signed in ${day(session.created_at, locale)}`,
          session.last_used_at && !session.current ? ` · last active ${ago(session.last_used_at)}` : "",
        ),
      ),
      button,
    );
    button.addEventListener("click", async () => {
      button.disabled = true;
      showProblem("");
      if (session.current) {
        await signOut();
        window.location.assign("/signed-out");
        return;
      }
      try {
        await endSession(session.id);
        item.remove();
        setText(announcer, `${session.device} is signed out.`);
      } catch (error) {
        button.disabled = false;
        showProblem(
          error.status === 404
            ? "That device was already signed out."
            : `That device could not be signed out: ${error.message}`,
        );
        if (error.status === 404) item.remove();
      }
    });
    return item;
  }

  async function load() {
    try {
      const { sessions } = await listSessions();
      setChildren(list, sessions.map(row));
      if (!sessions.length) setChildren(list, h("li", { class: "muted" }, "No browser is signed in (you use a token)."));
    } catch (error) {
      showProblem(`The list of devices could not load: ${error.message}`);
    }
  }

  load();
  return h(
    "section",
    { id: "devices", class: "card", "aria-labelledby": "devices-heading" },
    h("h2", { id: "devices-heading" }, "Where you are signed in"),
    h(
      "p",
      { class: "section-intro" },
      "Each browser where you opened a sign-in link. Sign out any you no longer use or do not recognise; the link in your next email signs you in again.",
    ),
    list,
    problem,
    announcer,
  );
}
