// The mentoring agreement in the panel: its state in one line (confirmed by both, waiting for
// someone, changed since) and a link to the agreement page. After a few meetings it offers to
// revisit the agreement.

import { h, setChildren } from "../lib/dom.js";
import { formatDayTime, parseInstant } from "../lib/time.js";

function firstName(person) {
  return String(person?.name ?? "").split(/\s+/)[0] || "";
}

/** {tone: done|waiting|revisit|empty, text} for an AgreementOut, seen by `ctx.me`. */
export function agreementState(ctx, agreement) {
  const confirmed = new Set((agreement.confirmations ?? []).map((c) => c.person_id));
  const filled = [
    agreement.meeting_cadence,
    agreement.communication_channels,
    agreement.communication_frequency,
    agreement.confidentiality,
    agreement.feedback_and_encouragement,
    agreement.objectives,
    agreement.cultural_differences,
  ].some((v) => String(v ?? "").trim());
  if (agreement.revisit_due) {
    return {
      tone: "revisit",
      text: "You have met a few times since you both confirmed it: a good moment to look at it together again.",
    };
  }
  if (agreement.confirmed_by_both) {
    const last = (agreement.confirmations ?? [])
      .map((c) => parseInstant(c.confirmed_at))
      .filter(Boolean)
      .sort((a, b) => b - a)[0];
    const when = last ? ` on ${formatDayTime(last, ctx.viewerZone, ctx.locale)}` : "";
    return { tone: "done", text: `Confirmed by both of you${when}.` };
  }
  if (!filled && confirmed.size === 0) {
    return { tone: "empty", text: "Not written yet. Fill it in together in one of your first meetings." };
  }
  const waiting = [ctx.people.mentor, ctx.people.mentee].filter((p) => p && !confirmed.has(p.id));
  const names = waiting.map((p) => (p.id === ctx.me.id ? "you" : firstName(p)));
  if (names.length === 2) return { tone: "waiting", text: "Waiting for both of you to confirm.", mine: true };
  if (names.length === 1) {
    return {
      tone: "waiting",
      text: names[0] === "you" ? "Waiting for you to confirm." : `Waiting for ${names[0]} to confirm.`,
      mine: names[0] === "you",
    };
  }
  return { tone: "waiting", text: "Waiting for confirmation." };
}

export function agreementCard(ctx, initial) {
  const state = h("p", { class: "agreement-state" });
  const href = `/mentorships/${encodeURIComponent(ctx.mentorship.id)}/agreement`;
  const link = h("a", { class: "button button--quiet", href });
  const element = h(
    "section",
    { id: "agreement-status", class: "card agreement-card", "aria-labelledby": "agreement-card-heading" },
    h("h2", { id: "agreement-card-heading" }, "Your agreement"),
    state,
    link,
  );
  function update(agreement) {
    if (!agreement) return;
    const { tone, text, mine } = agreementState(ctx, agreement);
    element.dataset.tone = tone;
    setChildren(state, text);
    setChildren(
      link,
      tone === "revisit" ? "Revisit the agreement" : mine ? "Open and confirm" : "Open the agreement",
    );
  }
  update(initial);
  return { element, update };
}
