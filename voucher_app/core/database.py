"""Database plumbing shared by every domain: column types, opaque ids, and the write transaction.

SQLite and PostgreSQL both serve this app, and they lock differently:

* SQLite has one writer at a time and ignores ``SELECT … FOR UPDATE``. A transaction that reads and
  later writes would have to *upgrade* its lock, and in WAL mode that upgrade fails at once
  (``SQLITE_BUSY``) when another writer committed in between; the busy timeout cannot help. So every
  service that writes begins its transaction with ``BEGIN IMMEDIATE``: it takes the write lock first,
  waits for it under the busy timeout, and then reads a snapshot nobody else can change. Read-only
  requests begin a plain deferred transaction and never block each other or the writer.
* PostgreSQL runs writers in parallel under READ COMMITTED; services lock the rows they consume
  (``FOR UPDATE``/``SKIP LOCKED``) and let unique constraints say "at most once".

``write_transaction()`` hides that difference from the services.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import enum
import sqlite3
import time
from collections.abc import Iterator

from sqlalchemy import DateTime, Enum, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator
from ulid import ULID

from voucher_app.core.durability import SQLITE_SYNCHRONOUS_LEVELS
from voucher_app.core.extensions import db

_IMMEDIATE = "voucher_sqlite_immediate"


def new_id() -> str:
    """An opaque, unguessable, time-ordered id (a ULID): never a sequential integer."""
    return str(ULID()).lower()


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back as an aware UTC ``datetime``.

    SQLite keeps no offset, PostgreSQL keeps ``timestamptz``; both return aware values here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def enum_column(cls: type[enum.Enum], name: str, length: int = 20) -> Enum:
    """A state stored as its name in a short string with a CHECK constraint: portable across
    SQLite and PostgreSQL, and adding a state is a constraint change rather than a type migration."""
    return Enum(cls, native_enum=False, length=length, create_constraint=True, name=name,
                values_callable=lambda members: [m.value for m in members])


def keyset_page(query, id_column, cursor: str | None, limit: int, *, newest_first: bool = False,
                options=lambda q: q, rows_of=None) -> tuple[list, str | None]:
    """One page of ``query`` ordered by its (time-ordered) ids, and the cursor of the next page or None.

    Keyset paging: the cursor is the last id shown, so a page costs the same however deep it is and
    rows added meanwhile neither repeat nor vanish. ``rows_of`` runs the query (default: its first
    column's objects, ``session.scalars``); whatever it yields has an ``id``.
    """
    query = query.order_by(id_column.desc() if newest_first else id_column).limit(limit + 1)
    if cursor:
        query = query.where(id_column < cursor if newest_first else id_column > cursor)
    rows = list((rows_of or db.session.scalars)(options(query)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


def configure_sqlite(engine: Engine, busy_timeout_ms: int, synchronous: str = "NORMAL") -> None:
    """WAL, a busy timeout, foreign keys, and IMMEDIATE write transactions (SQLAlchemy's pysqlite recipe).

    ``synchronous``: NORMAL keeps every commit when the process dies but may lose the last ones in a
    power cut; FULL (production's default) keeps them through that too, at one more sync per commit
    (README, "Durability settings"; ``voucher doctor`` warns about NORMAL).
    """
    synchronous = synchronous.upper()
    if synchronous not in SQLITE_SYNCHRONOUS_LEVELS:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {', '.join(SQLITE_SYNCHRONOUS_LEVELS)}, not {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself instead of pysqlite's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get(_IMMEDIATE):
            _begin_immediate(conn.connection.dbapi_connection, busy_timeout_ms)
        else:
            conn.exec_driver_sql("BEGIN")


def _begin_immediate(dbapi_connection, busy_timeout_ms: int) -> None:
    """Take SQLite's write lock, polling every fraction of a millisecond while another process holds it.

    SQLite's own busy handler backs off 1, 2, 5, 10 … ms between tries; a claim holds the lock for
    well under a millisecond, so under a rush a waiting writer would mostly sleep while the lock is
    free. The poll keeps the same overall timeout.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    pause = 0.0001
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 1.5, 0.0005)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block in one write transaction: commit on success, roll back on any error.

    On SQLite a read transaction the request may have begun (say, loading the signed-in user) is
    ended first, so that the write transaction starts with ``BEGIN IMMEDIATE`` instead of upgrading a
    read lock. Objects loaded before keep their values (the session does not expire on commit):
    whatever a decision depends on must be read again inside the block.
    """
    session = db.session()  # the request's Session itself, not the scoped proxy
    if session.get_bind().dialect.name == "sqlite":
        end_read_transaction()
    else:
        # PostgreSQL goes on in the read transaction: at READ COMMITTED each statement sees the latest
        # commits anyway, and it saves a commit, a pool checkout (with its ping) and a BEGIN.
        _refuse_unsaved(session)
    if not session.in_transaction():
        session.connection(execution_options={_IMMEDIATE: True})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def end_read_transaction() -> None:
    """End the request session's read transaction, if any: on SQLite a write must then begin
    ``IMMEDIATE`` rather than upgrade a read lock, and a later read must not keep a snapshot older
    than a write made on another connection (``hotpath.py``)."""
    if not db.session.registry.has():
        return  # the request made no session (the hot path needs none): nothing to end, nothing to create
    session = db.session()
    _refuse_unsaved(session)
    if session.in_transaction():
        session.commit()  # nothing to write: just ends the read transaction


def _refuse_unsaved(session) -> None:
    # Changes pending in the session would be committed apart from the write that follows.
    if session.in_transaction() and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a write transaction entered with unsaved changes in the session")
