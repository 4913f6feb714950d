"""Complaints about shops, and residents' requests to have a redemption refunded (七日无理由退货)."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.database import UTCDateTime, enum_column, new_id
from voucher_app.core.extensions import db


class ComplaintKind(str, enum.Enum):
    refused_voucher = "refused_voucher"
    surcharge = "surcharge"
    minimum_spend = "minimum_spend"
    quality = "quality"
    other = "other"
    return_unanswered = "return_unanswered"  # opened by the platform: a return request the shop left unanswered


class ComplaintStatus(str, enum.Enum):
    open = "open"
    upheld = "upheld"
    rejected = "rejected"


class ReturnStatus(str, enum.Enum):
    pending = "pending"
    accepted = "accepted"  # the shop refunded the redemption
    declined = "declined"
    escalated = "escalated"  # unanswered by its due date: now a complaint


class Complaint(db.Model):
    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_merchant_created", "merchant_id", "created_at"),
        Index("ix_complaints_status_due", "status", "due_at"),
        Index("ix_complaints_resident_created", "resident_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    resident_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    kind: Mapped[ComplaintKind] = mapped_column(enum_column(ComplaintKind, "complaint_kind", length=20))
    text: Mapped[str] = mapped_column(Text)
    redemption_id: Mapped[str | None] = mapped_column(ForeignKey("redemptions.id"))
    return_request_id: Mapped[str | None] = mapped_column(String(26))
    status: Mapped[ComplaintStatus] = mapped_column(enum_column(ComplaintStatus, "complaint_status", length=12),
                                                    default=ComplaintStatus.open)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    assigned_to: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reply_text: Mapped[str | None] = mapped_column(Text)  # the shop owner's one reply
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    replied_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decision_text: Mapped[str | None] = mapped_column(Text)  # the bureau's answer to the resident
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class ReturnRequest(db.Model):
    """A resident asks the shop to refund one of their redemptions within the refund window."""

    __tablename__ = "return_requests"
    __table_args__ = (
        Index("uq_return_requests_pending", "redemption_id", unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
        Index("ix_return_requests_status_due", "status", "due_at"),
        Index("ix_return_requests_merchant_created", "merchant_id", "created_at"),
        Index("ix_return_requests_resident_created", "resident_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    redemption_id: Mapped[str] = mapped_column(ForeignKey("redemptions.id"))
    resident_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ReturnStatus] = mapped_column(enum_column(ReturnStatus, "return_status", length=12),
                                                 default=ReturnStatus.pending)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    answer_text: Mapped[str | None] = mapped_column(Text)
    complaint_id: Mapped[str | None] = mapped_column(ForeignKey("complaints.id"))
