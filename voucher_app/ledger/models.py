"""Ledger entries: every movement of subsidy money is one row moving an amount between two accounts
of one campaign. Rows are only ever inserted, never updated, so the ledger has no hot row either.

Accounts: ``budget`` (the bureau's allocation, the source), ``available``, ``reserved`` (claimed
vouchers), ``payable`` (redeemed, owed to merchants), ``settled`` (paid out). A campaign balances when
its budget equals available + reserved + payable + settled.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.database import UTCDateTime, enum_column, new_id
from voucher_app.core.extensions import db


class Account(str, enum.Enum):
    budget = "budget"
    available = "available"
    reserved = "reserved"
    payable = "payable"
    settled = "settled"


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("from_account <> to_account", name="moves_between_accounts"),
        Index("ix_ledger_entries_campaign_id", "campaign_id", "from_account", "to_account"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    voucher_id: Mapped[str | None] = mapped_column(ForeignKey("vouchers.id"), index=True)
    from_account: Mapped[Account] = mapped_column(enum_column(Account, "from_account", length=16))
    to_account: Mapped[Account] = mapped_column(enum_column(Account, "to_account", length=16))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))  # "fund", "claim", "redeem", "unused" (the part of a voucher a smaller bill left), "refund", "expire", "settle", "clawback"
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
