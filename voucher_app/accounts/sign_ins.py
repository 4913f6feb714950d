"""Sign-ins the server can take back: every bearer token and every web session is a row.

A signed token alone cannot be withdrawn before it expires, so a stolen phone, a cashier who left or
a suspended shop would keep working until then. Each token and each web session therefore names a
row of ``sign_ins`` (its id is the token's or session's random part; the server signs it as well),
and every request reads that row with its user in one primary-key query on the hot-path connection,
refusing it when it is:

* revoked — signing out ends that sign-in; disabling an account or suspending a shop ends all of
  theirs, at once, on every worker and host (there is nothing cached to wait out);
* expired — residents after ``RESIDENT_TOKEN_TTL_SECONDS``, staff after ``STAFF_TOKEN_TTL_SECONDS``;
* idle — staff only, after ``STAFF_IDLE_SECONDS`` without a request (a till left signed in).

``last_seen_at`` is written at most once per ``SIGN_IN_TOUCH_SECONDS`` per sign-in, and only for
staff: residents do not idle out, so a claim rush writes nothing here.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, select, update

from voucher_app.accounts.models import SignIn, User
from voucher_app.core.database import write_transaction
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import Prepared, hot
from voucher_app.core.roles import Role

API, WEB = "api", "web"
# Where a sign-in came from, for the fraud rule that sees many residents behind one device: the app
# sends its own id in DEVICE_HEADER; a browser gets a random DEVICE_COOKIE from the sign-in pages.
DEVICE_HEADER, DEVICE_COOKIE = "X-Device-Id", "device"
DEVICE_COOKIE_SECONDS = 2 * 365 * 24 * 3600
_NEW_DEVICE = "voucher.new_device_id"

_u, _s = User.__table__, SignIn.__table__
USER_COLUMNS = tuple(c.key for c in _u.columns)
_CURRENT = Prepared(
    select(_u, _s.c.expires_at.label("sign_in_expires_at"), _s.c.revoked_at.label("sign_in_revoked_at"),
           _s.c.last_seen_at.label("sign_in_last_seen_at"))
    .select_from(_s.join(_u, _u.c.id == _s.c.user_id)).where(_s.c.id == bindparam("p_id")))
_TOUCH = Prepared(update(_s).where(_s.c.id == bindparam("p_id"))
                  .values(last_seen_at=bindparam("p_now", type_=_s.c.last_seen_at.type)).returning(_s.c.id))


def lifetime(role: Role) -> int:
    """Seconds a sign-in of ``role`` lasts at most."""
    key = "STAFF_TOKEN_TTL_SECONDS" if role.is_staff else "RESIDENT_TOKEN_TTL_SECONDS"
    return int(current_app.config[key])


def start(user: User, kind: str, now: dt.datetime) -> str:
    """A new sign-in of ``user`` (``API`` or ``WEB``); its id."""
    address, device = origin()
    sign_in = SignIn(id=secrets.token_urlsafe(32), user_id=user.id, kind=kind, created_at=now,
                     expires_at=now + dt.timedelta(seconds=lifetime(user.role)), last_seen_at=now,
                     address=address, device=device)
    with write_transaction():
        db.session.add(sign_in)
    return sign_in.id


def origin() -> tuple[str | None, str | None]:
    """The client's address and the keyed hash of its device id, when there is a request (else
    nothing). The id itself is never stored: only HMAC-SHA256 under a key derived from SECRET_KEY, so
    equal devices match and nobody can read one back. Both are purged with the sign-in."""
    if not has_request_context():
        return None, None
    address = (request.remote_addr or "")[:45] or None
    device_id = (request.headers.get(DEVICE_HEADER) or request.cookies.get(DEVICE_COOKIE) or "")[:200]
    if not device_id and not request.path.startswith("/api/"):
        device_id = browser_device_id()  # the sign-in page sets it as the cookie on this very answer
    if not device_id:
        return address, None
    key = hmac.new(str(current_app.config["SECRET_KEY"]).encode(), b"voucher.device", hashlib.sha256).digest()
    return address, hmac.new(key, device_id.encode(), hashlib.sha256).hexdigest()


def browser_device_id() -> str:
    """The device cookie this request came with, or a new random one (the same for the whole request)."""
    existing = request.cookies.get(DEVICE_COOKIE)
    if existing:
        return existing
    return request.environ.setdefault(_NEW_DEVICE, secrets.token_urlsafe(24))


def current(sign_in_id: str | None, now: dt.datetime):
    """The row of a sign-in still in force, with its user's columns (``_CURRENT``); None if it is
    unknown, revoked, expired, idle too long or its account is disabled."""
    if not sign_in_id or not isinstance(sign_in_id, str):
        return None
    row = hot().one(_CURRENT, p_id=sign_in_id)
    if row is None or row.sign_in_revoked_at is not None or row.sign_in_expires_at <= now or not row.is_active:
        return None
    if Role(row.role).is_staff:
        idle = now - row.sign_in_last_seen_at
        if idle > dt.timedelta(seconds=current_app.config["STAFF_IDLE_SECONDS"]):
            return None
        if idle >= dt.timedelta(seconds=current_app.config["SIGN_IN_TOUCH_SECONDS"]):
            hot().write(_TOUCH, p_id=sign_in_id, p_now=now)
    return row


def revoke(sign_in_id: str, now: dt.datetime) -> None:
    """End one sign-in (signing out)."""
    with write_transaction():
        db.session.execute(update(SignIn).where(SignIn.id == sign_in_id, SignIn.revoked_at.is_(None))
                           .values(revoked_at=now))


def revoke_users(user_ids, now: dt.datetime) -> int:
    """End every live sign-in of these users (a select of user ids or a list), in the caller's
    transaction: an account disabled or a shop suspended stops working with the next request."""
    return db.session.execute(update(SignIn).where(SignIn.user_id.in_(user_ids), SignIn.revoked_at.is_(None),
                                                   SignIn.expires_at > now)
                              .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
