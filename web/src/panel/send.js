// "Send agenda": emails the agenda to the other person (POST /meetings/{id}/agenda/send) and
// shows whether and when it went out, measured against the meeting's start. A mentee who has
// not sent it when the meeting is near sees it highlighted.

import { ApiError, sendAgenda } from "../lib/api.js";
import { everyMinute } from "../lib/clock.js";
import { h, liveRegion, setText } from "../lib/dom.js";
import { formatDayTime, humanDuration, parseInstant } from "../lib/time.js";
import { otherRole } from "../lib/words.js";

const NEAR_MS = 24 * 60 * 60 * 1000; // within a day of the start, an unsent agenda stands out

function firstName(person) {
  return String(person?.name ?? "").split(/\s+/)[0] || "";
}

/** "Sent Mon 3 Jun, 14:02 · 1 day before the start" (or after), or "Not sent yet". */
export function sentText(ctx, meeting) {
  const sent = parseInstant(meeting.agenda_sent_at);
  if (!sent) return "Not sent yet";
  const start = parseInstant(meeting.scheduled_start);
  const by =
    meeting.agenda_sent_by && meeting.agenda_sent_by !== ctx.me.id
      ? ` by ${firstName(Object.values(ctx.people).find((p) => p?.id === meeting.agenda_sent_by))}`
      : "";
  const when = formatDayTime(sent, ctx.viewerZone, ctx.locale);
  let relation = "";
  if (start) {
    const lead = start - sent;
    relation =
      lead >= 60000
        ? ` · ${humanDuration(lead)} before the start`
        : lead <= -60000
          ? ` · ${humanDuration(-lead)} after the start`
          : " · at the start";
  }
  return `Sent${by} ${when}${relation}`;
}

export function sendBar(ctx) {
  const other = ctx.people[otherRole(ctx.myRole)];
  const status = h("p", { class: "send-status" });
  const announcer = liveRegion();
  const problem = h("p", { class: "inline-error", role: "alert", hidden: true });
  const button = h(
    "button",
    { type: "button", class: "button button--quiet send-button" },
    other ? `Send agenda to ${firstName(other)}` : "Send agenda",
  );
  let meeting = ctx.meeting;
  let waitUntil = 0; // after a 429: when the service accepts another send
  let waitTimer = 0;

  /** "You can send it again in 4 min", kept up to date until then. */
  function showWait() {
    clearTimeout(waitTimer);
    const left = waitUntil - Date.now();
    if (left <= 0) {
      problem.hidden = true;
      draw();
      return;
    }
    const minutes = Math.ceil(left / 60000);
    problem.textContent = `It was sent a moment ago. You can send it again in ${minutes} min.`;
    problem.hidden = false;
    button.disabled = true;
    waitTimer = setTimeout(showWait, Math.min(left, ((left - 1) % 60000) + 1));
  }

  function draw(now = new Date()) {
    const sent = Boolean(meeting.agenda_sent_at);
    const start = parseInstant(meeting.scheduled_start);
    const near = !sent && start && start - now < NEAR_MS && meeting.status === "scheduled";
    element.dataset.sent = sent ? "yes" : "no";
    element.classList.toggle("send-bar--near", Boolean(near));
    let text = sentText(ctx, meeting);
    if (near && start - now > 0) {
      text =
        ctx.myRole === "mentee"
          ? "Not sent yet · send it before the start"
          : `Not sent yet · ${firstName(other) || "your mentee"} usually sends it before the start`;
    }
    setText(status, text);
    setText(
      button,
      sent ? "Send again" : other ? `Send agenda to ${firstName(other)}` : "Send agenda",
    );
    button.disabled = !other || waitUntil > now.getTime();
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    problem.hidden = true;
    try {
      meeting = await sendAgenda(meeting.id);
      ctx.meeting = { ...ctx.meeting, ...meeting };
      draw();
      setText(announcer, `Agenda sent to ${other?.name ?? "the other person"}.`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 429) {
        // Sent a moment ago: the service allows one email every few minutes per meeting.
        waitUntil = Date.now() + (error.retryAfter ?? 60) * 1000;
        showWait();
        return;
      }
      problem.textContent =
        error instanceof ApiError && error.status === 401
          ? "You are signed out. Open your personal link again to send the agenda."
          : `The agenda was not sent. ${error.message}`;
      problem.hidden = false;
      button.disabled = false;
    }
  });

  const element = h(
    "div",
    { class: "send-bar" },
    h(
      "div",
      { class: "send-text" },
      h("p", { class: "send-label" }, "Agenda email"),
      status,
    ),
    button,
    problem,
    announcer,
  );
  everyMinute(draw);
  return {
    element,
    update(next) {
      meeting = next;
      draw();
    },
  };
}
