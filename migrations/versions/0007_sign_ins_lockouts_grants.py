"""sign-ins that can be revoked, staff lockouts, refund grants, wrong typed codes

Issue #15: every bearer token and web session is a row (``sign_ins``) the server can revoke; wrong
staff passwords are counted per username (``sign_in_failures``); an owner may let a cashier refund
(``users.refunds_allowed``); a till attempt says how the voucher was named and what was asked
(``via``, ``action``), and wrong typed codes are counted per voucher through a small partial index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 18:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_ins',
    sa.Column('id', sa.String(length=43), nullable=False),
    sa.Column('user_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_ins_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_ins'))
    )
    with op.batch_alter_table('sign_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_ins_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_sign_ins_expires_at', ['expires_at'], unique=False)

    op.create_table('sign_in_failures',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_sign_in_failures'))
    )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refunds_allowed', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('redemption_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sa.String(length=8), server_default='qr', nullable=False))
        batch_op.add_column(sa.Column('action', sa.String(length=8), server_default='redeem', nullable=False))
        batch_op.create_index('ix_redemption_attempts_wrong_codes', ['voucher_id', 'at'], unique=False,
                              postgresql_where=sa.text("outcome = 'invalid_token' AND via = 'typed'"),
                              sqlite_where=sa.text("outcome = 'invalid_token' AND via = 'typed'"))
        batch_op.create_index('ix_redemption_attempts_wrong_codes_by_cashier', ['cashier_id', 'at'], unique=False,
                              postgresql_where=sa.text("outcome = 'invalid_token' AND via = 'typed'"),
                              sqlite_where=sa.text("outcome = 'invalid_token' AND via = 'typed'"))


def downgrade():
    with op.batch_alter_table('redemption_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_redemption_attempts_wrong_codes_by_cashier')
        batch_op.drop_index('ix_redemption_attempts_wrong_codes')
        batch_op.drop_column('action')
        batch_op.drop_column('via')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('refunds_allowed')
    op.drop_table('sign_in_failures')
    with op.batch_alter_table('sign_ins', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_ins_expires_at')
        batch_op.drop_index(batch_op.f('ix_sign_ins_user_id'))
    op.drop_table('sign_ins')
