"""The city's plan as data (districts, actions, measures, targets) and the campaigns that fund it.

The plan is loaded from the city's data file (``voucher city load``); nothing here is specific to one city.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher_app.core.database import UTCDateTime, enum_column, new_id
from voucher_app.core.extensions import db


class District(db.Model):
    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    gb_code: Mapped[str | None] = mapped_column(String(12))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Action(db.Model):
    """One of the plan's actions (行动), grouping its measures."""

    __tablename__ = "actions"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)

    measures: Mapped[list["Measure"]] = relationship(back_populates="action", order_by="Measure.position")


class Measure(db.Model):
    """An item of the plan (举措); every campaign funds one or more."""

    __tablename__ = "measures"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    action_code: Mapped[str] = mapped_column(ForeignKey("actions.code"))
    item: Mapped[str | None] = mapped_column(String(32))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300))
    lead: Mapped[str | None] = mapped_column(String(200))
    campaign_kinds: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    targets: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    action: Mapped[Action] = relationship(back_populates="measures")


class PlanTarget(db.Model):
    """A city-wide target of the plan, such as total retail sales by 2022."""

    __tablename__ = "plan_targets"

    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300))
    at_least_cents: Mapped[int | None] = mapped_column(BigInteger)
    by: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CitySetting(db.Model):
    """Facts about the city itself (name, plan period, source), one row per key."""

    __tablename__ = "city_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict | list | str | None] = mapped_column(JSON)


# Campaigns -----------------------------------------------------------------------------------------

class CampaignKind(str, enum.Enum):
    night_economy = "night_economy"
    holiday = "holiday"
    tourism = "tourism"
    auto = "auto"
    general = "general"
    health = "health"
    sports = "sports"
    fashion = "fashion"
    information = "information"
    rural = "rural"


class CampaignStatus(str, enum.Enum):
    draft = "draft"
    scheduled = "scheduled"
    open = "open"
    closed = "closed"
    cancelled = "cancelled"
    settled = "settled"


MERCHANT_CATEGORIES = ("catering", "retail", "supermarket", "appliances", "auto", "accommodation", "tourism",
                       "entertainment", "health", "sports", "agriculture", "other")


class CampaignMeasure(db.Model):
    """A measure of the plan that a campaign funds.

    No foreign key to ``measures``: a draft may name a code the plan lacks, and publishing refuses it.
    """

    __tablename__ = "campaign_measures"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    measure_code: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Campaign(db.Model):
    """A voucher campaign funding one or more of the plan's measures.

    ``status`` is what was last recorded; what users meet follows the clock (see ``lifecycle``).
    """

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("budget_cents >= 0", name="budget_not_negative"),
        CheckConstraint("limit_per_resident >= 1 AND limit_per_round >= 1", name="limits_positive"),
        CheckConstraint("valid_days >= 1", name="valid_days_positive"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[CampaignKind] = mapped_column(enum_column(CampaignKind, "campaign_kind"))
    status: Mapped[CampaignStatus] = mapped_column(enum_column(CampaignStatus, "campaign_status"), index=True)
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    merchant_categories: Mapped[list] = mapped_column(JSON, default=list)  # empty = every category
    districts: Mapped[list] = mapped_column(JSON, default=list)  # empty = every district
    limit_per_resident: Mapped[int] = mapped_column(Integer)
    limit_per_round: Mapped[int] = mapped_column(Integer)
    valid_days: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[str | None] = mapped_column(String(5))  # "18:00", city time
    valid_to: Mapped[str | None] = mapped_column(String(5))  # "02:00"; before valid_from = crosses midnight
    valid_weekdays: Mapped[list | None] = mapped_column(JSON)  # ISO weekdays; None = every day
    recycle_expired: Mapped[bool] = mapped_column(Boolean, default=False)
    # How a round's vouchers go to residents: first come, first served, or a lottery among entries.
    allocation: Mapped[str] = mapped_column(String(8), default="fcfs", server_default="fcfs")
    resident_districts: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # empty = all
    requires_profile: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    limit_per_day: Mapped[int | None] = mapped_column(Integer)  # claims per person per city day
    limit_per_merchant_day: Mapped[int | None] = mapped_column(Integer)  # sales per person per shop per city day
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # recorded by the scheduler
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    measure_links: Mapped[list[CampaignMeasure]] = relationship(order_by=CampaignMeasure.position,
                                                                 cascade="all, delete-orphan")
    tiers: Mapped[list["Tier"]] = relationship(back_populates="campaign", order_by="Tier.position",
                                               cascade="all, delete-orphan")
    rounds: Mapped[list["Round"]] = relationship(back_populates="campaign", order_by="Round.position",
                                                 cascade="all, delete-orphan")

    @property
    def measure_codes(self) -> list[str]:
        return [link.measure_code for link in self.measure_links]


class Tier(db.Model):
    """A kind of voucher in a campaign: 满X减Y (threshold 0 = plain face value), or ``percent`` off the
    bill up to ``cap_cents`` (then ``discount_cents`` is the cap: the most one voucher can be worth,
    which the ledger reserves); and how many in all, part of which may be ``reserved`` for a group
    until a time: ``[{"group": "elderly", "quantity": 50, "until": "<iso>"}]``."""

    __tablename__ = "tiers"
    __table_args__ = (
        CheckConstraint("threshold_cents >= 0 AND discount_cents > 0 AND quantity >= 0", name="amounts_valid"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    threshold_cents: Mapped[int] = mapped_column(BigInteger)
    discount_cents: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    percent: Mapped[int | None] = mapped_column(Integer)
    cap_cents: Mapped[int | None] = mapped_column(BigInteger)
    reserved: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")

    campaign: Mapped[Campaign] = relationship(back_populates="tiers")


class Round(db.Model):
    """A release (场次): at ``release_at`` the listed quantity of each tier becomes claimable."""

    __tablename__ = "rounds"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    release_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Recorded by the scheduler's ``open_rounds`` sweep (as ``release_at``, however late it ran);
    # claiming never waits for it: a round is claimable from ``release_at`` on.
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Vouchers added by recycling expired ones (``Campaign.recycle_expired``), per the whole round.
    recycled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A lottery round (``Campaign.allocation == "lottery"``): residents enter in the window, the draw at
    # ``draw_at`` (= ``release_at``) gives the vouchers to the winners. ``seed`` is secret until the draw;
    # its SHA-256 (``commitment``) is public from the window's opening, the digest of the entries from
    # its closing (see voucher_app/lottery).
    entry_opens_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    entry_closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    draw_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    seed: Mapped[str | None] = mapped_column(String(64))
    commitment: Mapped[str | None] = mapped_column(String(64))
    entries_digest: Mapped[str | None] = mapped_column(String(64))
    entry_count: Mapped[int | None] = mapped_column(Integer)
    drawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship(back_populates="rounds")
    allocations: Mapped[list["RoundAllocation"]] = relationship(back_populates="round",
                                                                cascade="all, delete-orphan")

    def quantity_of(self, tier_id: str) -> int:
        return next((a.quantity for a in self.allocations if a.tier_id == tier_id), 0)


class RoundAllocation(db.Model):
    """How many vouchers of one tier a round releases."""

    __tablename__ = "round_allocations"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_not_negative"),)

    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    tier_id: Mapped[str] = mapped_column(ForeignKey("tiers.id", ondelete="CASCADE"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)

    round: Mapped[Round] = relationship(back_populates="allocations")
    # Tells the unit of work that allocations go before their tier, so replacing a draft's tiers and
    # rounds deletes the allocations itself instead of finding them already gone by the tiers' cascade.
    tier: Mapped[Tier] = relationship()
