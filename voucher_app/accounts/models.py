"""People who use the platform, the SMS codes they sign in with, and the development outbox."""
from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.database import UTCDateTime, enum_column, new_id
from voucher_app.core.extensions import db
from voucher_app.core.phones import mask_phone
from voucher_app.core.roles import Role


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class User(UserMixin, db.Model):
    """A resident (known by phone) or a staff member (known by username and password)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role <> 'resident' OR phone IS NOT NULL", name="resident_has_phone"),
        CheckConstraint("role = 'resident' OR (username IS NOT NULL AND password_hash IS NOT NULL)",
                        name="staff_has_credentials"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    phone: Mapped[str | None] = mapped_column(String(11), unique=True)
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(100))
    # Set when a merchant's owner or cashier account is made; the merchants package owns the table.
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_utcnow, onupdate=_utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def get_id(self) -> str:
        return self.id

    @property
    def masked_phone(self) -> str | None:
        return mask_phone(self.phone) if self.phone else None

    def __repr__(self) -> str:  # never the phone: reprs end up in logs
        return f"<User {self.id} {self.role.value}>"


class OtpCode(db.Model):
    """A one-time sign-in code sent by SMS; only its keyed hash is stored."""

    __tablename__ = "otp_codes"
    __table_args__ = (Index("ix_otp_codes_phone_created_at", "phone", "created_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    phone: Mapped[str] = mapped_column(String(11))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(db.Model):
    """An SMS the development sender "sent": kept in the database so every worker sees it."""

    __tablename__ = "sms_outbox"
    __table_args__ = (Index("ix_sms_outbox_phone_sent_at", "phone", "sent_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    phone: Mapped[str] = mapped_column(String(11))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
