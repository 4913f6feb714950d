"""the audit trail and the ledger become append-only in the database itself

Issue #15, item 12. The application only ever inserts into ``audit_records`` and ``ledger_entries``
(a correction is a new entry, never an edit), and the database now holds it to that: a trigger
refuses every UPDATE and DELETE, whoever sends it through the application's connection.

* PostgreSQL: one statement-level trigger per table, ``BEFORE UPDATE OR DELETE OR TRUNCATE``, calls
  ``refuse_rewriting()``, which raises ``restrict_violation`` naming the table and the operation.
  TRUNCATE is refused too, since it would empty the table without firing a row trigger.
* SQLite: two row-level triggers per table (SQLite has no statement triggers), ``RAISE(ABORT, …)``.

Both databases report the refusal as an integrity error with the message "<table> is append-only:
<operation> refused", and the statement's transaction changes nothing. A role that owns the tables
can still drop the triggers (or a superuser disable them): this stops the application and its
mistakes, not the database's administrator. On SQLite a later migration that rebuilds one of these
tables (``batch_alter_table``) drops its triggers with it and must create them again;
``tests/core/test_append_only.py`` fails until it does.

The triggers are named ``<table>_append_only`` (``…_update`` / ``…_delete`` on SQLite); the test
suite finds them by that name to lift them, inside its own transaction, when it empties the tables.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ('audit_records', 'ledger_entries')

POSTGRES_FUNCTION = """
CREATE FUNCTION refuse_rewriting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation', HINT = 'Record a correction as a new row.';
END
$$
"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)
        for table in APPEND_ONLY_TABLES:
            op.execute(f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} '
                       f'FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewriting()')
    else:
        for table in APPEND_ONLY_TABLES:
            for operation in ('UPDATE', 'DELETE'):
                op.execute(f'CREATE TRIGGER {table}_append_only_{operation.lower()} BEFORE {operation} ON {table} '
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in APPEND_ONLY_TABLES:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON {table}')
        op.execute('DROP FUNCTION IF EXISTS refuse_rewriting()')
    else:
        for table in APPEND_ONLY_TABLES:
            for operation in ('update', 'delete'):
                op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only_{operation}')
