"""Every query lives in the storage layer (issue 16): no SQL text, no database driver and no
database call outside `sidecar/db/` and each platform's own storage modules.

A platform's tables are its own, and the core imports no platform, so a platform's SQL cannot sit
in `sidecar/db/`: it sits in the platform's `store.py` and `migrations.py`, which use the core's
public `Database` interface. Everything else asks a repository for typed records.

The check reads the source with `ast`: string constants that look like SQL (docstrings aside),
imports of sqlite3/aiosqlite/asyncpg, and calls of the database's own methods.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sidecar", "zoom_app", "jitsi_app")
STORAGE = (
    "sidecar/db/",
    "zoom_app/store.py",
    "zoom_app/migrations.py",
    "jitsi_app/store.py",
    "jitsi_app/migrations.py",
)
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bCREATE\s+(?:TABLE|INDEX|VIRTUAL)\b|\bPRAGMA\s+\w+|\bSELECT\s+1\b"
)
DRIVERS = {"sqlite3", "aiosqlite", "asyncpg"}
# Redis is the live relay's and the shared limits' store, not the database: a pipeline's
# execute() there is a Redis call. SQL text and database drivers stay forbidden in them too.
REDIS_MODULES = ("sidecar/relay/", "sidecar/limits_redis.py")
DATABASE_CALLS = {
    "execute",
    "execute_many",
    "executemany",
    "executescript",
    "fetch_one",
    "fetch_all",
    "fetch_value",
    "fetchone",
    "fetchall",
    "fetchrow",
    "fetchval",
}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    redis_calls = str(shown).startswith(REDIS_MODULES)
    found = []
    for node in ast.walk(tree):
        where = f"{shown}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if SQL.search(node.value):
                found.append(f"{where} SQL text {node.value[:60]!r}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if name.split(".")[0] in DRIVERS:
                    found.append(f"{where} imports {name}")
        elif (
            not redis_calls
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in DATABASE_CALLS
        ):
            found.append(f"{where} calls .{node.func.attr}()")
    return found


def outside_storage() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith(STORAGE):
                files.append(path)
    return files


def test_no_sql_or_database_call_outside_the_storage_layer() -> None:
    found = [line for path in outside_storage() for line in violations(path)]
    assert not found, "SQL or database calls outside the storage layer:\n" + "\n".join(found)


def test_the_check_sees_what_it_should(tmp_path: Path) -> None:
    """The detector itself: it flags each kind, and leaves docstrings and prose alone."""
    (tmp_path / "pkg").mkdir()
    sample = tmp_path / "pkg" / "sample.py"
    sample.write_text(
        '"""SELECT a FROM b in a docstring is prose."""\n'
        "import sqlite3\n"
        "Q = 'SELECT id FROM meetings WHERE id = ?'\n"
        "W = 'Please update your profile'\n"
        "async def f(db):\n"
        "    await db.fetch_one(Q)\n",
        encoding="utf-8",
    )
    kinds = [line.split(" ", 1)[1].split(" ")[0] for line in violations(sample)]
    assert sorted(kinds) == ["SQL", "calls", "imports"]


def test_repositories_hold_no_public_database_handle() -> None:
    """Code acting as the service reads through repositories, not through a handle they lend."""
    from sidecar.db.repositories import Repositories

    assert "db" not in Repositories.__dataclass_fields__
