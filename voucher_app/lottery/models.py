"""Entries in a lottery round: one per person per round, won or lost at the draw."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.database import UTCDateTime, enum_column
from voucher_app.core.extensions import db


class EntryStatus(str, enum.Enum):
    entered = "entered"
    won = "won"
    lost = "lost"


class Entry(db.Model):
    """A person's entry in a round, for one tier. ``pool`` is the reserved quota's group the person
    belonged to when entering ('' = none): the draw fills that quota from its group first."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("round_id", "person_id"),  # one entry per person per round, however many phones
        Index("ix_entries_resident", "resident_id", "created_at"),
        Index("ix_entries_person", "person_id", "campaign_id"),  # a person's entries awaiting a draw
        Index("ix_entries_round_tier", "round_id", "tier_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    tier_id: Mapped[str] = mapped_column(ForeignKey("tiers.id", ondelete="CASCADE"))
    resident_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    person_id: Mapped[str] = mapped_column(String(26))
    pool: Mapped[str] = mapped_column(String(16), default="", server_default="")
    status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus, "entry_status", length=8),
                                                default=EntryStatus.entered)
    voucher_id: Mapped[str | None] = mapped_column(ForeignKey("vouchers.id"))
    proxy_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))  # a community worker entered it
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    drawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
