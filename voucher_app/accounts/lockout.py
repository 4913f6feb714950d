"""Locking a username after wrong passwords in a row, whether or not an account has it.

Ten wrong passwords in a row for one username lock it for fifteen minutes (``SIGN_IN_LOCK_AFTER``,
``SIGN_IN_LOCK_MINUTES``): while locked even the right password is answered ``account_locked``, so a
guesser gains nothing by going on. Failures are counted by the username typed, not by account, and
unknown usernames are counted and locked alike, so the answers never tell which usernames exist.
The per-address rate limit on sign-in (``accounts/limits.py``) stops one machine trying many names.

Each failure is one upsert that increments in SQL, so parallel guesses all count; a lock that has
run out starts the count again.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import case, delete, literal, null, select
from sqlalchemy.dialects import postgresql, sqlite

from voucher_app.accounts.models import SignInFailure
from voucher_app.core.extensions import db


def _key(username: str) -> str:
    return (username or "").strip().lower()[:64]


def locked_until(username: str, now: dt.datetime) -> dt.datetime | None:
    """When the lock on ``username`` ends, if it is locked now."""
    until = db.session.scalar(select(SignInFailure.locked_until).where(SignInFailure.username == _key(username)))
    return until if until is not None and until > now else None


def lock_minutes() -> int:
    return int(current_app.config["SIGN_IN_LOCK_MINUTES"])


def failed(username: str, now: dt.datetime) -> None:
    """Count a wrong password for ``username`` (in the caller's transaction, which must commit even
    though the sign-in is refused)."""
    t = SignInFailure.__table__
    lapsed = t.c.locked_until.is_not(None) & (t.c.locked_until <= now)
    failures = case((lapsed, 1), else_=t.c.failures + 1)
    until = literal(now + dt.timedelta(minutes=lock_minutes()), type_=t.c.locked_until.type)
    locked = case((failures >= current_app.config["SIGN_IN_LOCK_AFTER"], until),
                  (lapsed, null()), else_=t.c.locked_until)
    insert = (postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert)(t)
    db.session.execute(insert.values(username=_key(username), failures=1, last_failed_at=now, locked_until=None)
                       .on_conflict_do_update(index_elements=[t.c.username],
                                              set_={"failures": failures, "last_failed_at": now,
                                                    "locked_until": locked}))


def succeeded(username: str) -> None:
    """A right password ends the run of failures."""
    db.session.execute(delete(SignInFailure).where(SignInFailure.username == _key(username)))
