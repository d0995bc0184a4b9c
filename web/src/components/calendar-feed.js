// "Add to my calendar": a private iCalendar subscription URL (POST /me/calendar-feed) with a
// copy button. The service shows a URL once and a new one switches the old one off.

import { createCalendarFeed } from "../lib/api.js";
import { h, liveRegion, setText, uid } from "../lib/dom.js";

export function calendarFeed() {
  const id = uid("calendar-url");
  const input = h("input", { id, type: "text", readonly: true, class: "copy-input calendar-url" });
  input.addEventListener("focus", () => input.select());
  const announcer = liveRegion("copy-status");
  const problem = h("p", { class: "inline-error", role: "alert", hidden: true });
  const copy = h(
    "button",
    {
      type: "button",
      class: "button",
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(input.value);
          setText(announcer, "Copied. Paste it into your calendar as a subscription (“From URL”).");
        } catch {
          input.focus();
          input.select();
          setText(announcer, "Selected: press Ctrl+C (or ⌘C) to copy.");
        }
      },
    },
    "Copy",
  );
  const result = h(
    "div",
    { class: "field calendar-result", hidden: true },
    h("label", { for: id }, "Your private calendar link"),
    h("div", { class: "copy-row" }, input, copy),
    announcer,
  );
  const get = h(
    "button",
    {
      type: "button",
      class: "button get-calendar-link",
      onclick: async () => {
        get.disabled = true;
        problem.hidden = true;
        try {
          const { url } = await createCalendarFeed();
          input.value = url;
          result.hidden = false;
          setText(get, "Get a new link");
          input.focus();
        } catch (error) {
          problem.textContent = `No link this time. ${error.message}`;
          problem.hidden = false;
        } finally {
          get.disabled = false;
        }
      },
    },
    "Get my calendar link",
  );
  return h(
    "div",
    { class: "calendar-feed" },
    h(
      "p",
      { class: "hint" },
      "Subscribe to this link in Google Calendar, Outlook or Apple Calendar and every meeting appears there in your own time zone; a moved meeting moves there too. ",
      h("strong", {}, "The link is private:"),
      " anyone who has it can see your meeting times. Getting a new link switches the old one off.",
    ),
    h("div", { class: "form-actions" }, get),
    problem,
    result,
  );
}
