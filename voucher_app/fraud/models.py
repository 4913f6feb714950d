"""Fraud rules (data the bureau tunes) and the flags their hits open."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.database import UTCDateTime, enum_column, new_id
from voucher_app.core.extensions import db


class FlagStatus(str, enum.Enum):
    open = "open"
    cleared = "cleared"  # an officer looked and found nothing wrong
    confirmed = "confirmed"  # fraud: the named redemptions' subsidy is clawed back


class FraudRule(db.Model):
    """One rule's switch and thresholds. Rows, not constants, so the bureau tunes them (audited)."""

    __tablename__ = "fraud_rules"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    params: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class Flag(db.Model):
    """A rule's hit on one shop: what it saw (``explanation`` holds the figures the sentence is built
    from, in the reader's language), the redemptions it saw it in, and the officer's decision. A
    shop has at most one open flag per rule: a new hit updates it."""

    __tablename__ = "flags"
    __table_args__ = (
        Index("uq_flags_open_rule_merchant", "rule", "merchant_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_flags_status_score", "status", "score"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    rule: Mapped[str] = mapped_column(String(32))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)  # 0–100
    explanation: Mapped[dict] = mapped_column(JSON)
    redemption_ids: Mapped[list] = mapped_column(JSON)
    status: Mapped[FlagStatus] = mapped_column(enum_column(FlagStatus, "flag_status", length=12),
                                               default=FlagStatus.open)
    hits: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
