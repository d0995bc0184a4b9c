// Conversation prompts: getting to know each other, open questions, cultural differences.
// In the pair's first three meetings they are shown unasked (trust is built early); later the
// card offers them on demand. Both people see the same prompt of each kind for a meeting, so
// either can say "let's take the second one"; "Another" moves on.

import { listPrompts } from "../lib/api.js";
import { h, liveRegion, setChildren, setText } from "../lib/dom.js";

const FIRST_MEETINGS = 3;
const KIND_ORDER = ["getting_to_know", "open_question", "cultural"];

export function promptsSection(ctx, meetingIndex) {
  const early = meetingIndex >= 0 && meetingIndex < FIRST_MEETINGS;
  const body = h("div", { class: "prompts-body" });
  const announcer = liveRegion();
  const offsets = new Map();
  let byKind = null;

  function kindBlock(kind, prompts) {
    const text = h("p", { class: "prompt-text" });
    const show = () => {
      const n = ((meetingIndex < 0 ? 0 : meetingIndex) + (offsets.get(kind) ?? 0)) % prompts.length;
      setText(text, prompts[n].text);
    };
    show();
    const add = h(
      "button",
      {
        type: "button",
        class: "button button--tiny button--add-prompt",
        "aria-label": `Add to notes: ${prompts[0].kind_title}`,
        onclick: () => {
          const added = ctx.addToNotes?.(text.textContent);
          setText(announcer, added ? "Added to the notes." : "The notes are still loading; try again in a moment.");
        },
      },
      "Add to notes",
    );
    return h(
      "li",
      { class: "prompt", dataset: { kind } },
      h("p", { class: "prompt-kind" }, prompts[0].kind_title),
      text,
      add,
      h(
        "button",
        {
          type: "button",
          class: "button button--tiny",
          "aria-label": `Another prompt: ${prompts[0].kind_title}`,
          onclick: () => {
            offsets.set(kind, (offsets.get(kind) ?? 0) + 1);
            show();
          },
        },
        "Another",
      ),
    );
  }

  async function reveal() {
    setChildren(body, h("p", { class: "muted" }, "Loading prompts…"));
    try {
      if (!byKind) {
        const data = await listPrompts();
        byKind = new Map();
        for (const prompt of data.prompts ?? []) {
          if (!byKind.has(prompt.kind)) byKind.set(prompt.kind, []);
          byKind.get(prompt.kind).push(prompt);
        }
      }
      const kinds = [...KIND_ORDER.filter((k) => byKind.has(k)), ...[...byKind.keys()].filter((k) => !KIND_ORDER.includes(k))];
      setChildren(body, h("ul", { class: "prompt-list" }, kinds.map((k) => kindBlock(k, byKind.get(k)))));
    } catch (error) {
      setChildren(body, h("p", { class: "inline-error", role: "alert" }, `The prompts could not load. ${error.message}`));
    }
  }

  const ask = h(
    "button",
    {
      type: "button",
      class: "button button--quiet",
      onclick: async () => {
        ask.hidden = true;
        await reveal();
        body.querySelector(".prompt-text")?.setAttribute("tabindex", "-1");
        body.querySelector(".prompt-text")?.focus();
      },
    },
    "Need a question?",
  );

  const element = h(
    "section",
    { id: "prompts", class: "card prompts", "aria-labelledby": "prompts-heading" },
    h("h2", { id: "prompts-heading" }, "Conversation prompts"),
    h(
      "p",
      { class: "section-intro" },
      early
        ? "For your first meetings: take time to get to know each other, and be curious."
        : "A question to open things up when the conversation needs one.",
    ),
    early ? null : ask,
    body,
    announcer,
  );
  if (early) reveal();
  return { element };
}
