"""job runs name the process running them

Issue #21 (the scheduler killed in the middle of a job). ``job_runs.owner`` says which process staked a
trigger ("host pid token"), so a scheduler starting again can tell a run whose process died — left
``running`` for ever, its trigger never run again — and take it over (``scheduler/runs.py``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 03:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=160), nullable=True))


def downgrade():
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_column('owner')
