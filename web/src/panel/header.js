// The panel's header: mentorship and meeting title, the date in your time zone, and the meeting
// clock: a countdown to the start, then the time elapsed against the planned length, then how
// far over time the call runs. It ticks every second; update(meeting) takes a moved meeting.

import { h, setText } from "../lib/dom.js";
import { formatClock, formatLongDate, humanDuration, parseInstant, startsIn } from "../lib/time.js";

function whenText(meeting, zone, locale) {
  const start = parseInstant(meeting.scheduled_start);
  const end = parseInstant(meeting.scheduled_end);
  if (!start) return "Not scheduled yet";
  const day = formatLongDate(start, zone, locale);
  const from = formatClock(start, zone, locale);
  return end ? `${day}, ${from}–${formatClock(end, zone, locale)}` : `${day}, ${from}`;
}

const pad = (n) => String(n).padStart(2, "0");

/** "04:09" or "1:04:09" for a duration in ms (whole seconds, rounded down). */
export function stopwatch(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return hours ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${pad(minutes)}:${pad(seconds)}`;
}

/**
 * Where the meeting stands at `now`, in words and numbers:
 * {phase: upcoming|soon|live|over|ended|cancelled, text, elapsed (0..1) | null}.
 */
export function meetingClock(meeting, now, zone = "UTC", locale = "en") {
  const start = parseInstant(meeting.started_at) ?? parseInstant(meeting.scheduled_start);
  const plannedStart = parseInstant(meeting.scheduled_start);
  const end = parseInstant(meeting.scheduled_end);
  const length = plannedStart && end ? end - plannedStart : null;
  const t = now.getTime();
  if (meeting.status === "ended") {
    return { phase: "ended", text: "This meeting has ended", elapsed: null };
  }
  if (meeting.status === "cancelled") {
    return { phase: "cancelled", text: "Cancelled", elapsed: null };
  }
  const label = meeting.status === "live" ? "Live now" : "In progress";
  if (meeting.status !== "live" && plannedStart && t < plannedStart.getTime()) {
    const left = plannedStart - t;
    // Words, not "22:00", which reads like a clock time.
    const words = startsIn(plannedStart, now, zone, locale);
    const text = words.charAt(0).toUpperCase() + words.slice(1);
    if (left <= 10 * 60000) return { phase: "soon", text: `${text} · time to join`, elapsed: null };
    return { phase: "upcoming", text, elapsed: null };
  }
  if (!start) return { phase: "live", text: label, elapsed: null };
  const elapsed = t - start;
  if (length == null) return { phase: "live", text: `${label} · ${stopwatch(elapsed)} elapsed`, elapsed: null };
  if (meeting.status !== "live" && elapsed > length + 60 * 60000) {
    return { phase: "ended", text: "The scheduled time is over", elapsed: null };
  }
  if (elapsed <= length) {
    return {
      phase: "live",
      text: `${label} · ${stopwatch(elapsed)} of ${humanDuration(length)} · ${humanDuration(length - elapsed)} left`,
      elapsed: elapsed / length,
    };
  }
  return {
    phase: "over",
    text: `${label} · ${stopwatch(elapsed)} · ${humanDuration(elapsed - length)} over time`,
    elapsed: 1,
  };
}

export function meetingHeader(ctx) {
  const { mentorship, viewerZone, locale } = ctx;
  let meeting = ctx.meeting;
  const statusText = h("span", { class: "status-text" });
  const status = h("p", { class: "status", dataset: { phase: "" } }, statusText);
  const bar = h("span", { class: "meeting-progress-bar" });
  const progress = h(
    "span",
    { class: "meeting-progress", "aria-hidden": "true", hidden: true },
    bar,
  );
  const when = h("time", {});
  const title = h("h1", { class: "panel-title" });

  function tick() {
    const { phase, text, elapsed } = meetingClock(meeting, new Date(), viewerZone, locale);
    if (status.dataset.phase !== phase) {
      status.dataset.phase = phase;
      status.className = `status status--${phase}`;
    }
    setText(statusText, text);
    progress.hidden = elapsed == null;
    if (elapsed != null) {
      bar.style.width = `${Math.round(Math.min(1, elapsed) * 1000) / 10}%`;
      progress.classList.toggle("meeting-progress--over", phase === "over");
    }
  }

  function draw() {
    setText(title, meeting.title || "Mentoring meeting");
    when.dateTime = meeting.scheduled_start ?? "";
    setText(when, whenText(meeting, viewerZone, locale));
    tick();
  }

  // Whole seconds, aligned to the system clock so both people's clocks turn together.
  const loop = () => {
    tick();
    setTimeout(loop, 1000 - (Date.now() % 1000) + 5);
  };

  const joinLink =
    meeting.join_url && !ctx.inCall // in the call already: no link to it
      ? h(
          "a",
          { class: "join-link", href: meeting.join_url, target: "_blank", rel: "noopener noreferrer" },
          "Open the call",
        )
      : null;

  const element = h(
    "header",
    { class: "panel-header" },
    h(
      "p",
      { class: "eyebrow" },
      h("a", { href: "/", class: "eyebrow-link" }, "Mentor Sidecar"),
      mentorship.title ? ` · ${mentorship.title}` : "",
    ),
    title,
    h("p", { class: "meeting-when" }, when, h("span", { class: "muted" }, " (your time)")),
    h("div", { class: "status-row" }, status, progress, joinLink),
  );
  draw();
  loop();
  return {
    element,
    update(next) {
      meeting = next;
      draw();
    },
  };
}
