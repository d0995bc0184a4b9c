// The "Live notes" region. This release only marks the place: the shared editor (next release)
// mounts into #notes-editor via mountNotes(), which receives the panel context (meeting, me,
// the CSP nonce for the editor's <style> element) and returns {destroy}.

import { h } from "../lib/dom.js";

export function notesSection(ctx) {
  const editorRoot = h(
    "div",
    { id: "notes-editor", class: "notes-editor", dataset: { meetingId: ctx.meeting.id } },
    h(
      "p",
      { class: "notes-placeholder" },
      "The shared editor lives here from the next release: one page of notes you both type into during the call.",
    ),
  );
  const element = h(
    "section",
    { id: "notes", class: "card notes", "aria-labelledby": "notes-heading" },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "notes-heading" }, "Live notes"),
      h("span", { class: "pill pill--soon" }, "Next release"),
    ),
    h(
      "p",
      { class: "section-intro" },
      "Dated notes, kept together where both of you can find them after the call.",
    ),
    editorRoot,
  );
  return { element, editorRoot };
}

/** Mount the notes editor into `editorRoot`. Nothing to mount yet. */
export function mountNotes(editorRoot, ctx) {
  void editorRoot;
  void ctx;
  return { destroy() {} };
}
