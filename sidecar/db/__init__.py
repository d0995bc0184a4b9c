"""Storage: the one place that opens the database, its migrations and its repositories."""

from sidecar.db.connection import Database, open_database
from sidecar.db.migrations import Migration

__all__ = ["Database", "Migration", "open_database"]
