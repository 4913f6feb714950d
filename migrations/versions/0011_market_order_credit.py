"""market order and consumer credit

Issue #17 (measures M20, M21). Fraud rules as data (``fraud_rules``) and the ``flags`` their hits
open; a redemption can be clawed back (``clawed_back_at``) and statements count clawbacks and say why
they are held (``hold_reason``); ``complaints`` and residents' ``return_requests``; a shop's credit
record (``merchant_events``), badge, public suspension and opening hours; the bureau's
``consumption_warnings``; sign-ins remember the address and device they came from.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:18:10.243205

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consumption_warnings',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('scope', sa.Enum('merchant', 'category', 'city', name='warning_scope', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('merchant_id', sa.String(length=26), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_consumption_warnings_created_by_users')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_consumption_warnings_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consumption_warnings'))
    )
    with op.batch_alter_table('consumption_warnings', schema=None) as batch_op:
        batch_op.create_index('ix_consumption_warnings_ends_at', ['ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_consumption_warnings_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('flags',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('merchant_id', sa.String(length=26), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('redemption_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('open', 'cleared', 'confirmed', name='flag_status', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=26), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_flags_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_flags_resolved_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flags'))
    )
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flags_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index('ix_flags_status_score', ['status', 'score'], unique=False)
        batch_op.create_index('uq_flags_open_rule_merchant', ['rule', 'merchant_id'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))

    op.create_table('fraud_rules',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=26), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_fraud_rules_updated_by_users')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_fraud_rules'))
    )
    op.create_table('merchant_events',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('merchant_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ref_type', sa.String(length=32), nullable=True),
    sa.Column('ref_id', sa.String(length=26), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.String(length=26), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_merchant_events_actor_id_users')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_merchant_events_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_events'))
    )
    with op.batch_alter_table('merchant_events', schema=None) as batch_op:
        batch_op.create_index('ix_merchant_events_merchant_at', ['merchant_id', 'at'], unique=False)

    op.create_table('complaints',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('resident_id', sa.String(length=26), nullable=False),
    sa.Column('merchant_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.Enum('refused_voucher', 'surcharge', 'minimum_spend', 'quality', 'other', 'return_unanswered', name='complaint_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('redemption_id', sa.String(length=26), nullable=True),
    sa.Column('return_request_id', sa.String(length=26), nullable=True),
    sa.Column('status', sa.Enum('open', 'upheld', 'rejected', name='complaint_status', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assigned_to', sa.String(length=26), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reply_text', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_by', sa.String(length=26), nullable=True),
    sa.Column('decision_text', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=26), nullable=True),
    sa.ForeignKeyConstraint(['assigned_to'], ['users.id'], name=op.f('fk_complaints_assigned_to_users')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_complaints_decided_by_users')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_complaints_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name=op.f('fk_complaints_redemption_id_redemptions')),
    sa.ForeignKeyConstraint(['replied_by'], ['users.id'], name=op.f('fk_complaints_replied_by_users')),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_complaints_resident_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index('ix_complaints_merchant_created', ['merchant_id', 'created_at'], unique=False)
        batch_op.create_index('ix_complaints_resident_created', ['resident_id', 'created_at'], unique=False)
        batch_op.create_index('ix_complaints_status_due', ['status', 'due_at'], unique=False)

    op.create_table('return_requests',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('redemption_id', sa.String(length=26), nullable=False),
    sa.Column('resident_id', sa.String(length=26), nullable=False),
    sa.Column('merchant_id', sa.String(length=26), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'declined', 'escalated', name='return_status', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.String(length=26), nullable=True),
    sa.Column('answer_text', sa.Text(), nullable=True),
    sa.Column('complaint_id', sa.String(length=26), nullable=True),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], name=op.f('fk_return_requests_answered_by_users')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_return_requests_complaint_id_complaints')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_return_requests_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name=op.f('fk_return_requests_redemption_id_redemptions')),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_return_requests_resident_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_requests'))
    )
    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.create_index('ix_return_requests_merchant_created', ['merchant_id', 'created_at'], unique=False)
        batch_op.create_index('ix_return_requests_resident_created', ['resident_id', 'created_at'], unique=False)
        batch_op.create_index('ix_return_requests_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('uq_return_requests_pending', ['redemption_id'], unique=True, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_hours', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('badge_granted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('suspension_public', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clawed_back_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('clawback_flag_id', sa.String(length=26), nullable=True))
        batch_op.create_index('ix_redemptions_clawed_back', ['merchant_id', 'clawed_back_at'], unique=False, postgresql_where=sa.text('clawed_back_at IS NOT NULL'), sqlite_where=sa.text('clawed_back_at IS NOT NULL'))

    with op.batch_alter_table('settlement_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clawbacks', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('clawed_back_cents', sa.BigInteger(), server_default='0', nullable=False))

    with op.batch_alter_table('settlement_statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clawbacks', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('clawed_back_cents', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('hold_reason', sa.Text(), nullable=True))

    with op.batch_alter_table('sign_ins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column('device', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('sign_ins', schema=None) as batch_op:
        batch_op.drop_column('device')
        batch_op.drop_column('address')

    with op.batch_alter_table('settlement_statements', schema=None) as batch_op:
        batch_op.drop_column('hold_reason')
        batch_op.drop_column('clawed_back_cents')
        batch_op.drop_column('clawbacks')

    with op.batch_alter_table('settlement_lines', schema=None) as batch_op:
        batch_op.drop_column('clawed_back_cents')
        batch_op.drop_column('clawbacks')

    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_index('ix_redemptions_clawed_back', postgresql_where=sa.text('clawed_back_at IS NOT NULL'), sqlite_where=sa.text('clawed_back_at IS NOT NULL'))
        batch_op.drop_column('clawback_flag_id')
        batch_op.drop_column('clawed_back_at')

    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('suspension_public')
        batch_op.drop_column('suspended_at')
        batch_op.drop_column('badge_granted_at')
        batch_op.drop_column('opening_hours')

    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_return_requests_pending', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.drop_index('ix_return_requests_status_due')
        batch_op.drop_index('ix_return_requests_resident_created')
        batch_op.drop_index('ix_return_requests_merchant_created')

    op.drop_table('return_requests')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_status_due')
        batch_op.drop_index('ix_complaints_resident_created')
        batch_op.drop_index('ix_complaints_merchant_created')

    op.drop_table('complaints')
    with op.batch_alter_table('merchant_events', schema=None) as batch_op:
        batch_op.drop_index('ix_merchant_events_merchant_at')

    op.drop_table('merchant_events')
    op.drop_table('fraud_rules')
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_index('uq_flags_open_rule_merchant', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_flags_status_score')
        batch_op.drop_index(batch_op.f('ix_flags_merchant_id'))

    op.drop_table('flags')
    with op.batch_alter_table('consumption_warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consumption_warnings_merchant_id'))
        batch_op.drop_index('ix_consumption_warnings_ends_at')

    op.drop_table('consumption_warnings')
