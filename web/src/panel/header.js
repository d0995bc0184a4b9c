// The panel's header: mentorship and meeting title, the date in your time zone, and a status
// line (starts in…, live, ended) that updates every minute.

import { everyMinute } from "../lib/clock.js";
import { h, setText } from "../lib/dom.js";
import { formatClock, formatLongDate, meetingPhase, parseInstant } from "../lib/time.js";

function whenText(meeting, zone, locale) {
  const start = parseInstant(meeting.scheduled_start);
  const end = parseInstant(meeting.scheduled_end);
  if (!start) return "Not scheduled yet";
  const day = formatLongDate(start, zone, locale);
  const from = formatClock(start, zone, locale);
  return end ? `${day}, ${from}–${formatClock(end, zone, locale)}` : `${day}, ${from}`;
}

export function meetingHeader(ctx) {
  const { meeting, mentorship, viewerZone, locale } = ctx;
  const status = h("p", { class: "status", dataset: { phase: "" } });
  everyMinute((now) => {
    const { phase, text } = meetingPhase(meeting, now);
    if (status.dataset.phase !== phase) {
      status.dataset.phase = phase;
      status.className = `status status--${phase}`;
    }
    setText(status, text);
  });

  const joinLink =
    meeting.join_url && meeting.platform !== "zoom"
      ? h(
          "a",
          { class: "join-link", href: meeting.join_url, target: "_blank", rel: "noopener noreferrer" },
          "Open the call",
        )
      : null;

  return h(
    "header",
    { class: "panel-header" },
    h(
      "p",
      { class: "eyebrow" },
      h("a", { href: "/", class: "eyebrow-link" }, "Mentor Sidecar"),
      mentorship.title ? ` · ${mentorship.title}` : "",
    ),
    h("h1", { class: "panel-title" }, meeting.title || "Mentoring meeting"),
    h(
      "p",
      { class: "meeting-when" },
      h("time", { datetime: meeting.scheduled_start ?? null }, whenText(meeting, viewerZone, locale)),
      h("span", { class: "muted" }, " (your time)"),
    ),
    h("div", { class: "status-row" }, status, joinLink),
  );
}
