"""The ``tally`` job: rebuild the report aggregates from vouchers and redemptions.

A full rebuild rather than an increment: refunds and expiries change figures of earlier days, and
a rebuild is idempotent by nature — running it late, twice or after downtime gives the same rows.
It is a handful of ``INSERT … SELECT … GROUP BY`` statements that run inside the database (no row
crosses into Python), in one transaction, so a report never sees half a tally.

Days and hours are the city's: PostgreSQL converts with the zone itself; SQLite, which has no time
zones, adds the zone's UTC offset (fixed for every Chinese city — a zone with daylight saving would
need PostgreSQL for exact hour-of-day figures around the change).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, case, cast, delete, extract, func, insert, literal, select, union_all

from campaigns.models import Campaign, CampaignMeasure, CampaignStatus

from ..clock import city_zone
from ..database import write_transaction
from ..extensions import db
from ..redemptions.models import Redemption
from ..vouchers.models import Voucher, VoucherStatus
from .models import TallyCampaign, TallyDay, TallyHour, TallyMeasure, TallyMerchantDay

_v = Voucher.__table__
_r = Redemption.__table__


class _CityTime:
    """SQL for "the city's date / hour of this UTC timestamp" in the session's dialect."""

    def __init__(self, dialect: str, now: dt.datetime):
        self.dialect = dialect
        zone = city_zone()
        self.zone = zone.key
        offset = now.astimezone(zone).utcoffset() or dt.timedelta(0)
        self.modifier = f"{int(offset.total_seconds() // 60):+d} minutes"

    def date(self, column):
        if self.dialect == "postgresql":
            return cast(func.timezone(self.zone, column), Date)
        return func.date(column, self.modifier)

    def hour(self, column):
        if self.dialect == "postgresql":
            return cast(extract("hour", func.timezone(self.zone, column)), Integer)
        return cast(func.strftime("%H", column, self.modifier), Integer)


def _when(condition, value=1):
    return case((condition, value), else_=0)


def tally(now: dt.datetime) -> dict[str, int]:
    """Rebuild every aggregate; returns how many campaigns and redemption rows were tallied."""
    with write_transaction():
        city = _CityTime(db.session.get_bind().dialect.name, now)
        for model in (TallyMeasure, TallyCampaign, TallyHour, TallyDay, TallyMerchantDay):
            db.session.execute(delete(model))
        _tally_merchant_days(city)
        _tally_days(city)
        _tally_hours(city)
        campaigns = _tally_campaigns(now)
        _tally_measures(now)
        rows = db.session.scalar(select(func.count()).select_from(TallyMerchantDay))
    return {"campaigns": campaigns, "merchant_days": rows}


def _tally_merchant_days(city: _CityTime) -> None:
    in_force = _r.c.refunded_at.is_(None)
    day = city.date(_r.c.redeemed_at)
    query = (select(_r.c.campaign_id, _r.c.merchant_id, day.label("day"),
                    func.sum(_when(in_force)), func.sum(_when(~in_force)),
                    func.sum(_when(in_force, _r.c.discount_cents)), func.sum(_when(in_force, _r.c.bill_cents)))
             .group_by(_r.c.campaign_id, _r.c.merchant_id, day))
    db.session.execute(insert(TallyMerchantDay).from_select(
        ["campaign_id", "merchant_id", "day", "redeemed", "refunded", "subsidy_cents", "bill_cents"], query))


def _tally_days(city: _CityTime) -> None:
    claims = select(_v.c.campaign_id, city.date(_v.c.claimed_at).label("day"), literal(1).label("claimed"),
                    literal(0).label("expired")).where(_v.c.claimed_at.is_not(None))
    expiries = select(_v.c.campaign_id, city.date(_v.c.expired_at).label("day"), literal(0).label("claimed"),
                      literal(1).label("expired")).where(_v.c.status == VoucherStatus.expired.value)
    events = union_all(claims, expiries).subquery()
    query = (select(events.c.campaign_id, events.c.day, func.sum(events.c.claimed), func.sum(events.c.expired))
             .group_by(events.c.campaign_id, events.c.day))
    db.session.execute(insert(TallyDay).from_select(["campaign_id", "day", "claimed", "expired"], query))


def _tally_hours(city: _CityTime) -> None:
    in_force = _r.c.refunded_at.is_(None)
    claims = select(_v.c.campaign_id, city.hour(_v.c.claimed_at).label("hour"), literal(1).label("claimed"),
                    literal(0).label("redeemed"), literal(0).label("subsidy"), literal(0).label("bill")
                    ).where(_v.c.claimed_at.is_not(None))
    redemptions = select(_r.c.campaign_id, city.hour(_r.c.redeemed_at).label("hour"), literal(0).label("claimed"),
                         _when(in_force).label("redeemed"), _when(in_force, _r.c.discount_cents).label("subsidy"),
                         _when(in_force, _r.c.bill_cents).label("bill"))
    events = union_all(claims, redemptions).subquery()
    query = (select(events.c.campaign_id, events.c.hour, func.sum(events.c.claimed), func.sum(events.c.redeemed),
                    func.sum(events.c.subsidy), func.sum(events.c.bill))
             .group_by(events.c.campaign_id, events.c.hour))
    db.session.execute(insert(TallyHour).from_select(
        ["campaign_id", "hour", "claimed", "redeemed", "subsidy_cents", "bill_cents"], query))


def _tally_campaigns(now: dt.datetime) -> int:
    status = _v.c.status
    vouchers = (select(_v.c.campaign_id,
                       func.count(_v.c.claimed_at).label("claimed"),
                       func.sum(_when(status == VoucherStatus.expired.value)).label("expired"),
                       func.sum(_when(status == VoucherStatus.revoked.value)).label("revoked"),
                       func.count(func.distinct(_v.c.resident_id)).label("residents"))
                .where(_v.c.claimed_at.is_not(None)).group_by(_v.c.campaign_id).subquery())
    t = TallyMerchantDay.__table__
    redemptions = (select(t.c.campaign_id, func.sum(t.c.redeemed).label("redeemed"),
                          func.sum(t.c.refunded).label("refunded"), func.sum(t.c.subsidy_cents).label("subsidy"),
                          func.sum(t.c.bill_cents).label("bill"),
                          func.count(func.distinct(case((t.c.redeemed > 0, t.c.merchant_id)))).label("merchants"))
                   .group_by(t.c.campaign_id).subquery())
    c = Campaign.__table__
    zero = literal(0)
    query = (select(c.c.id, func.coalesce(vouchers.c.claimed, zero), func.coalesce(redemptions.c.redeemed, zero),
                    func.coalesce(vouchers.c.expired, zero), func.coalesce(vouchers.c.revoked, zero),
                    func.coalesce(redemptions.c.refunded, zero), func.coalesce(redemptions.c.subsidy, zero),
                    func.coalesce(redemptions.c.bill, zero), func.coalesce(redemptions.c.merchants, zero),
                    func.coalesce(vouchers.c.residents, zero), literal(now, TallyCampaign.tallied_at.type))
             .select_from(c.outerjoin(vouchers, vouchers.c.campaign_id == c.c.id)
                          .outerjoin(redemptions, redemptions.c.campaign_id == c.c.id))
             .where(c.c.status != CampaignStatus.draft.value))
    return db.session.execute(insert(TallyCampaign).from_select(
        ["campaign_id", "claimed", "redeemed", "expired", "revoked", "refunded", "subsidy_cents", "bill_cents",
         "merchants", "residents", "tallied_at"], query)).rowcount


def _tally_measures(now: dt.datetime) -> None:
    cm = CampaignMeasure.__table__
    t = TallyMerchantDay.__table__
    merchants = (select(cm.c.measure_code, func.count(func.distinct(t.c.merchant_id)).label("merchants"))
                 .select_from(t.join(cm, cm.c.campaign_id == t.c.campaign_id)).where(t.c.redeemed > 0)
                 .group_by(cm.c.measure_code).subquery())
    residents = (select(cm.c.measure_code, func.count(func.distinct(_v.c.resident_id)).label("residents"))
                 .select_from(_v.join(cm, cm.c.campaign_id == _v.c.campaign_id)).where(_v.c.claimed_at.is_not(None))
                 .group_by(cm.c.measure_code).subquery())
    codes = select(cm.c.measure_code).distinct().subquery()
    query = (select(codes.c.measure_code, func.coalesce(merchants.c.merchants, 0),
                    func.coalesce(residents.c.residents, 0), literal(now, TallyMeasure.tallied_at.type))
             .select_from(codes.outerjoin(merchants, merchants.c.measure_code == codes.c.measure_code)
                          .outerjoin(residents, residents.c.measure_code == codes.c.measure_code)))
    db.session.execute(insert(TallyMeasure).from_select(["measure_code", "merchants", "residents", "tallied_at"],
                                                        query))
