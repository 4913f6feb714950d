"""The rush's statements — claims, their refusals, scans at the till — on a connection of their own.

In a rush a claim is a handful of one-row statements that SQLite runs in microseconds; through the
ORM session each also cost its Python bookkeeping (a pool checkout, BEGIN, the compiled-statement
cache, result wrapping, COMMIT, the session's teardown), several times the statement itself, and on
PostgreSQL a round trip for each BEGIN, COMMIT and pool ping. So these few statements run here:

* on one DB-API connection per thread and engine, taken from the engine (so it has the engine's
  settings: WAL and the busy timeout on SQLite) and kept, in **autocommit** mode. A lookup is one
  statement and needs no transaction around it; a PostgreSQL claim is one statement (a CTE) and
  commits by itself, atomically. SQLite's write transaction is ``BEGIN IMMEDIATE … COMMIT`` here,
  taken with the same lock polling as every other writer (``database._begin_immediate``);
* as SQLAlchemy statements compiled once per dialect, whose parameters go through the same type
  processors SQLAlchemy applies, so what is stored is exactly what the ORM would store;
* with driver errors raised as SQLAlchemy's (``IntegrityError`` …), so callers handle them as usual.

A broken connection (a PostgreSQL restart) is dropped: a lookup retries once on a new one; a write
is not retried here — whether it committed is unknown, and the client's retry with the same
``Idempotency-Key`` gets the first answer if it did.
"""
from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections import namedtuple
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from flask import current_app
from sqlalchemy import Table, bindparam, exc, insert
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.sql import ClauseElement

from voucher_app.core.database import _begin_immediate
from voucher_app.core.extensions import db


class Prepared:
    """A statement compiled once per dialect, run on a DB-API cursor; its rows, if it returns any,
    are named tuples of its columns converted as SQLAlchemy would (JSON parsed, timestamps aware)."""

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._compiled: dict[str, tuple] = {}
        columns = list(getattr(statement, "exported_columns", ()))
        self._columns = columns
        self._row = namedtuple("Row", [c.key for c in columns]) if columns else None
        self._readers: dict[str, list] = {}

    def row(self, dialect: Dialect, raw: tuple | None):
        if raw is None or self._row is None:
            return raw
        readers = self._readers.get(dialect.name)
        if readers is None:
            readers = self._readers[dialect.name] = [
                c.type.dialect_impl(dialect).result_processor(dialect, None) for c in self._columns]
        return self._row(*(read(value) if read is not None else value for read, value in zip(readers, raw)))

    def _for(self, dialect: Dialect) -> tuple:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            c = self.statement.compile(dialect=dialect)
            processors = {}
            constants = {}
            for name, bind in c.binds.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors[name] = processor
                if not bind.required and bind.callable is None:
                    constants[name] = bind.value
            positional = tuple(c.positiontup) if c.positional else None
            compiled = self._compiled[dialect.name] = (c.string, positional, processors, constants)
        return compiled

    def parameters(self, dialect: Dialect, values: Mapping[str, Any]) -> tuple[str, Any]:
        sql, positional, processors, constants = self._for(dialect)
        merged = {**constants, **values}
        for name, processor in processors.items():
            if name in merged:
                merged[name] = processor(merged[name])
        return sql, (tuple(merged[name] for name in positional) if positional is not None else merged)


class Hot:
    """The thread's own connection to one engine (see the module's docstring)."""

    def __init__(self, engine: Engine):
        # Weakly: the thread's table of connections is keyed weakly by engine, and a strong reference
        # from here would keep every engine (and its connection) a process ever made alive.
        self._engine = weakref.ref(engine)
        self.dialect = engine.dialect
        self.sqlite = self.dialect.name == "sqlite"
        self._connection = None

    @property
    def connection(self):
        if self._connection is None:
            try:
                fairy = self._engine().raw_connection()
            except self.dialect.loaded_dbapi.Error as err:  # the server is down or restarting: say so as SQLAlchemy would
                raise exc.DBAPIError.instance(None, None, err, self.dialect.loaded_dbapi.Error,
                                              connection_invalidated=True, dialect=self.dialect) from err
            fairy.detach()  # ours for the thread's life, outside the pool's count and resets
            connection = fairy.dbapi_connection
            if not self.sqlite:
                connection.autocommit = True  # SQLite's connections already are (database.configure_sqlite)
            self._connection = connection
        return self._connection

    def drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def _execute(self, cursor, prepared: Prepared, values: Mapping[str, Any]):
        sql, parameters = prepared.parameters(self.dialect, values)
        try:
            cursor.execute(sql, parameters)
        except self.dialect.loaded_dbapi.Error as err:
            raise self._as_sqlalchemy_error(err, sql, parameters, cursor) from err
        return cursor

    def _as_sqlalchemy_error(self, err: Exception, sql: str, parameters, cursor=None) -> exc.DBAPIError:
        """The driver's error as SQLAlchemy raises it (``IntegrityError`` …); a broken connection dropped."""
        broken = self.dialect.is_disconnect(err, self._connection, cursor)
        if broken:
            self.drop()
        return exc.DBAPIError.instance(sql, parameters, err, self.dialect.loaded_dbapi.Error,
                                       connection_invalidated=broken, dialect=self.dialect)

    def one(self, prepared: Prepared, **values) -> tuple | None:
        """The first row of a one-statement read (retried once on a fresh connection if it broke)."""
        return self._read(prepared, values, lambda cursor: prepared.row(self.dialect, cursor.fetchone()))

    def write(self, prepared: Prepared, **values) -> tuple | None:
        """The first row a one-statement write returns; the statement commits as it ends (autocommit).
        Never retried: if the connection broke, whether it committed is unknown."""
        return self._fetch(prepared, values, lambda cursor: prepared.row(self.dialect, cursor.fetchone()))

    def all(self, prepared: Prepared, **values) -> list[tuple]:
        """Every row of a one-statement read."""
        return self._read(prepared, values,
                          lambda cursor: [prepared.row(self.dialect, raw) for raw in cursor.fetchall()])

    def _read(self, prepared: Prepared, values: Mapping[str, Any], fetch):
        try:
            return self._fetch(prepared, values, fetch)
        except exc.DBAPIError as err:
            if not err.connection_invalidated:
                raise
        return self._fetch(prepared, values, fetch)  # once more, on a fresh connection

    def _fetch(self, prepared: Prepared, values: Mapping[str, Any], fetch):
        cursor = self.connection.cursor()
        try:
            return fetch(self._execute(cursor, prepared, values))
        finally:
            cursor.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Runner]:
        """SQLite: a write transaction begun IMMEDIATE, committed at the end, rolled back on error.
        PostgreSQL: statements commit one by one (autocommit), so give it single-statement writes."""
        connection = self.connection
        if self.sqlite:
            try:
                _begin_immediate(connection, current_app.config["SQLITE_BUSY_TIMEOUT_MS"])
            except self.dialect.loaded_dbapi.Error as err:
                raise self._as_sqlalchemy_error(err, "BEGIN IMMEDIATE", ()) from err
        cursor = connection.cursor()
        try:
            yield Runner(self, cursor)
            if self.sqlite:
                connection.commit()
        except BaseException:
            if self.sqlite and self._connection is not None:
                with contextlib.suppress(Exception):
                    connection.rollback()
            raise
        finally:
            cursor.close()


class Runner:
    """Statements inside ``Hot.transaction()``."""

    def __init__(self, hot: Hot, cursor):
        self._hot, self._cursor = hot, cursor

    def one(self, prepared: Prepared, **values) -> tuple | None:
        return prepared.row(self._hot.dialect, self._hot._execute(self._cursor, prepared, values).fetchone())

    def run(self, prepared: Prepared, **values) -> None:
        self._hot._execute(self._cursor, prepared, values)


def insert_row(table: Table, names: Iterable[str], **constants) -> Prepared:
    """An INSERT of one row into ``table``: the columns ``names`` given when run (under their own
    names), ``constants`` fixed."""
    return Prepared(insert(table).values(
        {**{name: bindparam(name, type_=table.c[name].type) for name in names}, **constants}))


_local = threading.local()


def _forget_after_fork() -> None:
    _local.__dict__.clear()  # a forked worker must not share its parent's sockets


os.register_at_fork(after_in_child=_forget_after_fork)


def hot() -> Hot:
    """This thread's hot-path connection to the app's database."""
    engine = db.engine
    per_engine = getattr(_local, "per_engine", None)
    if per_engine is None:
        per_engine = _local.per_engine = weakref.WeakKeyDictionary()
    found = per_engine.get(engine)
    if found is None:
        found = per_engine[engine] = Hot(engine)
    return found


def release(engine: Engine) -> None:
    """Close this thread's hot-path connection to ``engine``, which is about to be disposed (the
    connection is detached from the pool, so disposing the engine would not close it)."""
    per_engine = getattr(_local, "per_engine", None)
    found = per_engine.pop(engine, None) if per_engine is not None else None
    if found is not None:
        found.drop()
