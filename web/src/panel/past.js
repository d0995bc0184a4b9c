// "Past meetings": the pair's ended meetings (date in your time zone, a link to each one's
// panel and its notes as Markdown), a search through all their notes and summaries, and the
// export of everything as one Markdown file.

import { ApiError, exportUrl, listMeetings, notesMdUrl, searchMeetings } from "../lib/api.js";
import { h, setChildren, uid } from "../lib/dom.js";
import { inline } from "../lib/markdown.js";
import { formatLongDate, parseInstant } from "../lib/time.js";

function dateOf(ctx, iso) {
  const at = parseInstant(iso);
  return at ? h("time", { datetime: iso }, formatLongDate(at, ctx.viewerZone, ctx.locale)) : null;
}

/** A search snippet without Markdown's block marks ("## ", "- [ ] "); **matches** stay. */
function plainSnippet(snippet) {
  return String(snippet ?? "")
    .replace(/#{1,6}\s+/g, "")
    .replace(/(^|\s)[-+]\s+(\[[ xX]\]\s+)?/g, "$1");
}

function meetingLink(id, title) {
  return h("a", { href: `/meetings/${encodeURIComponent(id)}` }, title || "Mentoring meeting");
}

export function pastMeetingsCard(ctx, initialMeetings) {
  const list = h("ul", { class: "plain-list past-list" });
  const empty = h("p", { class: "empty-prompt" }, "No ended meetings yet.");
  const inputId = uid("search");
  const input = h("input", { id: inputId, type: "search", name: "q", maxlength: "200", autocomplete: "off" });
  const results = h("div", { class: "search-results", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "past-search", role: "search", onsubmit: search },
    h("label", { for: inputId }, "Search your notes and summaries"),
    h("div", { class: "past-search-row" }, input, h("button", { type: "submit", class: "button" }, "Search")),
  );
  const element = h(
    "section",
    { id: "past-meetings", class: "card past-card", "aria-labelledby": "past-heading" },
    h("h2", { id: "past-heading" }, "Past meetings"),
    list,
    empty,
    form,
    results,
    h(
      "a",
      { class: "button button--quiet export-link", href: exportUrl(ctx.mentorship.id), download: "" },
      "Export everything (.md)",
    ),
  );

  function render(meetings) {
    const ended = meetings
      .filter((m) => m.status === "ended")
      .sort((a, b) => String(b.scheduled_start).localeCompare(String(a.scheduled_start)));
    setChildren(
      list,
      ended.map((m) =>
        h(
          "li",
          { class: "past-meeting", dataset: { meetingId: m.id } },
          meetingLink(m.id, m.title),
          h(
            "span",
            { class: "past-meta" },
            dateOf(ctx, m.scheduled_start),
            " · ",
            h("a", { href: notesMdUrl(m.id), download: "" }, "notes.md"),
          ),
        ),
      ),
    );
    list.hidden = ended.length === 0;
    empty.hidden = ended.length > 0;
  }

  async function search(event) {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) {
      setChildren(results, h("p", { class: "hint" }, "Type a word or two to search."));
      return;
    }
    setChildren(results, h("p", { class: "hint" }, "Searching…"));
    try {
      const { hits = [] } = await searchMeetings(ctx.mentorship.id, q);
      if (!hits.length) {
        setChildren(results, h("p", { class: "hint" }, `Nothing found for “${q}”.`));
        return;
      }
      setChildren(
        results,
        h(
          "ul",
          { class: "plain-list hit-list" },
          hits.map((hit) =>
            h(
              "li",
              { class: "search-hit" },
              meetingLink(hit.meeting_id, hit.title),
              " ",
              h("span", { class: "past-meta" }, dateOf(ctx, hit.scheduled_start)),
              h("p", { class: "snippet" }, inline(plainSnippet(hit.snippet))),
            ),
          ),
        ),
      );
    } catch (error) {
      const message =
        error instanceof ApiError && error.status === 422 ? "Type a word or two to search." : error.message;
      setChildren(results, h("p", { class: "field-error" }, message));
    }
  }

  render(initialMeetings);
  return {
    element,
    update: render,
    async refresh() {
      try {
        render((await listMeetings(ctx.mentorship.id)).meetings ?? []);
      } catch {
        // The list catches up on the next change.
      }
    },
  };
}
