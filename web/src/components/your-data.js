// "Your data" on the profile page: take everything away in one archive (GET /me/export), or
// erase a mentorship for both people (DELETE /mentorships/{id}) after an explicit second step.

import { deleteMentorship, everythingExportUrl } from "../lib/api.js";
import { h, liveRegion, setChildren, setText } from "../lib/dom.js";
import { forgetLocalNotes } from "../notes/local.js";

function erasableMentorship(mentorship, onErased) {
  const row = h("li", { class: "erase-row", dataset: { mentorshipId: mentorship.id } });
  const other = mentorship.other ? ` with ${mentorship.other.name}` : "";
  const status = h("p", { class: "field-error", role: "alert", hidden: true });

  function ask() {
    const erase = h("button", { type: "button", class: "button button--danger erase-confirm" }, "Erase for good");
    const keep = h("button", { type: "button", class: "button button--quiet" }, "Keep it");
    erase.addEventListener("click", async () => {
      erase.disabled = true;
      keep.disabled = true;
      try {
        const planned = await deleteMentorship(mentorship.id);
        // Erased at once (204): its notes kept in this browser go too. A planned erasure (202)
        // can be undone; the panel forgets them when it happens (a 4410 close or a 404).
        if (!planned) await forgetLocalNotes({ mentorshipId: mentorship.id });
        onErased(mentorship);
        row.remove();
      } catch (error) {
        status.hidden = false;
        setText(status, error.message);
        erase.disabled = false;
        keep.disabled = false;
      }
    });
    keep.addEventListener("click", draw);
    setChildren(
      row,
      h(
        "p",
        { class: "erase-warning" },
        h("strong", {}, `Erase “${mentorship.title}”${other}?`),
        " The agreement, goals, meetings, notes and summaries go for both of you, and cannot be brought back. Download your archive first if you want to keep a copy.",
      ),
      h("div", { class: "form-actions" }, erase, keep),
      status,
    );
    erase.focus();
  }

  function draw() {
    const start = h("button", { type: "button", class: "button button--quiet erase-start" }, "Erase…");
    start.addEventListener("click", ask);
    setChildren(row, h("span", { class: "erase-title" }, `${mentorship.title}${other}`), start);
  }

  draw();
  return row;
}

export function yourData(mentorships) {
  const announcer = liveRegion();
  const list = h(
    "ul",
    { class: "erase-list" },
    mentorships.map((m) =>
      erasableMentorship(m, (gone) => setText(announcer, `“${gone.title}” was erased.`)),
    ),
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
    mentorships.length
      ? h("h3", { class: "subheading" }, "Erase a mentorship")
      : null,
    mentorships.length ? list : null,
    announcer,
  );
}
