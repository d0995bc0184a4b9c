"""`mentor-sidecar migrate-data --to postgresql://...`: move an embedded install to PostgreSQL.

Without `--yes` it is a dry run: it migrates the target's schema (creating the tables, which
holds no data), prints each table's rows in the order of the copy and what would stop it, and
copies nothing. With `--yes` it copies (sidecar/db/migrate_data.py), all or nothing. The
service should be stopped meanwhile: the copy holds the SQLite file's write lock while it reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sidecar.db import Database, open_database
from sidecar.db.migrate_data import (
    MigrationPlan,
    MigrationRefused,
    TableCopy,
    copy_data,
    plan_migration,
    refusal,
)
from sidecar.platforms.loader import activate
from sidecar.settings import Settings, SettingsError, database_dialect

Print = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    copied: bool
    plan: MigrationPlan
    refused: str | None = None


def describe_plan(plan: MigrationPlan, source: Database, target: Database) -> list[str]:
    width = max([len(t.table) for t in (*plan.tables, *plan.left_out)] + [10])
    lines = [f"From: {source.describe()}", f"To:   {target.describe()}", ""]
    lines += [f"  {t.table:<{width}}  {t.rows:>9}" for t in plan.tables]
    lines.append(f"  {'total':<{width}}  {plan.total_rows:>9} rows in {len(plan.tables)} tables")
    if plan.left_out:
        left = ", ".join(f"{t.table} ({t.rows})" for t in plan.left_out)
        lines += [
            "",
            f"Not copied, as the target has no such table (a platform not enabled): {left}",
        ]
    return lines


async def migrate(source: Database, target: Database, *, go: bool, out: Print = print) -> Outcome:
    """Print the plan; with `go`, copy. Both databases are open and migrated."""
    plan = await plan_migration(source, target)
    for line in describe_plan(plan, source, target):
        out(line)
    if reason := refusal(plan):
        out(f"\nRefused: {reason}. Nothing was copied.")
        return Outcome(False, plan, reason)
    if not go:
        out("\nDry run: nothing was copied. Run again with --yes to copy.")
        return Outcome(False, plan)

    def copied(table: TableCopy) -> None:
        out(f"  copied {table.table} ({table.rows})")

    out("")
    try:
        done = await copy_data(source, target, progress=copied)
    except MigrationRefused as exc:  # the target changed since the plan
        out(f"\nRefused: {exc}. Nothing was copied.")
        return Outcome(False, plan, str(exc))
    out(f"\nCopied {done.total_rows} rows in {len(done.tables)} tables, in one transaction.")
    return Outcome(True, done)


def main(to: str, data_dir: Path | None, *, go: bool, out: Print = print) -> int:
    """The `migrate-data` command: 0 when copied (or a dry run found nothing in the way), 1
    when refused. The source is the SQLite file of this install's settings (data folder)."""
    try:
        if database_dialect(to) != "postgresql":
            raise SettingsError("--to: a postgresql://USER:PASSWORD@HOST:PORT/NAME URL")
        settings = Settings.from_env(data_dir=data_dir)
        platforms = activate(settings)  # the enabled platforms' tables are copied too
    except (SettingsError, ValueError) as exc:
        out(f"Refused: {exc}")
        return 1
    source_path = settings.database_path
    if not source_path.is_file():
        out(f"Refused: no SQLite database at {source_path} (set --data-dir).")
        return 1
    tables = {active.name: active.platform.migrations for active in platforms}

    async def run() -> Outcome:
        # Opening migrates both: the source as a start of this version would, the target
        # from nothing (so the copy finds the same tables on both sides).
        source = await open_database(source_path, settings.sqlite_busy_timeout_ms, tables)
        try:
            target = await open_database(to, platform_migrations=tables)
            try:
                return await migrate(source, target, go=go, out=out)
            finally:
                await target.close()
        finally:
            await source.close()

    outcome = asyncio.run(run())
    return 1 if outcome.refused else 0
