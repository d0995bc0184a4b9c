// "Your data" on the profile page: take everything away in one archive (GET /me/export), erase
// a mentorship for both people (DELETE /mentorships/{id}), or erase one's whole profile
// (DELETE /me), each after an explicit second step. An erasure waits a grace period in which
// it can be undone (the other person is emailed); while it waits, the row says when it goes,
// with Undo.

import {
  deleteMentorship,
  deleteProfile,
  everythingExportUrl,
  undoMentorshipErasure,
  undoProfileErasure,
} from "../lib/api.js";
import { h, liveRegion, setChildren, setText } from "../lib/dom.js";
import { displayLocale, formatLongDate, parseInstant } from "../lib/time.js";
import { forgetLocalNotes } from "../notes/forget.js";

function dayOf(iso, view) {
  const at = parseInstant(iso);
  return at ? formatLongDate(at, view.zone, view.locale) : "soon";
}

function erasableMentorship(mentorship, view, announce) {
  const row = h("li", { class: "erase-row", dataset: { mentorshipId: mentorship.id } });
  const other = mentorship.other ? ` with ${mentorship.other.name}` : "";
  const otherName = mentorship.other?.name ?? "the other person";
  const status = h("p", { class: "field-error", role: "alert", hidden: true });
  let erasure = mentorship.erasure ?? null;

  function failed(error, ...buttons) {
    status.hidden = false;
    setText(status, error.message);
    for (const b of buttons) b.disabled = false;
  }

  function ask() {
    const erase = h("button", { type: "button", class: "button button--danger erase-confirm" }, "Erase for good");
    const keep = h("button", { type: "button", class: "button button--quiet" }, "Keep it");
    erase.addEventListener("click", async () => {
      erase.disabled = true;
      keep.disabled = true;
      try {
        const planned = await deleteMentorship(mentorship.id);
        if (planned) {
          // Planned (202): it can be undone until then; the panel forgets its notes when it goes.
          erasure = planned;
          draw();
          announce(`“${mentorship.title}” will be erased on ${dayOf(planned.erase_after, view)}.`);
          row.querySelector(".erasure-undo")?.focus();
          return;
        }
        // Erased at once (204): its notes kept in this browser go too.
        await forgetLocalNotes({ mentorshipId: mentorship.id });
        announce(`“${mentorship.title}” was erased.`);
        row.remove();
      } catch (error) {
        failed(error, erase, keep);
      }
    });
    keep.addEventListener("click", draw);
    setChildren(
      row,
      h(
        "p",
        { class: "erase-warning" },
        h("strong", {}, `Erase “${mentorship.title}”${other}?`),
        ` The agreement, goals, meetings, notes and summaries go for both of you. ${mentorship.other ? `${otherName} is emailed, and either` : "Either"} of you can undo it for a few days; after that it cannot be brought back. Download your archive first if you want to keep a copy.`,
      ),
      h("div", { class: "form-actions" }, erase, keep),
      status,
    );
    erase.focus();
  }

  function draw() {
    status.hidden = true;
    if (erasure) {
      const undo = h("button", { type: "button", class: "button button--quiet erasure-undo" }, "Undo");
      undo.addEventListener("click", async () => {
        undo.disabled = true;
        try {
          await undoMentorshipErasure(mentorship.id);
          erasure = null;
          draw();
          announce(`“${mentorship.title}” is kept. Nothing will be erased.`);
          row.querySelector(".erase-start")?.focus();
        } catch (error) {
          failed(error, undo);
        }
      });
      const leaving = erasure.reason === "profile";
      setChildren(
        row,
        h(
          "span",
          { class: "erase-title" },
          `${mentorship.title}${other}`,
          h(
            "span",
            { class: "erase-when" },
            leaving && erasure.requested_by !== view.personId
              ? ` — ${otherName} is leaving; it will be erased on ${dayOf(erasure.erase_after, view)}`
              : ` — will be erased on ${dayOf(erasure.erase_after, view)}`,
          ),
        ),
        erasure.can_undo && !leaving ? undo : null,
        status,
      );
      return;
    }
    const start = h("button", { type: "button", class: "button button--quiet erase-start" }, "Erase…");
    start.addEventListener("click", ask);
    setChildren(row, h("span", { class: "erase-title" }, `${mentorship.title}${other}`), start, status);
  }

  draw();
  return row;
}

/** "Erase my profile": the person, their photo, sign-ins and every mentorship of theirs. */
function profileEraser(mentorships, view, announce) {
  const box = h("div", { class: "erase-profile" });
  const status = h("p", { class: "field-error", role: "alert", hidden: true });
  let planned = view.profileErasure;

  function draw() {
    status.hidden = true;
    if (planned) {
      const undo = h("button", { type: "button", class: "button button--primary erasure-undo" }, "Undo");
      undo.addEventListener("click", async () => {
        undo.disabled = true;
        try {
          await undoProfileErasure();
          planned = null;
          draw();
          announce("Your profile is kept, with all your mentorships.");
        } catch (error) {
          undo.disabled = false;
          status.hidden = false;
          setText(status, error.message);
        }
      });
      setChildren(
        box,
        h(
          "div",
          { class: "erasure-banner" },
          h(
            "p",
            {},
            h("strong", {}, `Your profile will be erased on ${dayOf(planned.erase_after, view)}`),
            ", with your mentorships. Until then you can still sign in, download everything, and undo it.",
          ),
          h("div", { class: "form-actions" }, undo),
        ),
        status,
      );
      return;
    }
    const start = h("button", { type: "button", class: "button button--quiet erase-profile-start" }, "Erase my profile…");
    start.addEventListener("click", ask);
    setChildren(box, start);
  }

  function ask() {
    const erase = h("button", { type: "button", class: "button button--danger erase-profile-confirm" }, "Erase my profile");
    const keep = h("button", { type: "button", class: "button button--quiet" }, "Keep it");
    const count = mentorships.length;
    const also = count
      ? ` and ${count === 1 ? "your mentorship" : `all ${count} of your mentorships`}, for the other ${count === 1 ? "person" : "people"} too (they are emailed)`
      : "";
    erase.addEventListener("click", async () => {
      erase.disabled = true;
      keep.disabled = true;
      try {
        planned = await deleteProfile();
        if (!planned) {
          await forgetLocalNotes();
          window.location.assign("/signed-out");
          return;
        }
        draw();
        announce(`Your profile will be erased on ${dayOf(planned.erase_after, view)}.`);
        box.querySelector(".erasure-undo")?.focus();
      } catch (error) {
        erase.disabled = false;
        keep.disabled = false;
        status.hidden = false;
        setText(status, error.message);
      }
    });
    keep.addEventListener("click", draw);
    setChildren(
      box,
      h(
        "p",
        { class: "erase-warning" },
        h("strong", {}, "Erase your profile?"),
        ` Your name, email, photo and sign-ins go${also}. You can undo it for a few days; after that it cannot be brought back.`,
      ),
      h("div", { class: "form-actions" }, erase, keep),
      status,
    );
    erase.focus();
  }

  draw();
  return box;
}

/** mentorships: MeOut.mentorships; me: {person, profile_erasure} (GET /me). */
export function yourData(mentorships, me = {}) {
  const announcer = liveRegion();
  const view = {
    zone: me.person?.timezone ?? "UTC",
    locale: displayLocale(me.person?.locale),
    profileErasure: me.profile_erasure ?? null,
    personId: me.person?.id ?? null,
  };
  const announce = (words) => setText(announcer, words);
  const list = h(
    "ul",
    { class: "erase-list" },
    mentorships.map((m) => erasableMentorship(m, view, announce)),
  );
  return h(
    "section",
    { id: "your-data", class: "card", "aria-labelledby": "your-data-heading" },
    h("h2", { id: "your-data-heading" }, "Your data"),
    h(
      "p",
      {},
      "Everything kept about you and your mentorships is yours: your profile, agreements, goals, agendas, notes and summaries.",
    ),
    h(
      "div",
      { class: "form-actions" },
      h("a", { class: "button", href: everythingExportUrl(), download: "" }, "Download everything (.zip)"),
    ),
    mentorships.length ? h("h3", { class: "subheading" }, "Erase a mentorship") : null,
    mentorships.length ? list : null,
    h("h3", { class: "subheading" }, "Erase your profile"),
    profileEraser(mentorships, view, announce),
    announcer,
  );
}
