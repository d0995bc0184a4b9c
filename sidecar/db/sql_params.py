"""SQLite's placeholders (`?` and `:name`) rewritten as PostgreSQL's (`$1`, `$2`, ...).

The repositories write their SQL once, with SQLite's placeholders; asyncpg only knows `$n`. The
rewrite skips quoted strings ('...', E'...', $tag$...$tag$), quoted identifiers ("..."),
comments (-- and /* */) and casts (`x::text`). A named placeholder used twice becomes one `$n`.
Each SQL text is rewritten once and cached. PostgreSQL's JSON operators `?`, `?|` and `?&`
cannot be written (they would be read as placeholders); use the jsonb_exists* functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Params = Sequence[Any] | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Rewritten:
    sql: str
    # The names of `:name` placeholders in `$n` order; None when the text uses `?` (or none).
    names: tuple[str, ...] | None
    positional: int

    def arguments(self, params: Params) -> list[Any]:
        """The parameters in `$n` order."""
        if isinstance(params, Mapping):
            if self.positional:
                raise TypeError("this SQL uses ? placeholders: pass a sequence, not a mapping")
            try:
                return [params[name] for name in self.names or ()]
            except KeyError as missing:
                raise KeyError(f"no value for the placeholder :{missing.args[0]}") from None
        if self.names:
            raise TypeError(
                f"this SQL uses named placeholders ({', '.join(self.names)}): pass a dict"
            )
        values = list(params)
        if len(values) != self.positional:
            raise TypeError(f"this SQL takes {self.positional} parameter(s), got {len(values)}")
        return values

    def each(self, rows: Iterable[Params]) -> list[list[Any]]:
        return [self.arguments(row) for row in rows]


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char == "_"


@lru_cache(maxsize=4096)
def to_postgres(sql: str) -> Rewritten:
    out: list[str] = []
    names: list[str] = []
    positional = 0
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char == "'":
            # E'...' strings take backslash escapes; standard ones only double the quote.
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _is_name_char(sql[i - 2]))
            end = i + 1
            while end < n:
                if escapes and sql[end] == "\\":
                    end += 2
                    continue
                if sql[end] == "'":
                    if end + 1 < n and sql[end + 1] == "'":
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1])
            i = end + 1
        elif char == '"':
            end = sql.find('"', i + 1)
            end = n if end < 0 else end
            out.append(sql[i : end + 1])
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end])
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end])
            i = end
        elif char == "$" and (i == 0 or not _is_name_char(sql[i - 1])):
            # A dollar-quoted string: $$...$$ or $tag$...$tag$ (a `$1` written by hand is kept).
            close = sql.find("$", i + 1)
            tag = sql[i : close + 1] if close > 0 else ""
            if tag and all(_is_name_char(c) and not c.isdigit() for c in tag[1:-1]):
                end = sql.find(tag, close + 1)
                end = n if end < 0 else end + len(tag)
                out.append(sql[i:end])
                i = end
            else:
                out.append(char)
                i += 1
        elif char == "?":
            positional += 1
            out.append(f"${positional}")
            i += 1
        elif char == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
        elif char == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            end = i + 1
            while end < n and _is_name_char(sql[end]):
                end += 1
            name = sql[i + 1 : end]
            if name not in names:
                names.append(name)
            out.append(f"${names.index(name) + 1}")
            i = end
        else:
            out.append(char)
            i += 1
    if positional and names:
        raise ValueError("SQL mixes ? and :name placeholders")
    return Rewritten("".join(out), tuple(names) if names else None, positional)
