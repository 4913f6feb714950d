"""The audit trail and the ledger are append-only for the application (migration 0008): an UPDATE or
a DELETE through the app's own engine fails with a database error that says why, and the rows stay
exactly as they were."""
from __future__ import annotations

import uuid

import flask_migrate
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from tests.builders import make_staff
from tests.scenario import publish
from voucher_app.app import create_app
from voucher_app.core.audit import AuditRecord
from voucher_app.core.extensions import db
from voucher_app.ledger.models import LedgerEntry

TABLES = {"ledger_entries": LedgerEntry, "audit_records": AuditRecord}
REWRITES = {
    "UPDATE": {"ledger_entries": "UPDATE ledger_entries SET amount_cents = amount_cents + 100",
               "audit_records": "UPDATE audit_records SET outcome = 'ok', reason = 'rewritten'"},
    "DELETE": {table: f"DELETE FROM {table}" for table in TABLES},
}


@pytest.fixture
def published(city, clock):
    """A campaign published through the service: its budget funded in the ledger, its creation and
    publication in the audit trail."""
    return publish(make_staff(), clock)


def rows(model) -> list[tuple]:
    table = model.__table__
    return [tuple(row) for row in db.session.execute(select(table).order_by(table.c.id))]


@pytest.mark.parametrize("operation", ["UPDATE", "DELETE"])
@pytest.mark.parametrize("table", sorted(TABLES))
def test_rewriting_an_append_only_table_fails_and_changes_nothing(published, table, operation):
    before = rows(TABLES[table])
    assert before  # the campaign's funding entry, or its audit records
    with pytest.raises(IntegrityError) as refused:
        with db.engine.begin() as conn:
            conn.execute(text(REWRITES[operation][table]))
    assert f"{table} is append-only: {operation} refused" in str(refused.value.orig)
    db.session.rollback()
    assert rows(TABLES[table]) == before


def test_the_orm_cannot_edit_or_remove_an_entry_either(published):
    before = rows(LedgerEntry)
    entry = db.session.scalars(select(LedgerEntry)).first()
    entry.amount_cents += 1
    with pytest.raises(IntegrityError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    record = db.session.scalars(select(AuditRecord)).first()
    db.session.delete(record)
    with pytest.raises(IntegrityError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert rows(LedgerEntry) == before
    assert db.session.get(AuditRecord, record.id) is not None


def test_appending_still_works(published, clock):
    """The triggers refuse rewriting, not writing: the service's next entries go in."""
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    records = db.session.scalar(select(func.count()).select_from(AuditRecord))
    publish(make_staff(), clock)
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entries + 1
    assert db.session.scalar(select(func.count()).select_from(AuditRecord)) > records


def test_truncate_is_refused_on_postgresql(published):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    before = rows(LedgerEntry)
    db.session.commit()  # TRUNCATE waits for every reader of the table, this session's included
    with pytest.raises(IntegrityError, match="ledger_entries is append-only: TRUNCATE refused"):
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE ledger_entries CASCADE"))
    db.session.rollback()
    assert rows(LedgerEntry) == before


@pytest.fixture
def scratch_database(database_url, tmp_path):
    """A database of this test's own (a SQLite file, or a PostgreSQL schema) to migrate up and down."""
    if not database_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    schema = "scratch_" + uuid.uuid4().hex[:12]
    admin = create_engine(make_url(database_url).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"}) \
            .render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_the_migration_makes_the_triggers_and_its_downgrade_removes_them(app, scratch_database, keys_dir):
    scratch = create_app("testing", {"SQLALCHEMY_DATABASE_URI": scratch_database, "SIGNING_KEYS_DIR": str(keys_dir)})
    with scratch.app_context():
        try:
            flask_migrate.upgrade()
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO audit_records (id, at, action, target_type, target_id, outcome) "
                                  "VALUES ('r1', CURRENT_TIMESTAMP, 'campaign.publish', 'campaign', 'c1', 'ok')"))
            assert _rewrite_refused()
            flask_migrate.downgrade(revision="0007")
            assert not _rewrite_refused()
            flask_migrate.upgrade()
            assert _rewrite_refused()
        finally:
            db.engine.dispose()


def _rewrite_refused() -> bool:
    try:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_records SET reason = 'rewritten'"))
    except IntegrityError as err:
        assert "audit_records is append-only: UPDATE refused" in str(err.orig)
        return True
    return False
