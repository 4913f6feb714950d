"""redemption attempts: one partial index over refusals instead of four

Every sale writes an attempt row; its four secondary indexes (campaign, merchant, voucher, outcome)
cost each sale four index insertions, and only the refusals-by-code count reads them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 05:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('redemption_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_redemption_attempts_campaign_id')
        batch_op.drop_index('ix_redemption_attempts_merchant_id')
        batch_op.drop_index('ix_redemption_attempts_outcome')
        batch_op.drop_index('ix_redemption_attempts_voucher_id')
        batch_op.create_index('ix_redemption_attempts_refusals', ['campaign_id', 'outcome'], unique=False,
                              postgresql_where=sa.text("outcome <> 'ok'"), sqlite_where=sa.text("outcome <> 'ok'"))


def downgrade():
    with op.batch_alter_table('redemption_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_redemption_attempts_refusals',
                            postgresql_where=sa.text("outcome <> 'ok'"), sqlite_where=sa.text("outcome <> 'ok'"))
        batch_op.create_index('ix_redemption_attempts_voucher_id', ['voucher_id'], unique=False)
        batch_op.create_index('ix_redemption_attempts_outcome', ['outcome', 'at'], unique=False)
        batch_op.create_index('ix_redemption_attempts_merchant_id', ['merchant_id'], unique=False)
        batch_op.create_index('ix_redemption_attempts_campaign_id', ['campaign_id'], unique=False)
