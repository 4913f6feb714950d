"""fair allocation and inclusion: lotteries, reserved quotas, profiles, percent tiers, printed vouchers

Issue #16. Residents get a profile (district, birth year, the ID number's keyed hash) and a
``person_id``: accounts that bound the same ID number count as one person, so the vouchers' slot
constraints move from the resident to the person (backfilled with the resident). A voucher lies in
a ``pool`` ('' = general, else a group's reserved quota until ``pool_until``), which leads the
claim's index. Campaigns gain the lottery allocation, district and profile rules and two limits;
tiers the percent kind and reserved quotas (``group_members``: the people the bureau put in a group, by
ID-number hash); rounds a lottery's window and its draw's public data;
``entries`` holds the lottery's entries. Community workers are a role, and the residents they
register have no phone (``registered_by``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 07:01:40

"""
import sqlalchemy as sa
from alembic import op

ROLES_BEFORE = ('resident', 'cashier', 'merchant_owner', 'admin', 'viewer')
ROLES = ROLES_BEFORE + ('community_worker',)


def _role_check(roles):
    return "role IN (%s)" % ", ".join(f"'{r}'" for r in roles)


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('entries',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('campaign_id', sa.String(length=26), nullable=False),
    sa.Column('round_id', sa.String(length=26), nullable=False),
    sa.Column('tier_id', sa.String(length=26), nullable=False),
    sa.Column('resident_id', sa.String(length=26), nullable=False),
    sa.Column('person_id', sa.String(length=26), nullable=False),
    sa.Column('pool', sa.String(length=16), server_default='', nullable=False),
    sa.Column('status', sa.Enum('entered', 'won', 'lost', name='entry_status', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('voucher_id', sa.String(length=26), nullable=True),
    sa.Column('proxy_id', sa.String(length=26), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_entries_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proxy_id'], ['users.id'], name=op.f('fk_entries_proxy_id_users')),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_entries_resident_id_users')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_entries_round_id_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tier_id'], ['tiers.id'], name=op.f('fk_entries_tier_id_tiers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_entries_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entries')),
    sa.UniqueConstraint('round_id', 'person_id', name=op.f('uq_entries_round_id_person_id'))
    )
    op.create_table('group_members',
    sa.Column('group', sa.String(length=16), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('set_by', sa.String(length=26), nullable=True),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['set_by'], ['users.id'], name=op.f('fk_group_members_set_by_users')),
    sa.PrimaryKeyConstraint('group', 'id_hash', name=op.f('pk_group_members'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index('ix_entries_resident', ['resident_id', 'created_at'], unique=False)
        batch_op.create_index('ix_entries_person', ['person_id', 'campaign_id'], unique=False)
        batch_op.create_index('ix_entries_round_tier', ['round_id', 'tier_id', 'id'], unique=False)

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allocation', sa.String(length=8), server_default='fcfs', nullable=False))
        batch_op.add_column(sa.Column('resident_districts', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('requires_profile', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('limit_per_day', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('limit_per_merchant_day', sa.Integer(), nullable=True))

    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entry_opens_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('entry_closes_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('draw_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('seed', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('commitment', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entries_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('tiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('percent', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cap_cents', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('reserved', sa.JSON(), server_default='[]', nullable=False))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('district', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('birth_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('id_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('person_id', sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column('low_income', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('registered_by', sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_id_hash'), ['id_hash'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_registered_by_users'), 'users', ['registered_by'], ['id'])
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint('role', _role_check(ROLES))
        batch_op.drop_constraint(op.f('ck_users_resident_has_phone'), type_='check')
        batch_op.create_check_constraint('resident_has_phone',
                                         "role <> 'resident' OR phone IS NOT NULL OR registered_by IS NOT NULL")

    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_id', sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column('pool', sa.String(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('pool_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('percent', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('print_generation', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('proxy_id', sa.String(length=26), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_vouchers_campaign_id_resident_id_resident_slot'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_vouchers_claim_round_id_resident_id_round_slot'), type_='unique')
        batch_op.drop_index('ix_vouchers_available', postgresql_where=sa.text("status = 'available'"), sqlite_where=sa.text("status = 'available'"))
        batch_op.create_index('ix_vouchers_available', ['tier_id', 'pool', 'release_at', 'id'], unique=False, postgresql_where=sa.text("status = 'available'"), sqlite_where=sa.text("status = 'available'"))
        batch_op.create_unique_constraint(batch_op.f('uq_vouchers_campaign_id_person_id_resident_slot'), ['campaign_id', 'person_id', 'resident_slot'])
        batch_op.create_unique_constraint(batch_op.f('uq_vouchers_claim_round_id_person_id_round_slot'), ['claim_round_id', 'person_id', 'round_slot'])
        batch_op.create_foreign_key(batch_op.f('fk_vouchers_proxy_id_users'), 'users', ['proxy_id'], ['id'])
    op.execute("UPDATE vouchers SET person_id = resident_id WHERE resident_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_vouchers_proxy_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_vouchers_claim_round_id_person_id_round_slot'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_vouchers_campaign_id_person_id_resident_slot'), type_='unique')
        batch_op.drop_index('ix_vouchers_available', postgresql_where=sa.text("status = 'available'"), sqlite_where=sa.text("status = 'available'"))
        batch_op.create_index('ix_vouchers_available', ['tier_id', 'release_at', 'id'], unique=False, postgresql_where=sa.text("status = 'available'"), sqlite_where=sa.text("status = 'available'"))
        batch_op.create_unique_constraint(batch_op.f('uq_vouchers_claim_round_id_resident_id_round_slot'), ['claim_round_id', 'resident_id', 'round_slot'])
        batch_op.create_unique_constraint(batch_op.f('uq_vouchers_campaign_id_resident_id_resident_slot'), ['campaign_id', 'resident_id', 'resident_slot'])
        batch_op.drop_column('proxy_id')
        batch_op.drop_column('print_generation')
        batch_op.drop_column('percent')
        batch_op.drop_column('pool_until')
        batch_op.drop_column('pool')
        batch_op.drop_column('person_id')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_resident_has_phone'), type_='check')
        batch_op.create_check_constraint('resident_has_phone', "role <> 'resident' OR phone IS NOT NULL")
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint('role', _role_check(ROLES_BEFORE))
        batch_op.drop_constraint(batch_op.f('fk_users_registered_by_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_id_hash'))
        batch_op.drop_column('consent_at')
        batch_op.drop_column('registered_by')
        batch_op.drop_column('low_income')
        batch_op.drop_column('person_id')
        batch_op.drop_column('id_hash')
        batch_op.drop_column('birth_year')
        batch_op.drop_column('district')

    with op.batch_alter_table('tiers', schema=None) as batch_op:
        batch_op.drop_column('reserved')
        batch_op.drop_column('cap_cents')
        batch_op.drop_column('percent')

    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('drawn_at')
        batch_op.drop_column('entry_count')
        batch_op.drop_column('entries_digest')
        batch_op.drop_column('commitment')
        batch_op.drop_column('seed')
        batch_op.drop_column('draw_at')
        batch_op.drop_column('entry_closes_at')
        batch_op.drop_column('entry_opens_at')

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('limit_per_merchant_day')
        batch_op.drop_column('limit_per_day')
        batch_op.drop_column('requires_profile')
        batch_op.drop_column('resident_districts')
        batch_op.drop_column('allocation')

    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_round_tier')
        batch_op.drop_index('ix_entries_person')
        batch_op.drop_index('ix_entries_resident')

    op.drop_table('entries')
    op.drop_table('group_members')
