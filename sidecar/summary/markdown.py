"""The pair's notes (Markdown they typed) inside a summary: headings moved under the summary's
own, and HTML for email with inline styles.

Parsed with markdown-it-py (CommonMark): code blocks, quotes and setext headings are read as a
Markdown reader would, not guessed from lines. Raw HTML in the notes is shown as text, images
become links (no remote images in an email), and links keep to the schemes markdown-it allows.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from sidecar.mail import email_style as style

_ATX = re.compile(
    r"^(?P<prefix>(?:[ \t]*>)*[ \t]*(?:(?:[-*+]|\d+[.)])[ \t]+)?[ \t]*)(?P<marks>#{1,6})"
)
_TASK = re.compile(r"^\[(?P<mark>[ xX])\][ \t]+")
BOX_OPEN = "☐"
BOX_DONE = "☑"


def _parser() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        .enable(["table", "strikethrough"])
        .disable("image")
    )


_MD = _parser()


def shift_headings(markdown: str, by: int) -> str:
    """Every heading `by` levels deeper (at most level 6); setext headings become ATX ones."""
    if by <= 0 or not markdown:
        return markdown
    lines = markdown.splitlines()
    tokens = _MD.parse(markdown)
    # From the last heading to the first, so replacing two setext lines by one keeps the
    # line numbers of the headings before it.
    headings = [t for t in tokens if t.type == "heading_open" and t.map]
    for heading in reversed(headings):
        assert heading.map is not None
        first, end = heading.map
        level = min(6, int(heading.tag[1]) + by)
        if heading.markup in ("=", "-"):  # setext: text lines, then the underline
            prefix = re.match(r"^[\s>]*", lines[first])
            lead = prefix.group(0) if prefix else ""
            text = " ".join(line[len(lead) :].strip() for line in lines[first : end - 1])
            lines[first:end] = [f"{lead}{'#' * level} {text}"]
            continue
        found = _ATX.match(lines[first])
        if found:
            lines[first] = found["prefix"] + "#" * level + lines[first][found.end() :]
    shifted = "\n".join(lines)
    return shifted + "\n" if markdown.endswith("\n") else shifted


def outline(markdown: str) -> list[tuple[int, str]]:
    """(level, text) of every heading, as a Markdown reader sees them."""
    tokens = _MD.parse(markdown)
    return [
        (int(tokens[i].tag[1]), tokens[i + 1].content)
        for i in range(len(tokens) - 1)
        if tokens[i].type == "heading_open"
    ]


def notes_html(markdown: str, *, heading_level: int = 3) -> str:
    """The notes as email HTML: their top headings at `heading_level`, task boxes as ☐/☑,
    every element styled inline (email clients drop <style> blocks and classes)."""
    tokens = _MD.parse(markdown)
    _style(tokens, heading_level - 1)
    return str(_MD.renderer.render(tokens, _MD.options, {}))


def _style(tokens: list[Token], shift: int) -> None:
    lists: list[Token] = []  # open bullet lists, to drop their bullets when all items are tasks
    tasks_in: dict[int, list[bool]] = {}
    for index, token in enumerate(tokens):
        if token.type == "heading_open" or token.type == "heading_close":
            token.tag = f"h{min(6, int(token.tag[1]) + shift)}"
            if token.type == "heading_open":
                token.attrSet("style", style.heading(int(token.tag[1])))
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            lists.append(token)
            tasks_in[id(token)] = []
            token.attrSet("style", style.LIST)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            opened = lists.pop()
            flags = tasks_in.pop(id(opened))
            if opened.type == "bullet_list_open" and flags and all(flags):
                opened.attrSet("style", style.TASK_LIST)
        elif token.type == "list_item_open":
            is_task = _mark_task(tokens, index)
            tasks_in[id(lists[-1])].append(is_task)
            token.attrSet("style", style.LIST_ITEM)
        elif token.type == "paragraph_open":
            token.attrSet("style", style.PARAGRAPH)
        elif token.type == "blockquote_open":
            token.attrSet("style", style.QUOTE)
        elif token.type in ("fence", "code_block"):
            token.attrSet("style", style.CODE_BLOCK)
        elif token.type == "table_open":
            token.attrSet("style", style.TABLE)
            token.attrSet("role", "presentation")
        elif token.type in ("th_open", "td_open"):
            token.attrSet("style", style.CELL)
        elif token.type == "hr":
            token.attrSet("style", style.RULE)
        elif token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "link_open":
                    child.attrSet("style", style.LINK)
                elif child.type == "code_inline":
                    child.attrSet("style", style.CODE)


def _mark_task(tokens: list[Token], item_index: int) -> bool:
    """Replace a list item's leading `[ ]`/`[x]` by ☐/☑; True when it was a task."""
    for token in tokens[item_index + 1 : item_index + 3]:
        if token.type == "inline" and token.children:
            first = token.children[0]
            found = _TASK.match(first.content) if first.type == "text" else None
            if found is None:
                return False
            box = BOX_OPEN if found["mark"] == " " else BOX_DONE
            first.content = f"{box} " + first.content[found.end() :]
            return True
    return False
