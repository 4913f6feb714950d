"""The ``tally`` job: rebuild the report aggregates from vouchers and redemptions.

A full rebuild rather than an increment: refunds and expiries change figures of earlier days, and
a rebuild is idempotent by nature — running it late, twice or after downtime gives the same rows.
It is a handful of ``INSERT … SELECT … GROUP BY`` statements that run inside the database (no row
crosses into Python), in one transaction, so a report never sees half a tally.

A month of a city is a million redemptions and as many vouchers, so each is read as few times as
possible and every aggregate is summed from what those passes leave in temporary tables: sales per
campaign, merchant and city hour (SQLite), or per campaign, merchant and day and per campaign and
hour (PostgreSQL); claims per campaign and city hour; expired and revoked vouchers, found through
the (tier, status) index; and one row per set of campaigns residents claimed in, read from the
residents' index alone. Merchant days, by far the most rows, are compared with the last tally's and
only those that changed are written.

Days and hours are the city's: PostgreSQL converts with the zone itself; SQLite, which has no time
zones, adds the zone's UTC offset (fixed for every Chinese city — a zone with daylight saving would
need PostgreSQL for exact hour-of-day figures around the change).
"""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    delete,
    distinct,
    exists,
    extract,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from campaigns.models import Campaign, CampaignMeasure, CampaignStatus, Tier
from voucher_app.core.clock import city_zone
from voucher_app.core.database import write_transaction
from voucher_app.core.extensions import db
from voucher_app.redemptions.models import Redemption
from voucher_app.reports.models import TallyCampaign, TallyDay, TallyHour, TallyMeasure, TallyMerchantDay
from voucher_app.vouchers.models import Voucher, VoucherStatus

_v = Voucher.__table__
_r = Redemption.__table__

# The passes' results, private to the tally's transaction (dropped before it commits).
_work = MetaData()
_sales = Table("tally_sales", _work, Column("campaign_id", String(26)), Column("merchant_id", String(26)),
               Column("day", Date), Column("hour", Integer), Column("redeemed", Integer), Column("refunded", Integer),
               Column("subsidy_cents", BigInteger), Column("bill_cents", BigInteger), prefixes=["TEMPORARY"])
_claims = Table("tally_claims", _work, Column("campaign_id", String(26)), Column("claimed_day", Date),
                Column("claimed_hour", Integer), Column("expired_day", Date), Column("claimed", Integer),
                Column("expired", Integer), Column("revoked", Integer), prefixes=["TEMPORARY"])
_fresh_days = Table("tally_fresh_merchant_days", _work, Column("campaign_id", String(26)),
                    Column("merchant_id", String(26)), Column("day", Date), Column("redeemed", Integer),
                    Column("refunded", Integer), Column("subsidy_cents", BigInteger), Column("bill_cents", BigInteger),
                    prefixes=["TEMPORARY"])
# One row per set of campaigns some residents claimed in: the campaign ids joined by commas.
_profiles = Table("tally_profiles", _work, Column("campaigns", Text), Column("residents", Integer),
                  prefixes=["TEMPORARY"])
# SQLite only: sums per city hour slot, into which rows are added one by one (see ``_add_up``).
_sqlite_work = MetaData()
_slot_sales = Table("tally_slot_sales", _sqlite_work, Column("slot", Integer, primary_key=True, autoincrement=False),
                    Column("campaign_id", String(26), primary_key=True),
                    Column("merchant_id", String(26), primary_key=True), Column("redeemed", Integer),
                    Column("refunded", Integer), Column("subsidy_cents", BigInteger), Column("bill_cents", BigInteger),
                    prefixes=["TEMPORARY"], sqlite_with_rowid=False)
_slot_claims = Table("tally_slot_claims", _sqlite_work, Column("slot", Integer, primary_key=True, autoincrement=False),
                     Column("campaign_id", String(26), primary_key=True), Column("claimed", Integer),
                     prefixes=["TEMPORARY"], sqlite_with_rowid=False)
_SEPARATOR = ","


class _Dialect:
    """The SQL that differs between PostgreSQL and SQLite: the city's date and hour of a UTC
    timestamp, settings, and lists of ids.

    PostgreSQL converts in the session's time zone, which the tally sets to the city's. SQLite has
    no time zones: it shifts the epoch seconds by the zone's offset. Claims and sales are summed per
    city hour a timestamp falls in (its *slot*; on SQLite a number, cheap to compute and to compare),
    and the day and the hour of day are taken from the slot once per sum.
    """

    def __init__(self, dialect, now: dt.datetime):
        self.postgres = dialect.name == "postgresql"
        zone = city_zone()
        self.zone = zone.key
        offset = now.astimezone(zone).utcoffset() or dt.timedelta(0)
        self.offset_seconds = int(offset.total_seconds())
        self.modifier = f"{self.offset_seconds // 60:+d} minutes"
        # unixepoch() came with SQLite 3.38; strftime('%s') is its slower equivalent.
        self.unixepoch = not self.postgres and dialect.server_version_info >= (3, 38)

    def begin(self, connection: Connection) -> None:
        """Settings of the tally's transaction (on PostgreSQL they end with it)."""
        if not self.postgres:
            # The claims' GROUP BY sorts a million rows: let SQLite's sorter use a second core.
            connection.execute(text("PRAGMA threads = 2"))
            return
        # JIT compiling costs these statements more than it saves them; the planner expects a group
        # per row from the passes and, with the default work_mem, would sort instead of hashing.
        for name, value in (("TimeZone", self.zone), ("jit", "off"), ("work_mem", "256MB")):
            connection.execute(select(func.set_config(name, value, True)))

    def date(self, column):
        if self.postgres:
            return cast(column, Date)
        return func.date(column, self.modifier)

    def hour(self, column):
        return cast(extract("hour", column), Integer)

    def slot(self, column):
        if self.postgres:
            return func.date_trunc(literal_column("'hour'"), column)
        seconds = func.unixepoch(column) if self.unixepoch else cast(func.strftime("%s", column), Integer)
        return (seconds + literal(self.offset_seconds)) // 3600

    def date_of_slot(self, slot):
        if self.postgres:
            return cast(slot, Date)
        return func.date(slot * 3600, "unixepoch")

    def hour_of_slot(self, slot):
        if self.postgres:
            return self.hour(slot)
        return slot % 24

    def contains(self, ids, one_id):
        """Whether the comma-joined ``ids`` hold ``one_id``."""
        haystack = literal(_SEPARATOR) + ids + literal(_SEPARATOR)
        needle = literal(_SEPARATOR) + one_id + literal(_SEPARATOR)
        return (func.strpos(haystack, needle) if self.postgres else func.instr(haystack, needle)) > 0

    def joined_ids(self, column):
        if self.postgres:
            return func.string_agg(distinct(column), literal_column(f"'{_SEPARATOR}'"))
        return func.group_concat(distinct(column))  # SQLite joins DISTINCT values with commas


def _when(condition, value=1):
    return case((condition, value), else_=0)


def tally(now: dt.datetime) -> dict[str, int]:
    """Rebuild every aggregate; returns how many campaigns and merchant-day rows were tallied."""
    with write_transaction():
        bind = db.session.get_bind()
        sql = _Dialect(bind.dialect, now)
        connection = db.session.connection()
        sql.begin(connection)
        work = _work.sorted_tables + ([] if sql.postgres else _sqlite_work.sorted_tables)
        for table in work:
            table.create(connection)
        for model in (TallyMeasure, TallyCampaign, TallyHour, TallyDay):
            db.session.execute(delete(model))
        if sql.postgres or not _has_second_connection(bind):
            day_sums, hour_sums = _pass_over_redemptions(sql, connection)
            _pass_over_vouchers(sql, connection)
            _pass_over_residents(sql, connection)
        else:
            with ThreadPoolExecutor(max_workers=1) as beside:
                vouchers = beside.submit(_vouchers_beside, sql, bind)
                day_sums, hour_sums = _pass_over_redemptions(sql, connection)
                claims, profiles = vouchers.result()
            for table, rows in ((_claims, claims), (_profiles, profiles)):
                if rows:
                    connection.execute(insert(table), [row._asdict() for row in rows])
        _tally_merchant_days(day_sums)
        _tally_days()
        _tally_hours(hour_sums)
        _tally_campaigns(sql, now)
        _tally_measures(sql, now)
        for table in reversed(work):
            table.drop(connection)
        campaigns = db.session.scalar(select(func.count()).select_from(TallyCampaign))
        rows = db.session.scalar(select(func.count()).select_from(TallyMerchantDay))
    return {"campaigns": campaigns, "merchant_days": rows}


def _has_second_connection(engine: Engine) -> bool:
    """Whether another connection sees the same SQLite database (an in-memory one is private)."""
    return engine.url.database not in (None, "", ":memory:") and "mode=memory" not in str(engine.url)


def _vouchers_beside(sql: _Dialect, engine: Engine) -> tuple[list, list]:
    """SQLite: the passes over the vouchers on a second connection, in a second thread, while the
    tally's own connection sums the redemptions (SQLite runs a statement on one core; this uses two).

    It sees exactly what the tally sees: the tally already holds the write lock (``BEGIN
    IMMEDIATE``), so nothing can be committed between the tally's snapshot and this one, and the
    tally's own writes so far are to its temporary tables. The results are a few thousand rows at
    most (claims per campaign and city hour, expiries per campaign and day, sets of campaigns), handed
    back to be inserted into the tally's temporary tables."""
    with engine.connect() as connection:
        try:
            sql.begin(connection)
            for table in (_slot_claims, _claims, _profiles):
                table.create(connection)
            _pass_over_vouchers(sql, connection)
            _pass_over_residents(sql, connection)
            return connection.execute(select(_claims)).all(), connection.execute(select(_profiles)).all()
        finally:
            connection.rollback()  # the temporary tables go with the transaction


def _pass_over_redemptions(sql: _Dialect, connection: Connection) -> tuple[Select, Select]:
    """Sum the redemptions; returns the sums per campaign, merchant and day, and per campaign and hour.

    PostgreSQL hashes two passes, one per merchant and day and one per hour, for less than one pass
    into groups per merchant and hour. SQLite adds each redemption into the row of its campaign,
    merchant and hour slot (redemptions are stored in time order, so each lands next to the last),
    then sums those rows."""
    if sql.postgres:
        day, hour = sql.date(_r.c.redeemed_at), sql.hour(_r.c.redeemed_at)
        in_force, refunded = _in_force(), _r.c.refunded_at.is_not(None)
        sums = (func.sum(_when(in_force)), func.sum(_when(refunded)), func.sum(_when(in_force, _r.c.discount_cents)),
                func.sum(_when(in_force, _r.c.bill_cents)))
        columns = ["campaign_id", "merchant_id", "day", "hour", "redeemed", "refunded", "subsidy_cents", "bill_cents"]
        by_day = (select(_r.c.campaign_id, _r.c.merchant_id, day, literal(None, Integer), *sums)
                  .group_by(_r.c.campaign_id, _r.c.merchant_id, day))
        by_hour = (select(_r.c.campaign_id, literal(None, String), literal(None, Date), hour, *sums)
                   .group_by(_r.c.campaign_id, hour))
        for query in (by_day, by_hour):
            connection.execute(insert(_sales).from_select(columns, query))
        s = _sales.c
        return (select(s.campaign_id, s.merchant_id, s.day, s.redeemed, s.refunded, s.subsidy_cents, s.bill_cents)
                .where(s.merchant_id.is_not(None)),
                select(s.campaign_id, s.hour, s.redeemed, s.subsidy_cents.label("subsidy"), s.bill_cents.label("bill"))
                .where(s.hour.is_not(None)))
    in_force, refunded = _in_force(), _r.c.refunded_at.is_not(None)
    _add_up(connection, _slot_sales, select(sql.slot(_r.c.redeemed_at), _r.c.campaign_id, _r.c.merchant_id,
                                            _when(in_force), _when(refunded), _when(in_force, _r.c.discount_cents),
                                            _when(in_force, _r.c.bill_cents)))
    s = _slot_sales.c
    day, hour = s.slot // 24, sql.hour_of_slot(s.slot)
    return (select(s.campaign_id, s.merchant_id, sql.date_of_slot(func.min(s.slot)), func.sum(s.redeemed),
                   func.sum(s.refunded), func.sum(s.subsidy_cents), func.sum(s.bill_cents))
            .group_by(day, s.campaign_id, s.merchant_id),
            select(s.campaign_id, hour.label("hour"), func.sum(s.redeemed).label("redeemed"),
                   func.sum(s.subsidy_cents).label("subsidy"), func.sum(s.bill_cents).label("bill"))
            .group_by(hour, s.campaign_id))


def _in_force():
    """A sale that counts as redeemed: neither refunded nor clawed back (a confirmed fraud flag took its
    subsidy back, so it neither spent subsidy nor drove consumption)."""
    return and_(_r.c.refunded_at.is_(None), _r.c.clawed_back_at.is_(None))


def _add_up(connection: Connection, table: Table, rows: Select) -> None:
    """Insert ``rows`` into a SQLite ``table``, adding each into the row of its primary key if there
    is one: SQLite groups by sorting every row, which costs more than finding the row to add to."""
    # SQLite's parser needs a WHERE in the SELECT of an upsert.
    statement = sqlite_insert(table).from_select([c.name for c in table.c], rows.where(true()))
    figures = [c.name for c in table.c if not c.primary_key]
    connection.execute(statement.on_conflict_do_update(index_elements=list(table.primary_key.columns), set_={
        f: table.c[f] + statement.excluded[f] for f in figures}))


def _pass_over_vouchers(sql: _Dialect, connection: Connection) -> None:
    """Claims summed per campaign and city hour, and expired and revoked vouchers per campaign and
    city day of the expiry, into ``tally_claims``. Only the claims need a pass over every voucher;
    the others are found through the (tier, status) index."""
    columns = ["campaign_id", "claimed_day", "claimed_hour", "expired_day", "claimed", "expired", "revoked"]
    claimed = _v.c.claimed_at.is_not(None)
    if sql.postgres:
        claims = select(_v.c.campaign_id, sql.slot(_v.c.claimed_at).label("slot")).where(claimed).subquery()
        slot, campaign_id, count = claims.c.slot, claims.c.campaign_id, func.count()
    else:
        slot_of_claim = sql.slot(_v.c.claimed_at)
        connection.execute(insert(_slot_claims).from_select(["slot", "campaign_id", "claimed"], (
            select(slot_of_claim, _v.c.campaign_id, func.count()).where(claimed)
            .group_by(slot_of_claim, _v.c.campaign_id))))
        slot, campaign_id, count = _slot_claims.c.slot, _slot_claims.c.campaign_id, func.sum(_slot_claims.c.claimed)
    connection.execute(insert(_claims).from_select(columns, (
        select(campaign_id, sql.date_of_slot(slot), sql.hour_of_slot(slot), literal(None, Date), count, literal(0),
               literal(0)).group_by(slot, campaign_id))))
    status = _v.c.status
    expired_day = sql.date(_v.c.expired_at)
    connection.execute(insert(_claims).from_select(columns, (
        select(_v.c.campaign_id, literal(None, Date), literal(None, Integer), expired_day, literal(0),
               func.sum(_when(status == VoucherStatus.expired.value)),
               func.sum(_when(status == VoucherStatus.revoked.value)))
        .where(status.in_([VoucherStatus.expired.value, VoucherStatus.revoked.value]),
               _v.c.tier_id.in_(select(Tier.id)))  # always true; it leads SQLite to the (tier, status) index
        .group_by(_v.c.campaign_id, expired_day))))


def _pass_over_residents(sql: _Dialect, connection: Connection) -> None:
    # A voucher has a resident exactly when it has been claimed (the claim sets both in one UPDATE),
    # so the residents' index alone answers, without reading the vouchers themselves.
    per_resident = (select(sql.joined_ids(_v.c.campaign_id).label("campaigns"))
                    .where(_v.c.resident_id.is_not(None)).group_by(_v.c.resident_id).subquery())
    query = select(per_resident.c.campaigns, func.count()).group_by(per_resident.c.campaigns)
    connection.execute(insert(_profiles).from_select(["campaigns", "residents"], query))


def _tally_merchant_days(day_sums: Select) -> None:
    """Write the merchant days that changed: a day's figures rarely change once it is over, and
    rewriting tens of thousands of unchanged rows (their indexes and foreign-key checks) would cost
    more than summing them."""
    figures = ("redeemed", "refunded", "subsidy_cents", "bill_cents")
    db.session.execute(insert(_fresh_days).from_select(["campaign_id", "merchant_id", "day", *figures], day_sums))
    t, fresh = TallyMerchantDay.__table__, _fresh_days.c
    same_day = and_(fresh.campaign_id == t.c.campaign_id, fresh.merchant_id == t.c.merchant_id, fresh.day == t.c.day)
    key = tuple_(t.c.campaign_id, t.c.merchant_id, t.c.day)
    db.session.execute(delete(t).where(key.not_in(select(fresh.campaign_id, fresh.merchant_id, fresh.day))))
    db.session.execute(update(t).where(same_day, or_(*(t.c[f] != fresh[f] for f in figures)))
                       .values({f: fresh[f] for f in figures}))
    # What is left is new. (An INSERT … WHERE NOT EXISTS would read the table while writing it: on a
    # first tally PostgreSQL plans for an empty table and scans it once per new row, seconds for a month.)
    db.session.execute(delete(_fresh_days).where(exists().where(same_day)))
    db.session.execute(insert(t).from_select(["campaign_id", "merchant_id", "day", *figures], select(_fresh_days)))


def _tally_days() -> None:
    c = _claims.c
    claims = (select(c.campaign_id, c.claimed_day.label("day"), c.claimed.label("claimed"), literal(0).label("expired"))
              .where(c.claimed_day.is_not(None)))
    expiries = (select(c.campaign_id, c.expired_day.label("day"), literal(0).label("claimed"),
                       c.expired.label("expired")).where(c.expired > 0))
    events = union_all(claims, expiries).subquery()
    query = (select(events.c.campaign_id, events.c.day, func.sum(events.c.claimed), func.sum(events.c.expired))
             .group_by(events.c.campaign_id, events.c.day))
    db.session.execute(insert(TallyDay.__table__).from_select(["campaign_id", "day", "claimed", "expired"], query))


def _tally_hours(hour_sums: Select) -> None:
    c = _claims.c
    zero = literal(0)
    claims = (select(c.campaign_id, c.claimed_hour.label("hour"), c.claimed.label("claimed"), zero.label("redeemed"),
                     zero.label("subsidy"), zero.label("bill")).where(c.claimed_hour.is_not(None)))
    sales = hour_sums.subquery()
    events = union_all(claims, select(sales.c.campaign_id, sales.c.hour, zero, sales.c.redeemed, sales.c.subsidy,
                                      sales.c.bill)).subquery()
    query = (select(events.c.campaign_id, events.c.hour, func.sum(events.c.claimed), func.sum(events.c.redeemed),
                    func.sum(events.c.subsidy), func.sum(events.c.bill))
             .group_by(events.c.campaign_id, events.c.hour))
    db.session.execute(insert(TallyHour.__table__).from_select(
        ["campaign_id", "hour", "claimed", "redeemed", "subsidy_cents", "bill_cents"], query))


def _tally_campaigns(sql: _Dialect, now: dt.datetime) -> None:
    c = _claims.c
    # Every expired or revoked voucher had been claimed: the expiry sweep and revocation take claimed
    # vouchers only, and a refund expires a used one.
    vouchers = (select(c.campaign_id, func.sum(c.claimed).label("claimed"), func.sum(c.expired).label("expired"),
                       func.sum(c.revoked).label("revoked"))
                .group_by(c.campaign_id).subquery())
    t = TallyMerchantDay.__table__
    redemptions = (select(t.c.campaign_id, func.sum(t.c.redeemed).label("redeemed"),
                          func.sum(t.c.refunded).label("refunded"), func.sum(t.c.subsidy_cents).label("subsidy"),
                          func.sum(t.c.bill_cents).label("bill"),
                          func.count(func.distinct(case((t.c.redeemed > 0, t.c.merchant_id)))).label("merchants"))
                   .group_by(t.c.campaign_id).subquery())
    campaign = Campaign.__table__
    p = _profiles.c
    residents = (select(campaign.c.id.label("campaign_id"), func.sum(p.residents).label("residents"))
                 .select_from(campaign.join(_profiles, sql.contains(p.campaigns, campaign.c.id)))
                 .group_by(campaign.c.id).subquery())
    zero = literal(0)
    query = (select(campaign.c.id, func.coalesce(vouchers.c.claimed, zero),
                    func.coalesce(redemptions.c.redeemed, zero), func.coalesce(vouchers.c.expired, zero),
                    func.coalesce(vouchers.c.revoked, zero), func.coalesce(redemptions.c.refunded, zero),
                    func.coalesce(redemptions.c.subsidy, zero), func.coalesce(redemptions.c.bill, zero),
                    func.coalesce(redemptions.c.merchants, zero), func.coalesce(residents.c.residents, zero),
                    literal(now, TallyCampaign.tallied_at.type))
             .select_from(campaign.outerjoin(vouchers, vouchers.c.campaign_id == campaign.c.id)
                          .outerjoin(redemptions, redemptions.c.campaign_id == campaign.c.id)
                          .outerjoin(residents, residents.c.campaign_id == campaign.c.id))
             .where(campaign.c.status != CampaignStatus.draft.value))
    db.session.execute(insert(TallyCampaign.__table__).from_select(
        ["campaign_id", "claimed", "redeemed", "expired", "revoked", "refunded", "subsidy_cents", "bill_cents",
         "merchants", "residents", "tallied_at"], query))


def _tally_measures(sql: _Dialect, now: dt.datetime) -> None:
    cm = CampaignMeasure.__table__
    t = TallyMerchantDay.__table__
    merchants = (select(cm.c.measure_code, func.count(func.distinct(t.c.merchant_id)).label("merchants"))
                 .select_from(t.join(cm, cm.c.campaign_id == t.c.campaign_id)).where(t.c.redeemed > 0)
                 .group_by(cm.c.measure_code).subquery())
    # A resident counts once for a measure however many of its campaigns they claimed in.
    p = _profiles.c
    reached = (select(cm.c.measure_code, p.campaigns, p.residents)
               .select_from(_profiles.join(cm, sql.contains(p.campaigns, cm.c.campaign_id))).distinct().subquery())
    residents = (select(reached.c.measure_code, func.sum(reached.c.residents).label("residents"))
                 .group_by(reached.c.measure_code).subquery())
    codes = select(cm.c.measure_code).distinct().subquery()
    query = (select(codes.c.measure_code, func.coalesce(merchants.c.merchants, 0),
                    func.coalesce(residents.c.residents, 0), literal(now, TallyMeasure.tallied_at.type))
             .select_from(codes.outerjoin(merchants, merchants.c.measure_code == codes.c.measure_code)
                          .outerjoin(residents, residents.c.measure_code == codes.c.measure_code)))
    db.session.execute(insert(TallyMeasure.__table__).from_select(
        ["measure_code", "merchants", "residents", "tallied_at"], query))
