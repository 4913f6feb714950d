"""Lifting the append-only triggers (migration 0008) for a test's own housekeeping, and only inside
the transaction that needs it.

Emptying the tables between tests, or removing a ledger entry to show that the ledger check notices,
is exactly what the triggers refuse. Both databases change triggers transactionally, so the block
below drops (SQLite) or disables (PostgreSQL) them and puts back what the database itself held, in
the caller's transaction: no other connection — the live server's workers included — ever sees the
tables unprotected, and if the block fails the rollback restores them as well. The triggers come
back from the database's own record (SQLite's ``sqlite_master``) rather than from a second copy
of their text here, so what the suite restores is exactly what the migration made.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Connection

_NAMED_APPEND_ONLY = r"%\_append\_only%"


@contextlib.contextmanager
def rewritable(connection: Connection) -> Iterator[None]:
    """Within ``connection``'s transaction, let UPDATE, DELETE (and TRUNCATE) reach the append-only tables."""
    if connection.dialect.name == "postgresql":
        triggers = connection.execute(text(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
            "WHERE NOT tgisinternal AND tgname LIKE :named ESCAPE '\\'"), {"named": _NAMED_APPEND_ONLY}).all()
        for table, name in triggers:
            connection.execute(text(f'ALTER TABLE {table} DISABLE TRIGGER "{name}"'))
        yield
        for table, name in triggers:
            connection.execute(text(f'ALTER TABLE {table} ENABLE TRIGGER "{name}"'))
    else:
        triggers = connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE :named ESCAPE '\\'"),
            {"named": _NAMED_APPEND_ONLY}).all()
        for name, _sql in triggers:
            connection.execute(text(f'DROP TRIGGER "{name}"'))
        yield
        for _name, sql in triggers:
            connection.exec_driver_sql(sql)
