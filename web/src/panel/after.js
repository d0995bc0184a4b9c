// After the call: the "End meeting" control in the header (with a confirm step), the "Ended"
// card (the summary both people were emailed and its delivery to each), and the "Wrap-up" card
// that shows the live draft summary from 10 minutes before the scheduled end (or on demand).

import { ApiError, endMeeting, getSummary, getSummaryDraft } from "../lib/api.js";
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

/** "End meeting" with an inline confirm step; calls onEnded(meeting) after the service agrees. */
export function endControl(ctx, { onEnded }) {
  const problem = h("p", { class: "field-error end-problem", role: "alert", hidden: true });
  const start = h(
    "button",
    { type: "button", class: "button button--quiet end-button", onclick: () => ask(true) },
    "End meeting",
  );
  const yes = h("button", { type: "button", class: "button button--primary", onclick: confirm }, "End and send");
  const no = h("button", { type: "button", class: "button button--quiet", onclick: () => ask(false) }, "Cancel");
  const question = h(
    "div",
    { class: "end-confirm", role: "group", "aria-label": "End the meeting", hidden: true },
    h("p", {}, "End the call for both of you and send the summary?"),
    h("div", { class: "end-confirm-actions" }, yes, no),
  );
  const element = h("div", { class: "end-meeting" }, start, question, problem);

  function ask(open) {
    start.hidden = open;
    question.hidden = !open;
    problem.hidden = true;
    (open ? yes : start).focus();
  }

  async function confirm() {
    yes.disabled = true;
    no.disabled = true;
    try {
      const meeting = await endMeeting(ctx.meeting.id);
      onEnded(meeting);
    } catch (error) {
      setText(problem, error instanceof ApiError ? error.message : String(error));
      problem.hidden = false;
    } finally {
      yes.disabled = false;
      no.disabled = false;
    }
  }

  return {
    element,
    update(meeting) {
      element.hidden = meeting.status === "ended";
    },
  };
}

/** The "Ended" card: the summary that was sent and how its delivery goes, per person. */
export function endedCard(ctx) {
  const state = h("p", { class: "ended-state" }, "Loading the summary…");
  const delivery = h("ul", { class: "plain-list delivery-list", "aria-live": "polite" });
  const body = h("div", { class: "summary-body" });
  const element = h(
    "section",
    { id: "meeting-ended", class: "card ended-card", "aria-labelledby": "ended-heading", hidden: true },
    h("h2", { id: "ended-heading" }, "Ended"),
    state,
    delivery,
    body,
  );
  let started = false;
  let timer = 0;
  let tries = 0;
  let lastBody = null;

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
    setText(state, "The call has ended. This summary went to both of you by email.");
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
      if (meeting.status !== "ended" || started) return;
      started = true;
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
      if (meeting.status === "ended") {
        ended = true;
        setOpen(false);
        element.hidden = true;
        return;
      }
      byClock();
    },
  };
}
