"""A second factor for staff: an authenticator app's six-digit codes (TOTP, RFC 6238, by ``pyotp``)
and ten one-time recovery codes for a lost phone.

Setting it up is two steps, so nobody locks themselves out with a secret their phone never took:
``begin`` makes a new secret (and the recovery codes, shown this once) and ``confirm`` turns the
factor on when the app's first code matches. From then on signing in needs the password and a code
(``verify``): a code is accepted in its 30-second step or the one before, and never twice (the last
step used is kept); a recovery code works once. Wrong codes count towards the username's lock like
wrong passwords (``lockout``).

The secret is stored encrypted (Fernet, with a key derived from the app's secret key), so a copy of
the users table alone does not give away anyone's second factor; recovery codes are stored as keyed
hashes. In production every administrator must have the factor (``required``); ``voucher totp
setup USERNAME`` sets it up from the server's shell for the first one.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass

import pyotp
import qrcode
import qrcode.image.svg
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from voucher_app.accounts.models import RecoveryCode, User
from voucher_app.core.database import write_transaction
from voucher_app.core.errors import Conflict, TotpInvalid, TotpRequired
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role

ISSUER = "Guangyuan vouchers"
RECOVERY_CODES = 10


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    recovery_codes: list[str]


def _fernet() -> Fernet:
    key = hashlib.sha256(f"{current_app.config['SECRET_KEY']}:totp-secrets".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _recovery_hash(user_id: str, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"recovery:{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _normal(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").upper()


def secret_of(user: User) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return _fernet().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:
        return None  # encrypted under another secret key: the factor must be set up again


def enabled(user: User) -> bool:
    return user.totp_confirmed_at is not None


def required(user: User) -> bool:
    """Whether ``user`` may not sign in without the factor: administrators, where
    ``TOTP_REQUIRED_FOR_ADMINS`` (on in production)."""
    return user.role is Role.admin and bool(current_app.config["TOTP_REQUIRED_FOR_ADMINS"])


def begin(user_id: str, now: dt.datetime) -> Enrolment:
    """A new secret and recovery codes for a staff member whose factor is not on yet."""
    secret = pyotp.random_base32()
    codes = [secrets.token_hex(5).upper() for _ in range(RECOVERY_CODES)]
    with write_transaction():
        user = db.session.scalars(select(User).where(User.id == user_id).with_for_update()).one()
        if enabled(user):
            raise Conflict(_("Your authenticator is already set up. Ask an administrator to reset it if you "
                             "lost your phone and your recovery codes."))
        user.totp_secret = _fernet().encrypt(secret.encode()).decode()
        user.totp_last_step = None
        db.session.query(RecoveryCode).filter(RecoveryCode.user_id == user.id).delete()
        db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, code), created_at=now)
                           for code in codes)
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return Enrolment(secret, uri, [f"{c[:5]}-{c[5:]}" for c in codes])


def confirm(user_id: str, code: str, now: dt.datetime) -> None:
    """Turn the factor on once the app shows the right code."""
    with write_transaction():
        user = db.session.scalars(select(User).where(User.id == user_id).with_for_update()).one()
        if enabled(user):
            raise Conflict(_("Your authenticator is already set up."))
        secret = secret_of(user)
        if secret is None:
            raise Conflict(_("Start setting up the authenticator first."))
        step = _matching_step(secret, code, now)
        if step is None:
            raise TotpInvalid()
        user.totp_confirmed_at, user.totp_last_step = now, step


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The 30-second step whose code ``code`` is (this step or the one before), or None."""
    totp = pyotp.TOTP(secret)
    code = _normal(code)
    for moment in (now, now - dt.timedelta(seconds=totp.interval)):
        if hmac.compare_digest(totp.at(moment), code):
            return totp.timecode(moment)
    return None


def verify(user: User, code: str | None, now: dt.datetime) -> None:
    """Check the second factor at sign-in, in the caller's transaction: ``totp_required`` without a
    code, ``totp_invalid`` for a wrong, stale or reused one. A recovery code is spent here."""
    if not (code or "").strip():
        raise TotpRequired()
    secret = secret_of(user)
    step = _matching_step(secret, code, now) if secret else None
    if step is not None:
        # Only a later step than the last one used: a code seen over a shoulder cannot be replayed.
        used = db.session.execute(update(User).where(User.id == user.id)
                                  .where((User.totp_last_step.is_(None)) | (User.totp_last_step < step))
                                  .values(totp_last_step=step)).rowcount
        if used:
            return
        raise TotpInvalid()
    spent = db.session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_hash(user.id, _normal(code)),
        RecoveryCode.used_at.is_(None)).values(used_at=now)).rowcount
    if not spent:
        raise TotpInvalid()


def qr_svg(otpauth_uri: str) -> str:
    """The QR an authenticator app scans to take the secret (SVG, drawn inline on the page)."""
    buffer = io.BytesIO()
    qrcode.make(otpauth_uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2).save(buffer)
    return buffer.getvalue().decode()


def recovery_codes_left(user_id: str) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user_id,
                                                                RecoveryCode.used_at.is_(None))).all())


def reset(user_id: str) -> None:
    """Turn the factor off (an administrator's help for a lost phone; ``voucher totp reset``)."""
    with write_transaction():
        db.session.execute(update(User).where(User.id == user_id)
                           .values(totp_secret=None, totp_confirmed_at=None, totp_last_step=None))
        db.session.query(RecoveryCode).filter(RecoveryCode.user_id == user_id).delete()
