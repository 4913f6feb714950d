"""Merchants (商户), and their enrolments (报名) in campaigns."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher_app.core.database import UTCDateTime, enum_column, new_id
from voucher_app.core.extensions import db


class MerchantStatus(str, enum.Enum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    suspended = "suspended"


class EnrolmentStatus(str, enum.Enum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class Merchant(db.Model):
    """A shop that accepts vouchers once the bureau has approved it.

    Its owner and cashiers are ``users`` rows whose ``merchant_id`` points here.
    """

    __tablename__ = "merchants"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    category: Mapped[str] = mapped_column(String(32), index=True)
    district: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    address: Mapped[str] = mapped_column(String(300))
    contact_phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[MerchantStatus] = mapped_column(enum_column(MerchantStatus, "merchant_status"), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Credit (M21): the trusted-merchant badge (放心舒心消费示范单位) while granted, and whether the
    # current suspension is a public one (joint punishment for fraud, shown on the public list).
    opening_hours: Mapped[str | None] = mapped_column(String(64))  # "09:00-22:00", spans by commas; may cross midnight
    badge_granted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    suspended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    suspension_public: Mapped[bool] = mapped_column(default=False, server_default=false())

    enrolments: Mapped[list["Enrolment"]] = relationship(back_populates="merchant")


class Enrolment(db.Model):
    """A merchant's application to take part in a campaign; the bureau approves or rejects it."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("campaign_id", "merchant_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    status: Mapped[EnrolmentStatus] = mapped_column(enum_column(EnrolmentStatus, "enrolment_status"), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    applied_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))

    merchant: Mapped[Merchant] = relationship(back_populates="enrolments")
    campaign = relationship("Campaign")


class MerchantEvent(db.Model):
    """One event of a shop's credit record (商户信用记录): approved, complaint upheld, flag confirmed,
    suspended, reinstated, badge granted or withdrawn. Only ever appended; the credit score is
    computed from these rows."""

    __tablename__ = "merchant_events"
    __table_args__ = (Index("ix_merchant_events_merchant_at", "merchant_id", "at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ref_type: Mapped[str | None] = mapped_column(String(32))  # "complaint", "flag", …
    ref_id: Mapped[str | None] = mapped_column(String(26))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
