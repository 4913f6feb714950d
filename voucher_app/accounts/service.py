"""Sign-in services: SMS codes for residents, passwords for staff, bearer tokens for the API."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from voucher_app.accounts import lockout, sign_ins, totp
from voucher_app.accounts.models import OtpCode, User
from voucher_app.accounts.sms import sms_sender
from voucher_app.core.cache import Kept
from voucher_app.core.clock import now as clock_now
from voucher_app.core.database import write_transaction
from voucher_app.core.errors import (
    AccountLocked,
    Conflict,
    InvalidCredentials,
    OtpExpired,
    OtpInvalid,
    OtpLocked,
    OtpUsed,
    TotpInvalid,
    TotpRequired,
    ValidationError,
)
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role

MIN_PASSWORD_LENGTH = 8
PASSWORD_METHOD = "scrypt:32768:8:1"


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


def sign_in_with_password(username: str, password: str, now: dt.datetime, totp_code: str | None = None) -> User:
    """The active staff member with these credentials; ``account_locked`` after too many wrong
    passwords (or authenticator codes) in a row for this username (``lockout``), whether or not it
    exists; ``totp_required``/``totp_invalid`` for a staff member with a second factor (``totp``)."""
    with write_transaction():
        if lockout.locked_until(username, now) is not None:
            raise AccountLocked(_("Too many wrong passwords for this username. Try again in %(minutes)d "
                                  "minutes, or ask your administrator.", minutes=lockout.lock_minutes()))
        user = db.session.scalars(select(User).where(User.username == username)).first()
        # Hash even for unknown users, so the answer time does not tell which usernames exist.
        stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
        if not check_password_hash(stored, password) or user is None or not user.is_active:
            lockout.failed(username, now)
            db.session.commit()  # the wrong password must count even though we refuse
            raise InvalidCredentials()
        _second_factor(user, username, totp_code, now)
        lockout.succeeded(username)
        user.last_login_at = now
    return user


def _second_factor(user: User, username: str, code: str | None, now: dt.datetime) -> None:
    if totp.enabled(user):
        try:
            totp.verify(user, code, now)
        except TotpInvalid:
            lockout.failed(username, now)
            db.session.commit()  # a wrong code counts like a wrong password
            raise
    elif totp.required(user):
        raise TotpRequired(_("Administrators must use an authenticator app in production. Ask the "
                             "server's operator to run: voucher totp setup %(username)s", username=username))


def hash_password(password: str) -> str:
    """scrypt (N=2^15, r=8, p=1: about 50 ms and 32 MiB per guess), salted."""
    return generate_password_hash(password, method=PASSWORD_METHOD)


_DUMMY_HASH = hash_password(secrets.token_hex(8))


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(errors=[{"field": "password", "message": _(
            "Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)}])


def create_staff(username: str, password: str, role: Role, *, merchant_id: str | None = None,
                 display_name: str | None = None, district: str | None = None) -> User:
    """A staff account with a hashed password; refuses a username that is taken. A community worker
    is bound to the district they serve (``district``, one of the city's: the caller checks it)."""
    if role is Role.resident:
        raise ValueError("residents sign in by phone")
    if district and role is not Role.community_worker:
        raise ValueError("only a community worker is bound to a district")
    validate_password(password)
    with write_transaction():
        if db.session.scalars(select(User.id).where(User.username == username)).first():
            raise Conflict(_("The username %(name)s is taken.", name=username),
                           errors=[{"field": "username", "message": _("This username is taken.")}])
        user = User(role=role, username=username, password_hash=hash_password(password), is_active=True,
                    merchant_id=merchant_id, display_name=display_name, district=district)
        db.session.add(user)
    return user


def set_password(user_id: str, password: str) -> None:
    validate_password(password)
    with write_transaction():
        user = db.session.get(User, user_id)
        user.password_hash = hash_password(password)


# Bearer tokens -------------------------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    """Signs a token's claims; how long it lasts is its sign-in's business (``sign_ins``)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="voucher.api-token")


def issue_token(user: User, now: dt.datetime | None = None) -> dict:
    """The body of a successful ``POST /auth/token``: a bearer token naming a new sign-in."""
    sign_in_id = sign_ins.start(user, sign_ins.API, now or clock_now())
    token = _serializer().dumps({"u": user.id, "r": user.role.value, "s": sign_in_id})
    return {"token": token, "token_type": "Bearer", "expires_in": sign_ins.lifetime(user.role),
            "role": user.role.value}


def _as_user(row, sign_in_id: str) -> User:
    user = User(**{key: getattr(row, key) for key in sign_ins.USER_COLUMNS if key != "role"})
    user.role = Role(row.role)
    user.sign_in_id = sign_in_id
    return user


class _VerifiedTokens:
    """Per process: the tokens whose signature already verified, each with its user as last loaded.

    In a rush every request of the same resident would check the same signature and build the same
    user again. A signature that once verified stays verified, so that is done once per token and
    process. The sign-in and its user are read on every request (``sign_ins.current``), so a token
    revoked, expired or idle is refused at once; the user object is rebuilt only when its row
    changed. The users kept are detached, read-only.
    """

    MAX_ENTRIES = 100_000

    def __init__(self):
        self._verified: Kept[str, _Verified] = Kept(max_entries=self.MAX_ENTRIES)

    def user(self, token: str, now: dt.datetime) -> User | None:
        seen = self._verified.get(token)
        if seen is None:
            try:
                claims = _serializer().loads(token)
            except BadSignature:
                return None
            if not isinstance(claims, dict) or not isinstance(claims.get("s"), str):
                return None  # a token from before sign-ins were revocable: sign in again
            seen = self._verified.put(token, _Verified(claims))
        row = sign_ins.current(seen.claims["s"], now)
        if row is None or row.id != seen.claims.get("u") or row.role != seen.claims.get("r"):
            return None
        if row != seen.row:
            seen.row, seen.user = row, _as_user(row, seen.claims["s"])
        return seen.user


@dataclass
class _Verified:
    """A token whose signature held, and its sign-in's row and user as last loaded."""

    claims: dict
    row: tuple | None = None
    user: User | None = None


_tokens = _VerifiedTokens()


def user_for_token(token: str, now: dt.datetime) -> User | None:
    """The active user a bearer token was issued to, or None if it is forged, expired, idle or revoked."""
    return _tokens.user(token, now)


def sign_out(user: User, now: dt.datetime) -> None:
    """End the sign-in ``user`` came with (a bearer token or a web session)."""
    if getattr(user, "sign_in_id", None):
        sign_ins.revoke(user.sign_in_id, now)


def web_user(sign_in_id: str, now: dt.datetime) -> User | None:
    """The user of a web session (Flask-Login's user loader), attached to the session so pages can
    change it; None once the session is revoked, expired or idle."""
    row = sign_ins.current(sign_in_id, now)
    user = db.session.get(User, row.id) if row is not None else None
    if user is not None:
        user.sign_in_id = sign_in_id
    return user


def start_web_session(user: User, now: dt.datetime) -> User:
    """A new web sign-in for ``user``, whose id Flask-Login then keeps in the session cookie."""
    user.sign_in_id = sign_ins.start(user, sign_ins.WEB, now)
    return user
