"""Redemptions, and every attempt to redeem, accepted or refused (the bureau counts refusals by code)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.database import UTCDateTime, new_id
from voucher_app.core.extensions import db


class Redemption(db.Model):
    """A voucher used at a merchant against a bill. A full refund ends it (``refunded_at``), and the
    voucher may be used again while it is valid; so "at most once" means at most one redemption
    *in force* per voucher, which a partial unique index guarantees on both databases."""

    __tablename__ = "redemptions"
    __table_args__ = (
        Index("uq_redemptions_voucher_in_force", "voucher_id", unique=True,
              postgresql_where=text("refunded_at IS NULL"), sqlite_where=text("refunded_at IS NULL")),
        Index("ix_redemptions_merchant_day", "merchant_id", "redeemed_at"),
        Index("ix_redemptions_clawed_back", "merchant_id", "clawed_back_at",
              postgresql_where=text("clawed_back_at IS NOT NULL"), sqlite_where=text("clawed_back_at IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    voucher_id: Mapped[str] = mapped_column(ForeignKey("vouchers.id"))
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    cashier_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    bill_cents: Mapped[int] = mapped_column(BigInteger)
    discount_cents: Mapped[int] = mapped_column(BigInteger)
    payable_cents: Mapped[int] = mapped_column(BigInteger)
    redeemed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    refunded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    refunded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # A confirmed fraud flag took the subsidy back (its value returned to the campaign): like a refund,
    # a fact of the day it happened, deducted from the shop's statement of that day. Never refundable.
    clawed_back_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    clawback_flag_id: Mapped[str | None] = mapped_column(String(26))


_WRONG_CODE = "outcome = 'invalid_token' AND via = 'typed'"


def storable_bill(bill) -> int | None:
    """The bill an attempt records: a whole number the column holds, else none (the refusal says why)."""
    return bill if isinstance(bill, int) and not isinstance(bill, bool) and abs(bill) < 10**15 else None


class RedemptionAttempt(db.Model):
    """One scan at a till and how it ended: ``ok`` or the refusal's code.

    Every sale writes one, so it carries a single index beyond its key, and only over refusals (a
    few in a hundred scans): what the bureau counts by campaign and code. A sale's row touches
    nothing but the key."""

    __tablename__ = "redemption_attempts"
    __table_args__ = (Index("ix_redemption_attempts_refusals", "campaign_id", "outcome",
                            postgresql_where=text("outcome <> 'ok'"), sqlite_where=text("outcome <> 'ok'")),
                      # Wrong typed codes per voucher in the last minutes: the typed-entry lockout.
                      Index("ix_redemption_attempts_wrong_codes", "voucher_id", "at",
                            postgresql_where=text(_WRONG_CODE), sqlite_where=text(_WRONG_CODE)),
                      # … and per cashier in the last hour.
                      Index("ix_redemption_attempts_wrong_codes_by_cashier", "cashier_id", "at",
                            postgresql_where=text(_WRONG_CODE), sqlite_where=text(_WRONG_CODE)))

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("merchants.id"))
    cashier_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    voucher_id: Mapped[str | None] = mapped_column(String(26))
    campaign_id: Mapped[str | None] = mapped_column(String(26))
    bill_cents: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(32))
    via: Mapped[str] = mapped_column(String(8), server_default="qr")  # how the voucher was named: "qr", "printed", "typed"
    action: Mapped[str] = mapped_column(String(8), server_default="redeem")  # "redeem", or "check" (a look)
    redemption_id: Mapped[str | None] = mapped_column(String(26))
