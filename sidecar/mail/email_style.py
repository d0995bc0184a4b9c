"""Inline styles for the emails' HTML (the summary's and the agenda's), and their page.

Email clients keep inline styles only (Gmail drops most <style>, Outlook uses Word's renderer),
and in dark mode they recolour the message themselves. So no style sets a background: text and
page take the client's own colours, light or dark, and only accents are coloured, with hues that
stay readable on white and on near-black: links and quiet text are about 4.3:1 on both white
and #121212 (no one colour reaches 4.5:1 on both; links are underlined too).
"""

from __future__ import annotations

import html

FONT = "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
MONO = "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace;"
ACCENT = "#3a78d8"  # links and the section rule
MUTED = "#737a85"  # secondary words: owners, dates, the footer
RULE_COLOR = "#8a93a0"

BODY = f"margin:0;padding:0;{FONT}font-size:16px;line-height:1.5;"
OUTER_CELL = "padding:24px 16px;"
INNER_TABLE = "width:100%;max-width:640px;border-collapse:collapse;"
TITLE = f"margin:0 0 4px 0;{FONT}font-size:24px;line-height:1.25;font-weight:700;"
SUBTITLE = f"margin:0 0 20px 0;font-size:15px;color:{MUTED};"
FACT_LABEL = (
    f"padding:4px 16px 4px 0;vertical-align:top;white-space:nowrap;font-weight:600;{FONT}"
    "font-size:15px;"
)
FACT_VALUE = f"padding:4px 0;vertical-align:top;{FONT}font-size:15px;"
SECTION = (
    f"margin:28px 0 8px 0;padding:0 0 4px 0;border-bottom:2px solid {ACCENT};{FONT}"
    "font-size:18px;line-height:1.3;font-weight:700;"
)
PARAGRAPH = "margin:0 0 12px 0;"
EMPTY = f"margin:0 0 12px 0;color:{MUTED};font-style:italic;"
LIST = "margin:0 0 12px 0;padding:0 0 0 24px;"
TASK_LIST = "margin:0 0 12px 0;padding:0;list-style:none;"
LIST_ITEM = "margin:0 0 6px 0;"
META = f"color:{MUTED};font-size:14px;"
LINK = f"color:{ACCENT};text-decoration:underline;"
BUTTON = (
    f"display:inline-block;padding:10px 18px;border:2px solid {ACCENT};border-radius:6px;"
    f"color:{ACCENT};font-weight:600;text-decoration:none;{FONT}font-size:15px;"
)
QUOTE = f"margin:0 0 12px 0;padding:0 0 0 12px;border-left:3px solid {RULE_COLOR};"
CODE = f"{MONO}font-size:14px;"
CODE_BLOCK = (
    f"display:block;margin:0 0 12px 0;padding:8px 10px;border:1px solid {RULE_COLOR};"
    f"border-radius:4px;white-space:pre-wrap;{MONO}font-size:14px;"
)
TABLE = "margin:0 0 12px 0;border-collapse:collapse;"
CELL = f"padding:4px 8px;border:1px solid {RULE_COLOR};text-align:left;vertical-align:top;"
RULE = f"border:0;border-top:1px solid {RULE_COLOR};margin:16px 0;"
FOOTER = (
    f"margin:32px 0 0 0;padding:12px 0 0 0;border-top:1px solid {RULE_COLOR};font-size:13px;"
    # The footer's link is a long sign-in address: let it wrap rather than widen a phone's page.
    f"color:{MUTED};overflow-wrap:anywhere;word-break:break-word;"
)
NOTES_BOX = "margin:0;padding:0;"


def heading(level: int) -> str:
    """Headings inside the notes: below the section headings (h2), smaller as they go deeper."""
    size = {1: 22, 2: 18, 3: 16, 4: 15, 5: 15, 6: 14}.get(level, 14)
    return f"margin:18px 0 6px 0;{FONT}font-size:{size}px;line-height:1.3;font-weight:700;"


def document(title: str, content: str) -> str:
    """A whole email page around `content`: one centred column at most 640 px wide, in tables
    (Outlook lays out nothing else), in the client's own light or dark colours."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        '<meta name="supported-color-schemes" content="light dark">'
        f"<title>{html.escape(title)}</title></head>\n"
        f'<body style="{BODY}">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"'
        ' style="border-collapse:collapse;"><tr>'
        f'<td align="center" style="{OUTER_CELL}">\n'
        '<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0"'
        f' style="{INNER_TABLE}"><tr><td align="left" style="{FONT}'
        'font-size:16px;line-height:1.5;">\n'
        f"{content}\n"
        "</td></tr></table>\n</td></tr></table>\n</body></html>\n"
    )
