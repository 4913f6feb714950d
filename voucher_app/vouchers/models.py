"""Vouchers (券). Every voucher a campaign can ever issue exists as a row from the moment the
campaign is published ("pre-minted"), so a claim takes an existing row instead of incrementing a
shared counter: concurrent claims lock different rows and never queue on one hot row.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.database import UTCDateTime, enum_column
from voucher_app.core.extensions import db


class VoucherStatus(str, enum.Enum):
    available = "available"  # minted, not yet claimed
    claimed = "claimed"
    redeemed = "redeemed"
    expired = "expired"
    revoked = "revoked"


class Voucher(db.Model):
    __tablename__ = "vouchers"
    __table_args__ = (
        # At most ``limit_per_resident`` per campaign and ``limit_per_round`` per round: each claim
        # takes the next numbered slot, and these constraints make a slot impossible to take twice.
        # Counted per person (``User.person``: accounts sharing an ID number are one person).
        UniqueConstraint("campaign_id", "person_id", "resident_slot"),
        UniqueConstraint("claim_round_id", "person_id", "round_slot"),
        # The claim path's only search: the first unclaimed, released voucher of a tier in a pool
        # ('' the general one, else a group's reserved quota).
        Index("ix_vouchers_available", "tier_id", "pool", "release_at", "id",
              postgresql_where=text("status = 'available'"), sqlite_where=text("status = 'available'")),
        Index("ix_vouchers_resident", "resident_id", "campaign_id"),
        Index("ix_vouchers_tier_status", "tier_id", "status"),
        # The expiry sweep's only search: claimed vouchers by expiry.
        Index("ix_vouchers_claimed_expiry", "expires_at",
              postgresql_where=text("status = 'claimed'"), sqlite_where=text("status = 'claimed'")),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    # The id's last ten characters: what a cashier without a camera types (with four rotating digits).
    short_code: Mapped[str] = mapped_column(String(10), index=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    tier_id: Mapped[str] = mapped_column(ForeignKey("tiers.id", ondelete="CASCADE"))
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))  # the round that released it
    release_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    threshold_cents: Mapped[int] = mapped_column(BigInteger)
    discount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[VoucherStatus] = mapped_column(enum_column(VoucherStatus, "voucher_status"))
    resident_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    person_id: Mapped[str | None] = mapped_column(String(26))  # whose limits it counts against
    claim_round_id: Mapped[str | None] = mapped_column(ForeignKey("rounds.id"))  # the round it was claimed in
    resident_slot: Mapped[int | None] = mapped_column(Integer)
    round_slot: Mapped[int | None] = mapped_column(Integer)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    expired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A reserved quota's voucher: only the group may take it until ``pool_until``, then anyone.
    pool: Mapped[str] = mapped_column(String(16), default="", server_default="")
    pool_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    percent: Mapped[int | None] = mapped_column(Integer)  # a percent tier's; ``discount_cents`` is then the cap
    # Printed vouchers (printing.py): a printed token carries the generation it was printed with;
    # revoking or reprinting moves it on, so an older sheet is refused. 0 = never printed.
    print_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The community worker who claimed it for a resident without a smartphone (may print it).
    proxy_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
