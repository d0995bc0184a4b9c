"""Storage: the one place that opens the database, its migrations and its repositories."""

from sidecar.db.connection import Database, open_database

__all__ = ["Database", "open_database"]
