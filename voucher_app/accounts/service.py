"""Sign-in services: SMS codes for residents, passwords for staff, bearer tokens for the API."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import bindparam, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from voucher_app.accounts.models import OtpCode, User
from voucher_app.accounts.sms import sms_sender
from voucher_app.core.cache import Kept
from voucher_app.core.clock import now as clock_now
from voucher_app.core.database import write_transaction
from voucher_app.core.errors import (
    Conflict,
    InvalidCredentials,
    OtpExpired,
    OtpInvalid,
    OtpLocked,
    OtpUsed,
    ValidationError,
)
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import Prepared, hot
from voucher_app.core.roles import Role

MIN_PASSWORD_LENGTH = 8


def _code_hash(phone: str, code: str) -> str:
    """Keyed, so a leaked table of six-digit codes cannot be reversed by trying all million."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def request_otp(phone: str, now: dt.datetime) -> None:
    """Create a fresh sign-in code for ``phone`` and send it by SMS."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    ttl = current_app.config["OTP_TTL_SECONDS"]
    with write_transaction():
        db.session.add(OtpCode(phone=phone, code_hash=_code_hash(phone, code), created_at=now,
                               expires_at=now + dt.timedelta(seconds=ttl)))
    text = _("Your sign-in code is %(code)s. It is valid for %(minutes)d minutes. Do not share it with anyone.",
             code=code, minutes=ttl // 60)
    sms_sender().send(phone, text, now)


def sign_in_with_otp(phone: str, code: str, now: dt.datetime) -> User:
    """The resident with ``phone`` (created on first sign-in) if ``code`` is the newest code sent to it.

    Only the newest code counts; it works once, until it expires, and dies after
    ``OTP_MAX_ATTEMPTS`` wrong tries. Wrong tries are counted with an SQL increment, so parallel
    guesses cannot slip past the limit.
    """
    max_attempts = current_app.config["OTP_MAX_ATTEMPTS"]
    with write_transaction():
        otp = db.session.scalars(
            select(OtpCode).where(OtpCode.phone == phone).order_by(OtpCode.created_at.desc()).limit(1)
        ).first()
        if otp is None:
            raise OtpInvalid()
        if otp.attempts >= max_attempts:
            raise OtpLocked()
        if not hmac.compare_digest(otp.code_hash, _code_hash(phone, code)):
            wrong = db.session.execute(
                update(OtpCode).where(OtpCode.id == otp.id, OtpCode.used_at.is_(None))
                .values(attempts=OtpCode.attempts + 1)
            ).rowcount
            if wrong:
                db.session.commit()  # the wrong try must count even though we refuse
            raise OtpInvalid()
        if otp.used_at is not None:
            raise OtpUsed()
        if otp.expires_at <= now:
            raise OtpExpired()
        taken = db.session.execute(
            update(OtpCode).where(OtpCode.id == otp.id, OtpCode.used_at.is_(None),
                                  OtpCode.attempts < max_attempts).values(used_at=now)
        ).rowcount
        if not taken:
            raise OtpUsed()
        user = db.session.scalars(select(User).where(User.phone == phone)).first()
        if user is None:
            user = User(role=Role.resident, phone=phone, is_active=True)
            db.session.add(user)
        if not user.is_active:
            raise InvalidCredentials(_("This account has been disabled."))
        user.last_login_at = now
    return user


def sign_in_with_password(username: str, password: str, now: dt.datetime) -> User:
    """The active staff member with these credentials."""
    with write_transaction():
        user = db.session.scalars(select(User).where(User.username == username)).first()
        # Hash even for unknown users, so the answer time does not tell which usernames exist.
        stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
        if not check_password_hash(stored, password) or user is None or not user.is_active:
            raise InvalidCredentials()
        user.last_login_at = now
    return user


_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(errors=[{"field": "password", "message": _(
            "Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)}])


def create_staff(username: str, password: str, role: Role, *, merchant_id: str | None = None,
                 display_name: str | None = None) -> User:
    """A staff account with a hashed password; refuses a username that is taken."""
    if role is Role.resident:
        raise ValueError("residents sign in by phone")
    validate_password(password)
    with write_transaction():
        if db.session.scalars(select(User.id).where(User.username == username)).first():
            raise Conflict(_("The username %(name)s is taken.", name=username),
                           errors=[{"field": "username", "message": _("This username is taken.")}])
        user = User(role=role, username=username, password_hash=generate_password_hash(password), is_active=True,
                    merchant_id=merchant_id, display_name=display_name)
        db.session.add(user)
    return user


def set_password(user_id: str, password: str) -> None:
    validate_password(password)
    with write_transaction():
        user = db.session.get(User, user_id)
        user.password_hash = generate_password_hash(password)


# Bearer tokens -------------------------------------------------------------------------------------

class _ClockSigner(TimestampSigner):
    """Stamps tokens by the app's clock, so their age is measured on the same clock as everything else."""

    def get_timestamp(self) -> int:
        return int(clock_now().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="voucher.api-token", signer=_ClockSigner)


def token_ttl(user: User) -> int:
    key = "STAFF_TOKEN_TTL_SECONDS" if user.role.is_staff else "RESIDENT_TOKEN_TTL_SECONDS"
    return current_app.config[key]


def issue_token(user: User) -> dict:
    """The body of a successful ``POST /auth/token``."""
    token = _serializer().dumps({"u": user.id, "r": user.role.value})
    return {"token": token, "token_type": "Bearer", "expires_in": token_ttl(user), "role": user.role.value}


# Every API request loads its user (on the hot-path connection: a rush reloads thousands of them every
# few seconds), and keeps a detached object that is only read.
_USER_BY_ID = Prepared(select(User.__table__).where(User.__table__.c.id == bindparam("p_id")))


def _as_user(row) -> User:
    user = User(**{key: row[key] for key in row.keys() if key != "role"})
    user.role = Role(row["role"])
    return user


class _RecentUsers:
    """Per process: the tokens already verified, each with its user as loaded at most
    ``API_USER_CACHE_SECONDS`` ago.

    In a rush every request of the same resident would verify the same signature and load the same
    row again. A token string whose signature once verified stays verified, so that is done once per
    process; its age is checked on every request, and its user's row is read again when the copy is
    older than the TTL (and the copy reused if the row is unchanged). The price, stated: an account
    disabled meanwhile keeps working that much longer. The users kept are detached, read-only.
    """

    MAX_ENTRIES = 100_000

    def __init__(self):
        self._verified: Kept[str, _Verified] = Kept(max_entries=self.MAX_ENTRIES)

    def user(self, token: str, now: dt.datetime, ttl: float) -> User | None:
        seen, fresh = (self._verified.entry(token) if ttl > 0 else None) or (None, False)
        if seen is None:
            try:
                claims, issued = _serializer().loads(token, return_timestamp=True)
            except (BadSignature, SignatureExpired):
                return None
            seen = _Verified(issued, claims)
        if not fresh:
            row = hot().one(_USER_BY_ID, p_id=seen.claims.get("u"))
            if row is None or not row.is_active or row.role != seen.claims.get("r"):
                self._verified.pop(token)
                return None
            if row != seen.row:
                seen.row, seen.user = row, _as_user(row._asdict())
            if ttl > 0:
                self._verified.put(token, seen, ttl)
        if (now - seen.issued).total_seconds() > token_ttl(seen.user):
            return None
        return seen.user


@dataclass
class _Verified:
    """A token whose signature held, and its user's row and object as last loaded."""

    issued: dt.datetime
    claims: dict
    row: tuple | None = None
    user: User | None = None


_recent_users = _RecentUsers()


def user_for_token(token: str, now: dt.datetime) -> User | None:
    """The active user a bearer token was issued to, or None if it is forged, expired or revoked."""
    return _recent_users.user(token, now, current_app.config["API_USER_CACHE_SECONDS"])
