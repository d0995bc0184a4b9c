// The CodeMirror 6 Markdown editor bound to the shared Y.Text by y-codemirror.next.
//
// Deliberately small (issue 15: the panel's page weight): Markdown highlighted and lists
// continued by notes/markdown.js rather than a Markdown parser, the platform-standard keys only
// (CodeMirror's standardKeymap, with a plain Enter), no line numbers, folding or search, and
// Yjs' undo manager instead of CodeMirror's history (so undo only undoes your own
// typing, never the other person's).

import { indentLess, indentMore, insertNewlineKeepIndent, standardKeymap } from "@codemirror/commands";
import { Compartment, EditorState, Prec } from "@codemirror/state";
import {
  drawSelection,
  dropCursor,
  EditorView,
  highlightSpecialChars,
  keymap,
  placeholder,
  ViewPlugin,
} from "@codemirror/view";
import { yCollab, ySyncAnnotation, yUndoManagerKeymap } from "y-codemirror.next";
import { markdownHighlighting, markdownKeys, markdownTheme, pasteURLAsLink } from "./markdown.js";

/** Characters one local edit may insert: keeps each update well under the server's 512 KB. */
export const MAX_INSERT = 100000;

/**
 * CodeMirror's standardKeymap (arrows, Home/End, page keys, select all, deleting by character,
 * word and line, on macOS the Emacs-style Ctrl keys) with Enter keeping the line's indentation
 * rather than asking a language for it (build.mjs leaves @codemirror/language out), plus Mod-]
 * and Mod-[ to indent a list item. The default keymap's syntax-aware extras are not needed.
 */
const standardKeys = [
  ...standardKeymap.map((binding) =>
    binding.key === "Enter"
      ? { ...binding, run: insertNewlineKeepIndent, shift: insertNewlineKeepIndent }
      : binding,
  ),
  { key: "Mod-]", run: indentMore },
  { key: "Mod-[", run: indentLess },
];

const theme = EditorView.theme({
  ...markdownTheme,
  "&": {
    fontSize: "0.9375rem",
    backgroundColor: "#ffffff",
    border: "1px solid #b8c2cc",
    borderRadius: "8px",
  },
  "&.cm-focused": { outline: "3px solid #1a56db", outlineOffset: "1px" },
  ".cm-scroller": {
    fontFamily: "inherit",
    lineHeight: "1.55",
    minHeight: "12rem",
    maxHeight: "28rem",
    overflow: "auto",
  },
  // Room above the first line for the other person's name tag.
  ".cm-content": { padding: "1.1rem 0 0.75rem", caretColor: "#1c2530" },
  ".cm-line": { padding: "0 12px" },
  ".cm-placeholder": { color: "#56606b" },
  // The other person's name tag: shown while they type or move (see nameTags), and on hover.
  ".cm-ySelectionInfo": {
    fontFamily: "inherit",
    fontWeight: "600",
    fontSize: "0.7rem",
    top: "-1.35em",
    padding: "1px 4px",
    borderRadius: "4px 4px 4px 0",
  },
  ".cm-ySelectionInfo.cm-ySelectionInfo--active": { opacity: "1" },
  ".cm-ySelectionCaret": { borderLeftWidth: "2px", borderRightWidth: "0" },
});

/** Refuse a local edit (a huge paste) too large to sync; the other person's edits pass. */
function limitInserts(onRefused) {
  return EditorState.transactionFilter.of((tr) => {
    if (!tr.docChanged || tr.annotation(ySyncAnnotation) !== undefined) return tr;
    let inserted = 0;
    tr.changes.iterChanges((_fromA, _toA, _fromB, _toB, text) => {
      inserted += text.length;
    });
    if (inserted <= MAX_INSERT) return tr;
    onRefused?.(inserted);
    return [];
  });
}

const NAME_TAG_MS = 3500;

/**
 * y-codemirror.next shows a remote cursor's name only on hover; always shown, it would hide the
 * words above the cursor. Show it while that person is active (cursor moved in the last few
 * seconds), as shared editors commonly do. The tag carries the name only, so match by name.
 */
function nameTags(awareness) {
  return ViewPlugin.fromClass(
    class {
      constructor(view) {
        this.view = view;
        this.activeUntil = new Map(); // name -> time the tag hides again
        this.timer = 0;
        this.onChange = ({ added, updated }) => {
          const now = Date.now();
          const states = awareness.getStates();
          for (const id of added.concat(updated)) {
            const state = states.get(id);
            if (id !== awareness.clientID && state?.cursor && state.user?.name) {
              this.activeUntil.set(state.user.name, now + NAME_TAG_MS);
            }
          }
          this.schedule();
        };
        awareness.on("change", this.onChange);
      }

      update() {
        // The remote-cursor widgets may have been redrawn: mark them once the DOM is updated.
        this.schedule();
      }

      schedule() {
        queueMicrotask(() => this.mark());
      }

      mark() {
        const now = Date.now();
        let next = Infinity;
        for (const tag of this.view.contentDOM.querySelectorAll(".cm-ySelectionInfo")) {
          const until = this.activeUntil.get(tag.textContent) ?? 0;
          tag.classList.toggle("cm-ySelectionInfo--active", until > now);
          if (until > now) next = Math.min(next, until);
        }
        clearTimeout(this.timer);
        if (next !== Infinity) this.timer = setTimeout(() => this.mark(), next - now + 20);
      }

      destroy() {
        clearTimeout(this.timer);
        awareness.off("change", this.onChange);
      }
    },
  );
}

/**
 * @param {HTMLElement} parent
 * @param {object} options
 * @returns {{view: EditorView, setEditable: (editable: boolean, hint?: string) => void}}
 */
export function createNotesEditor(
  parent,
  { ytext, awareness, undoManager, cspNonce, label, describedBy, onRefused },
) {
  const editable = new Compartment();
  // Until the first sync the editor waits read-only, so nothing is typed above the dated heading.
  const mode = (on, hint) => [
    EditorView.editable.of(on),
    EditorState.readOnly.of(!on),
    placeholder(hint),
  ];
  const state = EditorState.create({
    doc: ytext.toString(),
    extensions: [
      EditorView.cspNonce.of(cspNonce || ""),
      markdownHighlighting,
      pasteURLAsLink,
      Prec.high(keymap.of(markdownKeys)), // Enter continues lists, Backspace removes markup
      // No Tab binding: Tab keeps moving focus through the panel (Mod-] and Mod-[ indent).
      keymap.of([...yUndoManagerKeymap, ...standardKeys]),
      highlightSpecialChars(),
      drawSelection(),
      dropCursor(),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({
        "aria-label": label,
        "aria-multiline": "true",
        ...(describedBy ? { "aria-describedby": describedBy } : {}),
      }),
      theme,
      editable.of(mode(false, "Loading the notes…")),
      yCollab(ytext, awareness, { undoManager }),
      nameTags(awareness),
      limitInserts(onRefused),
    ],
  });
  const view = new EditorView({ state, parent });
  return {
    view,
    /** Allow or stop typing; `hint` shows while the document is empty. */
    setEditable(on, hint = on ? "Type your notes here…" : "") {
      view.dispatch({ effects: editable.reconfigure(mode(on, hint)) });
    },
  };
}
