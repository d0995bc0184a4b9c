// Markdown in the notes editor without a Markdown parser: the lines people write in meeting
// notes (headings, lists and task boxes, quotes, fenced code, **bold**, *emphasis*, ~~strike~~,
// `code`, links) highlighted by a few regular expressions over the lines in view, and the two
// keys that keep lists going (Enter continues a list item or quote, Backspace right after a
// marker removes it). @codemirror/lang-markdown with the Lezer Markdown parser did the same for
// ~15 KB gzip more (issue 15: the panel's page weight); the summary parser on the server reads
// the plain text either way.

import { RangeSetBuilder } from "@codemirror/state";
import { Decoration, EditorView, ViewPlugin } from "@codemirror/view";

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})(?=\s|$)/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}>[ \t]?/;
// indent, bullet or number+delimiter, spacing, optional task box [ ] / [x] and its space
const ITEM = /^([ \t]*)([-*+]|(\d{1,9})([.)]))([ \t]+|$)(\[[ xX]\](?:[ \t]+|$))?/;
// One inline token each: `code`, **strong**/__strong__, *em*/_em_, ~~strike~~, [text](url),
// <autolink>, a bare URL.
const INLINE =
  /(`+)(.+?)\1|(\*\*|__)(\S(?:.*?\S)?)\3|(\*|_)([^\s*_](?:.*?[^\s*_])?)\5(?![\w*])|~~(\S(?:.*?\S)?)~~|\[([^\]\n]+)\]\(([^)\s]*)\)|<(https?:\/\/[^>\s]+)>|(https?:\/\/[^\s<]*[^\s<.,:;"')\]*_~])/g;

const mark = (cls) => Decoration.mark({ class: cls });
const MARK = mark("cm-md-mark"); // the markup itself: #, **, -, >, ```
const CODE = mark("cm-md-code");
const STRONG = mark("cm-md-strong");
const EM = mark("cm-md-em");
const STRIKE = mark("cm-md-strike");
const LINK = mark("cm-md-link");
const TASK = mark("cm-md-task");
const QUOTE_TEXT = mark("cm-md-quote");
const HEADING_TEXT = [mark("cm-md-h1"), ...Array(5).fill(mark("cm-md-h"))];

/** Decorations of one line's inline markup, as [from, to, decoration] (offsets in `text`). */
function inline(text, base, out) {
  INLINE.lastIndex = 0;
  const tokens = [];
  for (let m = INLINE.exec(text); m; m = INLINE.exec(text)) tokens.push([m.index, m]);
  for (const [at, m] of tokens) {
    // snake_case is no emphasis: an underscore run must not follow a letter or digit.
    if ((m[3] === "__" || m[5] === "_") && at > 0 && /\w/.test(text[at - 1])) continue;
    const from = base + at;
    const to = from + m[0].length;
    if (m[1]) {
      out.push([from, to, CODE], [from, from + m[1].length, MARK], [to - m[1].length, to, MARK]);
    } else if (m[3] || m[5]) {
      const width = (m[3] || m[5]).length;
      out.push([from, to, m[3] ? STRONG : EM], [from, from + width, MARK], [to - width, to, MARK]);
      inline(m[4] ?? m[6], from + width, out);
    } else if (m[7] !== undefined) {
      out.push([from, to, STRIKE], [from, from + 2, MARK], [to - 2, to, MARK]);
      inline(m[7], from + 2, out);
    } else if (m[8] !== undefined) {
      const label = from + 1 + m[8].length;
      out.push([from, from + 1, MARK], [from + 1, label, LINK], [label, to, MARK]);
    } else {
      out.push([from, to, LINK]);
    }
  }
}

/** Decorations of one line, given whether it is inside a fenced code block. */
function decorateLine(text, from, inFence, out) {
  const fence = FENCE.exec(text);
  if (inFence || fence) {
    if (text) out.push([from, from + text.length, fence ? MARK : CODE]);
    return;
  }
  if (RULE.test(text)) {
    out.push([from, from + text.length, MARK]);
    return;
  }
  const heading = HEADING.exec(text);
  if (heading) {
    const level = heading[1].length;
    out.push([from, from + text.length, HEADING_TEXT[level - 1]]);
    out.push([from, from + heading[0].length, MARK]);
    inline(text.slice(heading[0].length), from + heading[0].length, out);
    return;
  }
  const quote = QUOTE.exec(text);
  if (quote) {
    out.push([from, from + text.length, QUOTE_TEXT], [from, from + quote[0].length, MARK]);
    inline(text.slice(quote[0].length), from + quote[0].length, out);
    return;
  }
  let start = 0;
  const item = ITEM.exec(text);
  if (item) {
    const markerFrom = item[1].length;
    const markerTo = markerFrom + item[2].length;
    out.push([from + markerFrom, from + markerTo, MARK]);
    start = markerTo + item[5].length;
    if (item[6]) {
      out.push([from + start, from + start + 3, TASK]);
      start += item[6].length;
    }
  }
  inline(text.slice(start), from + start, out);
}

function decorations(view) {
  const { doc } = view.state;
  const builder = new RangeSetBuilder();
  const visible = view.visibleRanges;
  if (!visible.length) return builder.finish();
  const last = doc.lineAt(visible[visible.length - 1].to).number;
  // Fences open and close from the top of the document, so walk every line up to the last
  // visible one (cheap: one short regular expression per line) and decorate the visible ones.
  let inFence = null;
  let range = 0;
  for (let n = 1; n <= last; n += 1) {
    const line = doc.line(n);
    while (range < visible.length && visible[range].to < line.from) range += 1;
    const shown = range < visible.length && visible[range].from <= line.to;
    if (shown) {
      const out = [];
      decorateLine(line.text, line.from, inFence !== null, out);
      out.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
      for (const [from, to, deco] of out) if (to > from) builder.add(from, to, deco);
    }
    const fence = FENCE.exec(line.text);
    if (fence) {
      const kind = fence[1][0];
      if (inFence === null) inFence = fence[1];
      else if (kind === inFence[0] && fence[1].length >= inFence.length && !line.text.slice(fence[0].length).trim()) inFence = null;
    }
  }
  return builder.finish();
}

/** The highlighting: a view plugin that redraws the decorations of the lines in view. */
export const markdownHighlighting = ViewPlugin.fromClass(
  class {
    constructor(view) {
      this.decorations = decorations(view);
    }

    update(update) {
      if (update.docChanged || update.viewportChanged) this.decorations = decorations(update.view);
    }
  },
  { decorations: (plugin) => plugin.decorations },
);

/** Is the line at `pos` inside a fenced code block (or a fence line itself)? */
function inCodeBlock(doc, pos) {
  const target = doc.lineAt(pos).number;
  let open = null;
  for (let n = 1; n <= target; n += 1) {
    const text = doc.line(n).text;
    const fence = FENCE.exec(text);
    if (n === target) return open !== null || Boolean(fence);
    if (!fence) continue;
    if (open === null) open = fence[1];
    else if (fence[1][0] === open[0] && fence[1].length >= open.length) open = null;
  }
  return false;
}

/** The markup that starts a list item or quote line, when the cursor is after it. */
function markupBefore(state, pos) {
  const line = state.doc.lineAt(pos);
  const before = line.text.slice(0, pos - line.from);
  const item = ITEM.exec(line.text);
  if (item && item[5] && before.length >= item[0].length) return { line, item, quote: null };
  const quote = QUOTE.exec(line.text);
  if (quote && before.length >= quote[0].length) return { line, item: null, quote };
  return null;
}

/**
 * Enter in a list item or quote: the next line starts with the same markup ("- ", "2. " after
 * "1. ", "- [ ] " after a task, "> "); Enter on an item or quote line left empty ends the list
 * (the markup goes). Elsewhere a new line keeps the line's indentation.
 */
export function continueMarkup({ state, dispatch }) {
  if (state.readOnly) return false;
  const range = state.selection.main;
  if (state.selection.ranges.length > 1) return false;
  const found = markupBefore(state, range.from);
  if (!found || inCodeBlock(state.doc, range.from)) return false;
  const { line, item, quote } = found;
  const markup = (item ?? quote)[0];
  if (!line.text.slice(markup.length).trim()) {
    // An empty item or quote line: end the list there.
    dispatch(
      state.update({
        changes: { from: line.from, to: line.to, insert: "" },
        selection: { anchor: line.from },
        userEvent: "delete",
        scrollIntoView: true,
      }),
    );
    return true;
  }
  let next = quote ? quote[0] : "";
  if (item) {
    const bullet = item[3] ? `${Number(item[3]) + 1}${item[4]}` : item[2];
    next = `${item[1]}${bullet}${item[5] || " "}${item[6] ? "[ ] " : ""}`;
  }
  dispatch(
    state.update(state.replaceSelection(state.lineBreak + next), {
      scrollIntoView: true,
      userEvent: "input",
    }),
  );
  return true;
}

/** Backspace right after a list marker, task box or quote mark (nothing typed yet): remove it. */
export function deleteMarkup({ state, dispatch }) {
  if (state.readOnly) return false;
  const range = state.selection.main;
  if (state.selection.ranges.length > 1 || !range.empty) return false;
  const found = markupBefore(state, range.from);
  if (!found) return false;
  const { line, item, quote } = found;
  const markup = (item ?? quote)[0];
  if (range.from !== line.from + markup.length || inCodeBlock(state.doc, range.from)) return false;
  const keep = item ? item[1].length : 0; // the item's indentation stays
  dispatch(
    state.update({
      changes: { from: line.from + keep, to: range.from },
      userEvent: "delete.backward",
      scrollIntoView: true,
    }),
  );
  return true;
}

export const markdownKeys = [
  { key: "Enter", run: continueMarkup },
  { key: "Backspace", run: deleteMarkup },
];

/** Pasting a URL over selected words makes them a link: [words](url). */
export const pasteURLAsLink = EditorView.domEventHandlers({
  paste(event, view) {
    const { main } = view.state.selection;
    if (main.empty || view.state.readOnly) return false;
    const link = event.clipboardData?.getData("text/plain")?.trim() ?? "";
    if (!/^(https?:\/\/|mailto:)\S+$/.test(link)) return false;
    const words = view.state.sliceDoc(main.from, main.to);
    view.dispatch({
      changes: { from: main.from, to: main.to, insert: `[${words}](${link})` },
      userEvent: "input.paste",
      scrollIntoView: true,
    });
    event.preventDefault();
    return true;
  },
});

/** The look of the marks above (the editor's theme carries them, so CSP's nonce covers them). */
export const markdownTheme = {
  ".cm-md-h1": { fontWeight: "700", fontSize: "1.2em" },
  ".cm-md-h, .cm-md-strong": { fontWeight: "700" },
  ".cm-md-em": { fontStyle: "italic" },
  ".cm-md-strike": { textDecoration: "line-through" },
  ".cm-md-link": { color: "#0b6b63", textDecoration: "underline" },
  ".cm-md-code": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" },
  ".cm-md-quote": { color: "#56606b", fontStyle: "italic" },
  ".cm-md-mark": { color: "#6b7580" },
  ".cm-md-task": { color: "#5a45b8", fontWeight: "600" },
};
