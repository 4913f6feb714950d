"""People who use the platform, the SMS codes they sign in with, and the development outbox."""
from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, false
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
        # A resident signs in by phone, unless a community worker registered them (no smartphone).
        CheckConstraint("role <> 'resident' OR phone IS NOT NULL OR registered_by IS NOT NULL",
                        name="resident_has_phone"),
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
    # A cashier may refund only when the shop's owner allows it (owners always may).
    refunds_allowed: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A second factor (accounts/totp.py): the secret, encrypted; on once confirmed; the last step used.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # A resident's profile (accounts/profile.py): district of residence, birth year, and the ID number
    # (身份证号) as a keyed hash only. ``person_id`` names the person whose limits this account shares:
    # another resident's account that bound the same ID number first; None = the account itself.
    # A community worker's district is the one they serve.
    district: Mapped[str | None] = mapped_column(String(32))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    person_id: Mapped[str | None] = mapped_column(String(26))
    low_income: Mapped[bool] = mapped_column(default=False, server_default=false())  # set by the bureau
    # A resident a community worker registered (no smartphone needed): who, and when they consented.
    registered_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_utcnow, onupdate=_utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    # The web sign-in (``sign_ins``) this user object came with; not a column.
    sign_in_id = None

    def get_id(self) -> str | None:
        """What Flask-Login keeps in the session and the remember-me cookie: the web sign-in's id,
        not the user's, so that signing out or a revocation ends exactly that session, copies of
        the cookie included."""
        return self.sign_in_id

    @property
    def person(self) -> str:
        """Whose limits this account counts against (the same ID number = the same person)."""
        return self.person_id or self.id

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


class SignIn(db.Model):
    """One bearer token or one web session, so that it can be revoked before it expires: by signing
    out, by disabling the account or suspending its shop, or by idling (staff). Its id is the random
    part of the token or session (which the server signs as well)."""

    __tablename__ = "sign_ins"
    __table_args__ = (Index("ix_sign_ins_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "api" (a bearer token) or "web" (a session cookie)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Where it was made from, for the fraud rule that sees many residents behind one device or address:
    # the client's address and a keyed hash of its device id (a cookie, or the app's X-Device-Id).
    address: Mapped[str | None] = mapped_column(String(45))
    device: Mapped[str | None] = mapped_column(String(64))


class SignInFailure(db.Model):
    """Wrong passwords in a row for one username — any username typed, whether or not an account
    has it, so that the answers cannot tell which exist."""

    __tablename__ = "sign_in_failures"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator (a lost phone); only its keyed hash."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class GroupMember(db.Model):
    """A person the bureau put in a group reserved quotas can be kept for (``low_income``), by the keyed
    hash of their ID number: it holds for every account that binds that number, now or later."""

    __tablename__ = "group_members"

    group: Mapped[str] = mapped_column(String(16), primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    set_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
