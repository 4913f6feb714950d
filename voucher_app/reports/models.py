"""The tally's aggregates. The ``tally`` job rebuilds them from vouchers and redemptions; reports
read only these, so a report over a million redemptions is a read of a few thousand rows.

Days and hours are the city's. Claims have no place (a resident belongs to no shop), so the place
breakdowns (district, category, merchant) are of redemptions.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.database import UTCDateTime
from voucher_app.core.extensions import db


class TallyMerchantDay(db.Model):
    """Redemptions of one campaign at one merchant on one day (the day the voucher was used)."""

    __tablename__ = "tally_merchant_days"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), primary_key=True, index=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    redeemed: Mapped[int] = mapped_column(Integer)  # in force now (refunded ones not counted)
    refunded: Mapped[int] = mapped_column(Integer)  # refund events
    subsidy_cents: Mapped[int] = mapped_column(BigInteger)
    bill_cents: Mapped[int] = mapped_column(BigInteger)


class TallyDay(db.Model):
    """Claims and expiries of one campaign on one day."""

    __tablename__ = "tally_days"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    claimed: Mapped[int] = mapped_column(Integer)
    expired: Mapped[int] = mapped_column(Integer)


class TallyHour(db.Model):
    """One campaign by hour of day (0–23, city time), over all its days."""

    __tablename__ = "tally_hours"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    claimed: Mapped[int] = mapped_column(Integer)
    redeemed: Mapped[int] = mapped_column(Integer)
    subsidy_cents: Mapped[int] = mapped_column(BigInteger)
    bill_cents: Mapped[int] = mapped_column(BigInteger)


class TallyCampaign(db.Model):
    """One campaign's totals, with the counts that do not add up across rows (distinct people)."""

    __tablename__ = "tally_campaigns"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    claimed: Mapped[int] = mapped_column(Integer)
    redeemed: Mapped[int] = mapped_column(Integer)
    expired: Mapped[int] = mapped_column(Integer)
    revoked: Mapped[int] = mapped_column(Integer)
    refunded: Mapped[int] = mapped_column(Integer)
    subsidy_cents: Mapped[int] = mapped_column(BigInteger)
    bill_cents: Mapped[int] = mapped_column(BigInteger)
    merchants: Mapped[int] = mapped_column(Integer)
    residents: Mapped[int] = mapped_column(Integer)
    tallied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class TallyMeasure(db.Model):
    """Distinct merchants and residents over all of a measure's campaigns."""

    __tablename__ = "tally_measures"

    measure_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    merchants: Mapped[int] = mapped_column(Integer)
    residents: Mapped[int] = mapped_column(Integer)
    tallied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
