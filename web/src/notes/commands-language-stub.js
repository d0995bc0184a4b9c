// What @codemirror/commands imports from @codemirror/language and @lezer/common, for this
// build only: web/build.mjs hands this module to @codemirror/commands in their place. The notes
// editor binds only commands that need no syntax tree (moving the cursor, deleting, indenting by
// a unit), and the two packages cost ~17 KB gzip on the panel (issue 15). A command that does
// need a syntax tree throws here, naming itself, instead of quietly doing nothing.

import { Facet } from "@codemirror/state";

/** As @codemirror/language's: the text one indentation step inserts (two spaces). */
export const indentUnit = Facet.define({ combine: (values) => (values.length ? values[0] : "  ") });

/** Columns of one indentation step. */
export function getIndentUnit(state) {
  const unit = state.facet(indentUnit);
  return unit.charCodeAt(0) === 9 ? state.tabSize * unit.length : unit.length;
}

/** Whitespace `columns` wide, in tabs when the unit is a tab. */
export function indentString(state, columns) {
  let result = "";
  let left = columns;
  if (state.facet(indentUnit)[0] === "\t") {
    for (; left >= state.tabSize; left -= state.tabSize) result += "\t";
  }
  for (; left > 0; left -= 1) result += " ";
  return result;
}

const needsSyntaxTree = (name) => () => {
  throw new Error(`${name} needs @codemirror/language, which the notes editor leaves out (web/build.mjs)`);
};

export const getIndentation = needsSyntaxTree("getIndentation");
export const matchBrackets = needsSyntaxTree("matchBrackets");
export const syntaxTree = needsSyntaxTree("syntaxTree");
export class IndentContext {
  constructor() {
    needsSyntaxTree("IndentContext")();
  }
}
/** @lezer/common's NodeProp: read only by the syntax-aware commands. */
export const NodeProp = {};
