// A small, safe Markdown view for summaries and search snippets: headings, lists (task boxes
// shown as ☐/☑), paragraphs, **bold** and `code`. Everything becomes DOM nodes with text
// nodes inside; nothing goes through innerHTML, so notes cannot inject markup.

import { h } from "./dom.js";

/** Inline text with **bold** and `code` as <strong>/<code> nodes (an array of nodes/strings). */
export function inline(text) {
  const out = [];
  const pattern = /\*\*(.+?)\*\*|`([^`]+)`/g;
  let last = 0;
  let match;
  while ((match = pattern.exec(text)) !== null) {
    if (match.index > last) out.push(text.slice(last, match.index));
    if (match[1] != null) out.push(h("strong", {}, match[1]));
    else out.push(h("code", {}, match[2]));
    last = pattern.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/**
 * Render `markdown` into a <div class="md">. Headings are shifted down by `headingOffset`
 * (the summary's "#" becomes an <h3> inside a card whose own heading is an <h2>).
 */
export function renderMarkdown(markdown, { headingOffset = 2 } = {}) {
  const root = h("div", { class: "md" });
  let list = null;
  let para = null;
  const close = () => {
    list = null;
    para = null;
  };
  for (const raw of String(markdown ?? "").split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (!line.trim()) {
      close();
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      close();
      const level = Math.min(6, heading[1].length + headingOffset);
      root.append(h(`h${level}`, { class: "md-heading" }, inline(heading[2])));
      continue;
    }
    const item = /^\s*[-*+]\s+(?:\[([ xX])\]\s+)?(.*)$/.exec(line);
    if (item) {
      para = null;
      if (!list) {
        list = h("ul", { class: "md-list" });
        root.append(list);
      }
      const box = item[1] == null ? null : item[1] === " " ? "☐ " : "☑ ";
      list.append(h("li", {}, box, inline(item[2])));
      continue;
    }
    list = null;
    if (!para) {
      para = h("p", {});
      root.append(para);
    } else {
      para.append(h("br", {}));
    }
    para.append(...inline(line.trim()).map((n) => (typeof n === "string" ? document.createTextNode(n) : n)));
  }
  return root;
}
