"""Settlement statements: what the bureau owes one merchant for one city day, line by campaign."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher_app.core.database import UTCDateTime, enum_column, new_id
from voucher_app.core.extensions import db


class StatementStatus(str, enum.Enum):
    settled = "settled"  # the amount is paid out (ledger: payable → settled)
    held = "held"  # the merchant was suspended, or an open fraud flag holds it (``hold_reason``); paid once released


class SettlementStatement(db.Model):
    """What the bureau owes one merchant for one city day (结算单).

    Every redemption counts on the day it was made and every refund and clawback on the day it was
    made, so each event is counted exactly once, however late the refund: ``net_cents`` (sales less
    refunds less clawbacks) may be negative on a day with more refunds or clawbacks than sales, and is
    then deducted from the merchant's next payment. ``hold_reason`` says why a held one is held, in
    words of no language (``schemas.hold_reason_value``).
    """

    __tablename__ = "settlement_statements"
    __table_args__ = (UniqueConstraint("merchant_id", "day", name="uq_settlement_statements_merchant_day"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    redemptions: Mapped[int] = mapped_column(Integer)
    bill_cents: Mapped[int] = mapped_column(BigInteger)
    redeemed_cents: Mapped[int] = mapped_column(BigInteger)  # Σ discounts of the day's redemptions
    refunds: Mapped[int] = mapped_column(Integer)
    refunded_cents: Mapped[int] = mapped_column(BigInteger)  # Σ discounts of the day's refunds
    clawbacks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    clawed_back_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # Σ subsidy taken back that day
    net_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[StatementStatus] = mapped_column(enum_column(StatementStatus, "statement_status"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    hold_reason: Mapped[str | None] = mapped_column(Text)

    lines: Mapped[list["SettlementLine"]] = relationship(order_by="SettlementLine.campaign_id",
                                                         cascade="all, delete-orphan")


class SettlementLine(db.Model):
    """One campaign's part of a statement: the ledger moves money per campaign."""

    __tablename__ = "settlement_lines"

    statement_id: Mapped[str] = mapped_column(ForeignKey("settlement_statements.id", ondelete="CASCADE"),
                                              primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True, index=True)
    redemptions: Mapped[int] = mapped_column(Integer)
    bill_cents: Mapped[int] = mapped_column(BigInteger)
    redeemed_cents: Mapped[int] = mapped_column(BigInteger)
    refunds: Mapped[int] = mapped_column(Integer)
    refunded_cents: Mapped[int] = mapped_column(BigInteger)
    clawbacks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    clawed_back_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    net_cents: Mapped[int] = mapped_column(BigInteger)
