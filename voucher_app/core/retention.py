"""Purging rows past their retention, a batch at a time, so that a big table is never locked for long.

Each batch is one short write transaction deleting at most ``BATCH`` rows: on SQLite it holds the
single write lock for milliseconds, so the tills queue behind it no longer than behind a busy
second of sales; on PostgreSQL it locks only the rows it deletes. The rows are chosen by primary key
and the condition is repeated on the DELETE itself, because PostgreSQL judges a row that changed
while the DELETE waited for it (a failed sign-in counted again, say) by its WHERE clause, not by the
subquery that chose it. A purge is a sweep: run late, twice or after downtime, it deletes what one
run on time would have, and a batch a race left short is finished by the next run.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Table, delete, select, tuple_

from voucher_app.core.database import write_transaction
from voucher_app.core.extensions import db

BATCH = 1_000


def purge(table: Table, condition: ColumnElement[bool], batch: int = BATCH) -> int:
    """Delete every row of ``table`` meeting ``condition`` in transactions of at most ``batch`` rows; how many."""
    key = tuple(table.primary_key.columns)
    chosen = select(*key).where(condition).limit(batch)
    matches = key[0].in_(chosen) if len(key) == 1 else tuple_(*key).in_(chosen)
    purged = 0
    while True:
        with write_transaction():
            deleted = db.session.execute(delete(table).where(matches, condition)).rowcount
        purged += deleted
        if deleted < batch:
            return purged
