// After the call: the "End meeting" control in the header (with a confirm step), the "Ended"
// card (the summary both people were emailed and its delivery to each), and the "Wrap-up" card
// that shows the live draft summary from 10 minutes before the scheduled end (or on demand).

import {
  ApiError,
  cancelMeeting,
  endMeeting,
  getSummary,
  getSummaryDraft,
  reopenMeeting,
} from "../lib/api.js";
import { h, setChildren, setText } from "../lib/dom.js";
import { renderMarkdown } from "../lib/markdown.js";
import { formatClock, formatDayTime, parseInstant } from "../lib/time.js";

const WRAPUP_LEAD_MS = 10 * 60000;
const DRAFT_DEBOUNCE_MS = 2000;
const DRAFT_INTERVAL_MS = 5000;

function firstName(person) {
  return String(person?.name ?? "").split(/\s+/)[0] || "";
}

function personFor(ctx, personId) {
  for (const person of Object.values(ctx.people)) if (person?.id === personId) return person;
  return null;
}

/** One delivery line: "Sent to Helena at 10:02", "Retrying (…) — will keep trying", "Queued". */
export function deliveryText(ctx, d, now = new Date()) {
  const person = personFor(ctx, d.person_id);
  const who = person ? (person.id === ctx.me.id ? "you" : firstName(person)) : d.recipient;
  if (d.state === "sent") {
    const at = parseInstant(d.sent_at);
    if (!at) return `Sent to ${who}`;
    const sameDay = now - at < 12 * 3600000;
    const when = sameDay
      ? formatClock(at, ctx.viewerZone, ctx.locale)
      : formatDayTime(at, ctx.viewerZone, ctx.locale);
    return `Sent to ${who} at ${when}`;
  }
  if (d.state === "retrying") {
    const why = d.last_error ? ` (${d.last_error})` : "";
    return `To ${who}: retrying${why} — will keep trying`;
  }
  return `To ${who}: queued`;
}

// The window in which a meeting can be ended opens this long before its start (the service
// refuses an earlier End with 409 too_early).
const END_WINDOW_MS = 15 * 60000;

function endWindowOpen(meeting, now = Date.now()) {
  const start = parseInstant(meeting.scheduled_start);
  return meeting.status === "live" || !start || now >= start.getTime() - END_WINDOW_MS;
}

/** "Cancelled by Ana on Tuesday 12 December 2026" (or "by you"). */
export function cancelledText(ctx, meeting) {
  const person = personFor(ctx, meeting.cancelled_by);
  const who = person ? (person.id === ctx.me.id ? " by you" : ` by ${firstName(person)}`) : "";
  const at = parseInstant(meeting.cancelled_at);
  const when = at ? ` on ${formatDayTime(at, ctx.viewerZone, ctx.locale)}` : "";
  return `This meeting was cancelled${who}${when}. Its agenda and notes stay here; the other meetings keep their dates.`;
}

/**
 * The header's controls for how the meeting ends: "End meeting" (with a confirm step) once its
 * window opens, "Cancel this meeting" (with a confirm step, in words) while it has not started.
 * An End the service answers with nobody_joined asks whether to cancel the meeting instead.
 * Calls onEnded(meeting) after the service ended or cancelled it.
 */
export function endControl(ctx, { onEnded }) {
  const problem = h("p", { class: "field-error end-problem", role: "alert", hidden: true });
  const button = (label, onclick, kind = "button--quiet") =>
    h("button", { type: "button", class: `button ${kind}`, onclick }, label);
  const start = button("End meeting", () => show("end"), "button--quiet end-button");
  const cancelStart = button("Cancel this meeting", () => show("cancel"), "button--quiet end-button cancel-button");

  // One confirm step at a time: ending, ending a meeting nobody joined, or cancelling.
  const question = h("div", { class: "end-confirm", role: "group", hidden: true });
  const cancelledNote = h("p", { class: "cancelled-note", role: "status", hidden: true });
  const element = h("div", { class: "end-meeting" }, start, cancelStart, question, cancelledNote, problem);
  let open = null;
  let busy = false;

  function ask(which) {
    const back = (label) => button(label, () => show(null));
    if (which === "end") {
      const yes = button("End and send", () => end(false), "button--primary");
      return ["End the meeting", "End the call for both of you and send the summary?", [yes, back("Not yet")]];
    }
    if (which === "empty") {
      const yes = button("Cancel meeting", () => cancel(), "button--primary");
      const anyway = button("End anyway", () => end(true));
      return ["Nobody joined", "Nobody joined and there are no notes. Cancel this meeting instead?", [yes, anyway, back("Back")]];
    }
    const when = parseInstant(ctx.meeting.scheduled_start);
    const day = when ? ` on ${formatDayTime(when, ctx.viewerZone, ctx.locale)}` : "";
    const yes = button("Cancel meeting", () => cancel(), "button--primary");
    return [
      "Cancel the meeting",
      `Cancel the meeting${day} for both of you? You both get an email and it leaves your calendars; the other meetings keep their dates.`,
      [yes, back("Keep it")],
    ];
  }

  function draw() {
    const meeting = ctx.meeting;
    const over = meeting.status === "ended" || meeting.status === "cancelled";
    start.hidden = over || open !== null || !endWindowOpen(meeting);
    cancelStart.hidden = over || open !== null || meeting.status !== "scheduled";
    question.hidden = over || open === null;
    cancelledNote.hidden = meeting.status !== "cancelled";
    if (!cancelledNote.hidden) setText(cancelledNote, cancelledText(ctx, meeting));
    element.hidden = meeting.status === "ended";
  }

  function show(which) {
    open = which;
    problem.hidden = true;
    if (which) {
      const [label, words, actions] = ask(which);
      question.className = `end-confirm end-confirm--${which}`;
      question.setAttribute("aria-label", label);
      setChildren(question, h("p", {}, words), h("div", { class: "end-confirm-actions" }, ...actions));
    }
    draw();
    (which ? question.querySelector("button") : start.hidden ? cancelStart : start).focus();
  }

  function fail(error) {
    setText(problem, error instanceof ApiError ? error.message : String(error));
    problem.hidden = false;
  }

  async function act(call) {
    if (busy) return;
    busy = true;
    element.querySelectorAll("button").forEach((b) => (b.disabled = true));
    try {
      const meeting = await call();
      open = null;
      onEnded(meeting);
    } catch (error) {
      if (error instanceof ApiError && error.code === "nobody_joined") {
        show("empty");
      } else {
        fail(error);
      }
    } finally {
      busy = false;
      element.querySelectorAll("button").forEach((b) => (b.disabled = false));
    }
  }

  const end = (evenIfEmpty) =>
    act(() => endMeeting(ctx.meeting.id, evenIfEmpty ? { even_if_empty: true } : undefined));
  const cancel = () => act(() => cancelMeeting(ctx.meeting.id));

  draw();
  setInterval(draw, 15000); // the End button appears as the meeting's window opens

  return {
    element,
    update(meeting) {
      if (meeting.status === "ended" || meeting.status === "cancelled") open = null;
      draw();
    },
  };
}

/**
 * The "Ended" card: the summary that was sent and how its delivery goes, per person, and
 * "Reopen" while the meeting can still be reopened (to go on, or to correct the notes).
 */
export function endedCard(ctx) {
  const state = h("p", { class: "ended-state" }, "Loading the summary…");
  const delivery = h("ul", { class: "plain-list delivery-list", "aria-live": "polite" });
  const body = h("div", { class: "summary-body" });
  const reopenProblem = h("p", { class: "field-error", role: "alert", hidden: true });
  const reopenHint = h("p", { class: "hint reopen-hint" });
  const reopenButton = h(
    "button",
    { type: "button", class: "button button--quiet reopen-button", onclick: reopen },
    "Reopen the meeting",
  );
  const reopenRow = h("div", { class: "reopen", hidden: true }, reopenButton, reopenHint, reopenProblem);
  const element = h(
    "section",
    { id: "meeting-ended", class: "card ended-card", "aria-labelledby": "ended-heading", hidden: true },
    h("h2", { id: "ended-heading" }, "Ended"),
    state,
    delivery,
    reopenRow,
    body,
  );
  let started = false;
  let timer = 0;
  let tries = 0;
  let lastBody = null;

  function showReopen(summary) {
    const until = parseInstant(summary.reopen_until);
    reopenRow.hidden = !until || Date.now() >= until.getTime();
    if (reopenRow.hidden) return;
    const sameDay = until - Date.now() < 12 * 3600000;
    const when = sameDay
      ? formatClock(until, ctx.viewerZone, ctx.locale)
      : formatDayTime(until, ctx.viewerZone, ctx.locale);
    setText(
      reopenHint,
      `Ended too soon, or the notes need a fix? Until ${when} you can reopen it: it is live again, and ending it again sends both of you a corrected summary.`,
    );
  }

  async function reopen() {
    reopenButton.disabled = true;
    reopenProblem.hidden = true;
    try {
      await reopenMeeting(ctx.meeting.id);
      await ctx.refetch?.("meeting");
    } catch (error) {
      setText(reopenProblem, error instanceof ApiError ? error.message : String(error));
      reopenProblem.hidden = false;
    } finally {
      reopenButton.disabled = false;
    }
  }

  async function load() {
    tries += 1;
    let summary;
    try {
      summary = await getSummary(ctx.meeting.id);
    } catch (error) {
      if (!(error instanceof ApiError && (error.status === 404 || error.status === 0))) {
        setText(state, `The summary could not be loaded: ${error.message}`);
        return;
      }
      timer = setTimeout(load, Math.min(10000, 1000 * tries));
      return;
    }
    setText(
      state,
      summary.corrected
        ? "The call has ended. This corrected summary went to both of you by email."
        : "The call has ended. This summary went to both of you by email.",
    );
    showReopen(summary);
    if (summary.body_markdown !== lastBody) {
      lastBody = summary.body_markdown;
      setChildren(body, renderMarkdown(summary.body_markdown));
    }
    const items = summary.delivery ?? [];
    setChildren(
      delivery,
      items.map((d) =>
        h("li", { class: `delivery delivery--${d.state}`, dataset: { state: d.state } }, deliveryText(ctx, d)),
      ),
    );
    if (items.some((d) => d.state !== "sent")) {
      timer = setTimeout(load, tries < 30 ? 2000 : 15000);
    }
  }

  return {
    element,
    update(meeting) {
      if (meeting.status !== "ended") {
        // Reopened: the card waits for the next end, and then shows the corrected summary.
        started = false;
        element.hidden = true;
        clearTimeout(timer);
        return;
      }
      if (started) return;
      started = true;
      tries = 0;
      element.hidden = false;
      clearTimeout(timer);
      load();
    },
  };
}

/**
 * The "Wrap-up" card: the summary as it would be sent if the call ended now, refreshed while
 * the notes change, so both can fix an agreement's wording before hanging up.
 */
export function wrapupCard(ctx) {
  const body = h("div", { class: "summary-body draft-body" });
  const status = h("p", { class: "hint draft-status", role: "status" });
  const toggle = h("button", { type: "button", class: "button button--quiet", onclick: () => setOpen(!open, true) });
  const help = h(
    "p",
    { class: "hint wrapup-help" },
    "Write agreements in the notes as ",
    h("code", {}, "Agreed: we meet on Tuesdays"),
    " and next steps as ",
    h("code", {}, "- [ ] send the draft @mentee by 2026-12-03"),
    " (",
    h("code", {}, "@mentor"),
    " or ",
    h("code", {}, "@mentee"),
    ", date as YYYY-MM-DD). The preview follows your notes within a few seconds.",
  );
  const content = h("div", { class: "wrapup-content", hidden: true }, help, status, body);
  const element = h(
    "section",
    { id: "wrap-up", class: "card wrapup-card", "aria-labelledby": "wrapup-heading" },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "wrapup-heading" }, "Wrap-up"),
      toggle,
    ),
    h("p", { class: "wrapup-lead" }, "What the summary email will say when you end the call."),
    content,
  );

  let open = false;
  let byHand = false; // opened or closed by the person: the clock no longer decides
  let ended = false;
  let meeting = ctx.meeting;
  let interval = 0;
  let debounce = 0;
  let inFlight = false;
  let again = false;
  let lastBody = null;

  async function refresh() {
    if (!open || ended) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      do {
        again = false;
        try {
          const draft = await getSummaryDraft(ctx.meeting.id);
          if (!open || ended) return;
          if (draft.body_markdown !== lastBody) {
            lastBody = draft.body_markdown;
            setChildren(body, renderMarkdown(draft.body_markdown));
          }
          setText(status, `Preview as of ${formatClock(new Date(), ctx.viewerZone, ctx.locale)}`);
        } catch (error) {
          setText(status, `The preview could not be updated: ${error.message}`);
        }
      } while (again);
    } finally {
      inFlight = false;
    }
  }

  function setOpen(next, manual = false) {
    if (manual) byHand = true;
    if (ended) next = false;
    open = next;
    content.hidden = !open;
    setText(toggle, open ? "Hide the preview" : "Preview the summary");
    toggle.setAttribute("aria-expanded", String(open));
    clearInterval(interval);
    if (open) {
      refresh();
      interval = setInterval(() => {
        if (document.visibilityState === "visible") refresh();
      }, DRAFT_INTERVAL_MS);
    }
  }

  function byClock() {
    if (byHand || ended) return;
    const end = parseInstant(meeting.scheduled_end);
    const due = end && Date.now() >= end.getTime() - WRAPUP_LEAD_MS;
    if (due && !open) setOpen(true);
  }

  setOpen(false);
  byClock();
  setInterval(byClock, 15000);

  return {
    element,
    /** Call when the notes changed: the preview refetches after a short pause. */
    notesChanged() {
      if (!open) return;
      clearTimeout(debounce);
      debounce = setTimeout(refresh, DRAFT_DEBOUNCE_MS);
    },
    update(next) {
      meeting = next;
      if (meeting.status === "ended" || meeting.status === "cancelled") {
        ended = true;
        setOpen(false);
        element.hidden = true;
        return;
      }
      if (ended) {
        ended = false; // reopened
        element.hidden = false;
      }
      byClock();
    },
  };
}
