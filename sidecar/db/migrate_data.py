"""Copy an embedded (SQLite) install into PostgreSQL: `mentor-sidecar migrate-data --to URL`.

Both databases are opened with the same migrations (the core's and the enabled platforms'), so
the target's schema is migrated first and both sides have the same tables. The copy refuses a
target holding any row, goes table by table in foreign-key order (parents first) in one
transaction of the target (all or nothing), reads the source in one transaction too (a
consistent picture, and a service still running on it cannot write meanwhile), resets each
identity sequence past the largest id copied, and checks every table's row count before it
commits. The bookkeeping tables are not copied: the target's own migrations wrote them.
"""

from __future__ import annotations

import graphlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sidecar.db.database import Database

BATCH = 500  # rows read and written at a time
# The service's and the engines' own bookkeeping: each database has its own.
NOT_COPIED = frozenset({"schema_version", "platform_schema_version", "sqlite_sequence"})


class MigrationRefused(Exception):
    """The copy cannot start (a non-empty target, an unknown source); nothing was written."""


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int
    columns: tuple[str, ...]


@dataclass(frozen=True)
class MigrationPlan:
    """What the copy would do: each table with its rows, in the order of the copy."""

    tables: tuple[TableCopy, ...]
    # Tables of the source the target has not (a platform no longer enabled): not copied.
    left_out: tuple[TableCopy, ...]
    # Rows already in the target (any is a refusal).
    target_rows: dict[str, int]
    # Columns of the source the target has not: their values would be lost (a refusal).
    missing_columns: dict[str, tuple[str, ...]]

    @property
    def total_rows(self) -> int:
        return sum(table.rows for table in self.tables)


async def plan_migration(source: Database, target: Database) -> MigrationPlan:
    """The dry run: what would be copied, in which order, and what the target holds now."""
    source_schema = _Catalog(source)
    target_schema = _Catalog(target)
    source_tables = await source_schema.tables() - NOT_COPIED
    target_tables = await target_schema.tables() - NOT_COPIED
    order = _parents_first(target_tables, await target_schema.parents())
    copied = []
    missing: dict[str, tuple[str, ...]] = {}
    for table in order:
        if table not in source_tables:
            continue
        wanted = await source_schema.columns(table)
        there = await target_schema.columns(table)
        columns = tuple(c for c in there if c in wanted)
        if lost := tuple(c for c in wanted if c not in there):
            missing[table] = lost
        copied.append(TableCopy(table, await source_schema.count(table), columns))
    left_out = [
        TableCopy(table, await source_schema.count(table), ())
        for table in sorted(source_tables - target_tables)
    ]
    held = {table: await target_schema.count(table) for table in sorted(target_tables)}
    return MigrationPlan(
        tuple(copied), tuple(left_out), {t: n for t, n in held.items() if n}, missing
    )


def refusal(plan: MigrationPlan) -> str | None:
    """Why the copy would not start, or None."""
    if plan.target_rows:
        held = ", ".join(f"{table} ({n})" for table, n in plan.target_rows.items())
        return f"the target is not empty: it holds rows in {held}"
    if plan.missing_columns:
        lost = "; ".join(f"{t}: {', '.join(c)}" for t, c in plan.missing_columns.items())
        return f"the target's tables lack columns of the source ({lost})"
    return None


async def copy_data(
    source: Database,
    target: Database,
    *,
    progress: Callable[[TableCopy], None] = lambda table: None,
) -> MigrationPlan:
    """Copy every row of `source` into the empty `target`; returns what was copied."""
    if source.dialect != "sqlite":
        raise MigrationRefused("the source must be an embedded (SQLite) install")
    source_schema = _Catalog(source)
    target_schema = _Catalog(target)
    async with source.transaction(), target.transaction():
        plan = await plan_migration(source, target)
        if reason := refusal(plan):
            raise MigrationRefused(reason)
        for table in plan.tables:
            coerce = _coercions(await target_schema.column_types(table.table), table.columns)
            insert = (
                f"INSERT INTO {_quoted(table.table)}"
                f" ({', '.join(_quoted(c) for c in table.columns)})"
                f" VALUES ({', '.join('?' for _ in table.columns)})"
            )
            async for batch in source_schema.rows(table.table):
                await target.execute_many(
                    insert,
                    [[fix(row[c]) for c, fix in zip(table.columns, coerce, strict=True)]
                     for row in batch],
                )  # fmt: skip
            progress(table)
        await target_schema.reset_identities()
        for table in plan.tables:
            copied = await target_schema.count(table.table)
            if copied != table.rows:
                raise RuntimeError(f"{table.table}: {copied} rows copied of {table.rows}")
    return plan


def _parents_first(tables: Iterable[str], parents: dict[str, set[str]]) -> list[str]:
    """Tables ordered so every table comes after those its foreign keys point to."""
    tables = set(tables)
    graph = {t: {p for p in parents.get(t, set()) if p in tables and p != t} for t in tables}
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())  # the same order every run
        order.extend(ready)
        sorter.done(*ready)
    return order


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _coercions(types: dict[str, str], columns: tuple[str, ...]) -> list[Callable[[Any], Any]]:
    """SQLite stores what it was given whatever the column's type; asyncpg wants each value as
    the Python type of the PostgreSQL column."""

    def by_type(kind: str) -> Callable[[Any], Any]:
        if kind in ("integer", "bigint", "smallint"):
            return lambda v: v if v is None or isinstance(v, int) else int(v)
        if kind in ("real", "double precision", "numeric"):
            return lambda v: v if v is None or isinstance(v, float) else float(v)
        if kind == "bytea":
            return lambda v: v if v is None or isinstance(v, bytes) else str(v).encode()
        if kind == "boolean":
            return lambda v: v if v is None else bool(v)
        if kind in ("text", "character varying", "json", "jsonb"):
            return lambda v: v if v is None or isinstance(v, str) else str(v)
        return lambda v: v

    return [by_type(types.get(column, "")) for column in columns]


class _Catalog:
    """What the engine says of its own schema; one version per dialect."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def tables(self) -> set[str]:
        if self.db.dialect == "postgresql":
            rows = await self.db.fetch_all(
                "SELECT table_name AS name FROM information_schema.tables"
                " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        else:  # FTS5's shadow tables are the search index's own storage
            rows = await self.db.fetch_all(
                "SELECT name FROM pragma_table_list WHERE schema = 'main'"
                " AND type IN ('table', 'virtual') AND name <> 'sqlite_schema'"
            )
        return {row["name"] for row in rows}

    async def columns(self, table: str) -> list[str]:
        """The columns a row can be given (generated ones are computed by the engine)."""
        return list(await self.column_types(table))

    async def column_types(self, table: str) -> dict[str, str]:
        if self.db.dialect == "postgresql":
            rows = await self.db.fetch_all(
                "SELECT column_name AS name, data_type AS type FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = ?"
                " AND is_generated = 'NEVER' ORDER BY ordinal_position",
                (table,),
            )
        else:
            rows = await self.db.fetch_all(
                "SELECT name, lower(type) AS type FROM pragma_table_xinfo(?)"
                " WHERE hidden = 0 ORDER BY cid",
                (table,),
            )
        return {row["name"]: row["type"] for row in rows}

    async def parents(self) -> dict[str, set[str]]:
        """Each table's foreign keys' tables."""
        if self.db.dialect == "postgresql":
            rows = await self.db.fetch_all(
                "SELECT child.relname AS child, parent.relname AS parent FROM pg_constraint c"
                " JOIN pg_class child ON child.oid = c.conrelid"
                " JOIN pg_class parent ON parent.oid = c.confrelid"
                " JOIN pg_namespace n ON n.oid = child.relnamespace"
                " WHERE c.contype = 'f' AND n.nspname = current_schema()"
            )
        else:
            rows = await self.db.fetch_all(
                'SELECT t.name AS child, f."table" AS parent FROM pragma_table_list t'
                " JOIN pragma_foreign_key_list(t.name) f WHERE t.schema = 'main'"
            )
        found: dict[str, set[str]] = {}
        for row in rows:
            found.setdefault(row["child"], set()).add(row["parent"])
        return found

    async def count(self, table: str) -> int:
        return int(await self.db.fetch_value(f"SELECT COUNT(*) FROM {_quoted(table)}"))

    async def rows(self, table: str) -> AsyncIterator[list[dict[str, Any]]]:
        """The table's rows in batches, in the order they were written (SQLite's rowid)."""
        if self.db.dialect != "sqlite":
            raise MigrationRefused("rows are read from an embedded (SQLite) install only")
        last = -(2**63)  # below every rowid
        while True:
            batch = await self.db.fetch_all(
                f"SELECT rowid AS sidecar_rowid, * FROM {_quoted(table)}"
                " WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, BATCH),
            )
            if not batch:
                return
            last = batch[-1]["sidecar_rowid"]
            yield batch

    async def reset_identities(self) -> None:
        """The next id of each identity column follows the largest copied (SQLite's
        AUTOINCREMENT counters follow inserted ids by themselves)."""
        if self.db.dialect != "postgresql":
            return
        identities = await self.db.fetch_all(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        )
        for row in identities:
            table, column = _quoted(row["table_name"]), _quoted(row["column_name"])
            await self.db.fetch_value(
                f"SELECT setval(pg_get_serial_sequence(CAST(? AS TEXT), CAST(? AS TEXT)), top)"
                f" FROM (SELECT MAX({column}) AS top FROM {table}) highest WHERE top IS NOT NULL",
                (table, row["column_name"]),
            )
