"""A person's rows for the export, and the erasure of a mentorship, on either backend.

The rows are found through privacy declarations (sidecar/db/privacy_tables.py for the core's
tables, each platform's own for its tables); the caller passes the declarations in force. What
each backend keeps of deleted rows differs, so `scrub` has one version per dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sidecar.db.privacy_tables import core_privacy
from sidecar.db.repositories.base import Repository
from sidecar.platforms.hookspecs import PrivacyDeclaration

Row = dict[str, Any]


@dataclass(frozen=True)
class TableRows:
    """The rows of one declared table that belong to a person or a mentorship."""

    table: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class MeetingRef:
    id: str
    title: str
    scheduled_start: str


def _plain(value: Any) -> Any:
    # asyncpg may hand BYTEA back as a memoryview in some codecs; SQLite gives bytes.
    return bytes(value) if isinstance(value, memoryview) else value


def _quoted(name: str) -> str:
    """An identifier both dialects read the same way (names come from the catalog)."""
    return '"' + name.replace('"', '""') + '"'


class PrivacyRepository(Repository):
    def core_declaration(self) -> PrivacyDeclaration:
        """The core's tables on this backend (each engine has its own bookkeeping tables)."""
        return core_privacy(self.db.dialect)

    # --- the export ----------------------------------------------------------------------------

    async def person_rows(
        self, person_id: str, declarations: Sequence[PrivacyDeclaration]
    ) -> list[TableRows]:
        return [
            await self._rows(table, sql, {"person": person_id})
            for declared in declarations
            for table, sql in declared.person_tables.items()
        ]

    async def mentorship_rows(
        self, mentorship_id: str, declarations: Sequence[PrivacyDeclaration]
    ) -> list[TableRows]:
        return [
            await self._rows(table, sql, {"mentorship": mentorship_id})
            for declared in declarations
            for table, sql in declared.mentorship_tables.items()
        ]

    async def _rows(self, table: str, sql: str, params: dict[str, str]) -> TableRows:
        rows = await self.db.fetch_all(sql, params)
        return TableRows(table, tuple({k: _plain(v) for k, v in row.items()} for row in rows))

    async def photo(self, person_id: str) -> bytes | None:
        data = await self.db.fetch_value(
            "SELECT data FROM photos WHERE person_id = ?", (person_id,)
        )
        return None if data is None else bytes(data)

    async def mentorship_ids_of(self, person_id: str) -> list[str]:
        """The person's mentorships, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT id FROM mentorships WHERE mentor_id = ? OR mentee_id = ?"
            " ORDER BY created_at, id",
            (person_id, person_id),
        )
        return [row["id"] for row in rows]

    async def meetings_of(self, mentorship_id: str) -> list[MeetingRef]:
        rows = await self.db.fetch_all(
            "SELECT id, title, scheduled_start FROM meetings WHERE mentorship_id = ?"
            " ORDER BY scheduled_start, id",
            (mentorship_id,),
        )
        return [MeetingRef(row["id"], row["title"], row["scheduled_start"]) for row in rows]

    # --- the erasure ---------------------------------------------------------------------------

    async def delete_mentorship(
        self, mentorship_id: str, declarations: Sequence[PrivacyDeclaration]
    ) -> None:
        """Delete the mentorship and every row of it, in one transaction."""
        async with self.db.transaction():
            # The search index has no foreign key on SQLite (FTS5); on PostgreSQL it cascades
            # from meetings, and this finds nothing left.
            await self.db.execute(
                "DELETE FROM meeting_search WHERE mentorship_id = ?", (mentorship_id,)
            )
            for declared in declarations:  # rows no foreign key ties to the mentorship
                for statement in declared.erase_with_mentorship:
                    await self.db.execute(statement, {"mentorship": mentorship_id})
            # Everything else goes by ON DELETE CASCADE.
            await self.db.execute("DELETE FROM mentorships WHERE id = ?", (mentorship_id,))

    async def scrub(self) -> None:
        """Leave no copy of deleted rows where the database would otherwise keep one.

        Run after an erasure, outside any transaction.
        """
        if self.db.dialect == "postgresql":
            # Deleted rows stay as dead tuples in the tables' and indexes' pages until VACUUM;
            # VACUUM cannot run inside a transaction, and takes no lock that stops writers.
            tables = ", ".join(_quoted(name) for name in await self.table_names())
            await self.db.execute(f"VACUUM {tables}")
            # A GIN index keeps the words of deleted rows among its keys; rebuilding the search
            # index drops them, as FTS5's 'optimize' does below. Not CONCURRENTLY: that waits
            # for other transactions, and two erasures' scrubs (a VACUUM waiting for this
            # rebuild) would deadlock; the rebuild holds off searches and ended meetings' index
            # writes for as long as it takes (one pass over the ended meetings' words).
            await self.db.execute("REINDEX TABLE meeting_search")
        else:
            # `secure_delete` (on for every connection) zeroes freed pages; the FTS5 index's
            # old segments still hold deleted words until merged; the log holds the old pages
            # until checkpointed and truncated.
            await self.db.execute("INSERT INTO meeting_search(meeting_search) VALUES ('optimize')")
            await self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- the schema, for the check that every table is declared ------------------------------

    async def table_names(self) -> set[str]:
        """Every table of the service's schema, as the engine lists them."""
        if self.db.dialect == "postgresql":
            rows = await self.db.fetch_all(
                "SELECT table_name AS name FROM information_schema.tables"
                " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        else:
            # FTS5's shadow tables are the index's own storage, listed as 'shadow'.
            rows = await self.db.fetch_all(
                "SELECT name FROM pragma_table_list WHERE schema = 'main'"
                " AND type IN ('table', 'virtual') AND name <> 'sqlite_schema'"
            )
        return {row["name"] for row in rows}
