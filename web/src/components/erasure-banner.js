// "This mentorship will be erased on Tuesday, 8 December 2026. Undo": shown to both people in
// the panel and on the profile page while an erasure waits out its grace period (the other
// person has been emailed). When the other person is erasing their whole profile, only they can
// undo it: the banner says so and points to the archive instead.

import { ApiError, everythingExportUrl, undoMentorshipErasure } from "../lib/api.js";
import { h, setChildren } from "../lib/dom.js";
import { formatLongDate, parseInstant } from "../lib/time.js";

function otherName(ctx, requesterId) {
  for (const person of Object.values(ctx.people ?? {})) if (person?.id === requesterId) return person.name;
  return "The other person";
}

/**
 * ctx: {me, people, viewerZone, locale}; mentorship: {id, erasure}. `onUndone()` after Undo.
 * Returns {element, update(erasure)}; the element is hidden when nothing is planned.
 */
export function erasureBanner(ctx, mentorship, { onUndone = () => {} } = {}) {
  const element = h("div", { class: "erasure-banner", role: "status", hidden: true, dataset: { mentorshipId: mentorship.id } });

  function update(erasure) {
    if (!erasure) {
      element.hidden = true;
      element.replaceChildren();
      return;
    }
    const when = parseInstant(erasure.erase_after);
    const day = when ? formatLongDate(when, ctx.viewerZone, ctx.locale) : "soon";
    const mine = erasure.requested_by === ctx.me.id;
    const who = mine ? "You" : otherName(ctx, erasure.requested_by);
    let words;
    let instead = h("a", { class: "button", href: everythingExportUrl(), download: "" }, "Download everything");
    if (erasure.reason === "profile" && mine) {
      words = `You are erasing your profile: this mentorship will be erased on ${day}, for both of you.`;
      instead = h("a", { class: "button", href: "/me#your-data" }, "Undo on your profile");
    } else if (erasure.reason === "profile") {
      words = `${who} is leaving Mentor Sidecar: this mentorship will be erased on ${day}. Download what you want to keep.`;
    } else {
      words = `This mentorship will be erased on ${day}, for both of you (${mine ? "you asked" : `${who} asked`}).`;
    }
    const problem = h("span", { class: "field-error", role: "alert", hidden: true });
    const undo = h("button", { type: "button", class: "button button--primary erasure-undo" }, "Undo");
    undo.addEventListener("click", async () => {
      undo.disabled = true;
      try {
        await undoMentorshipErasure(mentorship.id);
        update(null);
        onUndone();
      } catch (error) {
        undo.disabled = false;
        problem.hidden = false;
        problem.textContent =
          error instanceof ApiError && error.status === 404 ? "It was already undone." : error.message;
      }
    });
    setChildren(
      element,
      h("p", {}, h("strong", {}, words)),
      h(
        "div",
        { class: "form-actions" },
        erasure.can_undo ? undo : instead,
        problem,
      ),
    );
    element.hidden = false;
  }

  update(mentorship.erasure ?? null);
  return { element, update };
}
