"""data versions

Issue #20 (item 7). ``data_versions``: one row per kind of data the public reads show (the city's
plan, residents' campaigns), set to a fresh random number by every write that changes that data, so
that each worker knows when what it keeps is stale (``voucher_app/core/versions.py``). The rows are
seeded here, so an existing installation's readers keep answers from the first request on.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 02:40:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('data_versions',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_data_versions'))
    )
    op.bulk_insert(table, [{'name': name, 'version': secrets.randbits(62)} for name in ('plan', 'campaigns')])


def downgrade():
    op.drop_table('data_versions')
