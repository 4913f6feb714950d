"""Idempotency keys: a request repeated with the same ``Idempotency-Key`` gets the first answer.

The record is written in the same transaction as the effect it answers for, under a primary key
(user, key): a concurrent duplicate either finds it or fails to insert it and rolls back its own
effect, so the effect happens once. Only successful answers are stored; a refused request changed
nothing, and its retry is judged afresh.

How long a key is honoured: at least ``IDEMPOTENCY_KEYS_HONOURED_HOURS`` (24 hours, as payment APIs
promise; a phone or till retries within minutes). A record is answered for as long as it exists, and
the daily purge removes it only after ``RETENTION_IDEMPOTENCY_RECORDS_DAYS`` (2 days), which may
never be shorter than the promise: ``purge_idempotency_records`` refuses to run if it is. A key sent
again after its record is gone is a new request.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from flask import request
from flask_babel import gettext as _
from sqlalchemy import JSON, Integer, String, bindparam, select
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.database import UTCDateTime
from voucher_app.core.errors import ConfigurationError, IdempotencyConflict, ValidationError
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import Prepared, hot
from voucher_app.core.retention import purge

MAX_KEY_LENGTH = 100


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_records"

    user_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


def request_key() -> str | None:
    """The request's ``Idempotency-Key`` header, checked, or None when absent."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(errors=[{"field": "Idempotency-Key", "message": _(
            "Use a unique printable key of at most %(n)d characters, such as a UUID.", n=MAX_KEY_LENGTH)}])
    return key


def fingerprint(scope: str, payload: dict) -> str:
    """What makes two requests "the same": the action and its canonical body."""
    text = json.dumps([scope, payload], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


_records = IdempotencyRecord.__table__
_BY_KEY = Prepared(select(_records.c.request_hash, _records.c.status, _records.c.body).where(
    _records.c.user_id == bindparam("p_user_id"), _records.c.key == bindparam("p_key")))


def replay(user_id: str, key: str | None, request_hash: str) -> tuple[dict, int] | None:
    """The first answer (body, status) stored under this key, or None; ``idempotency_conflict`` if the
    key was used for a different request. It runs on every claim and scan, refusals included, so on the
    hot-path connection (``hotpath.py``): it sees what is committed, which is all a first answer can be."""
    if key is None:
        return None
    record = hot().one(_BY_KEY, p_user_id=user_id, p_key=key)
    return first_answer(request_hash, *record) if record is not None else None


def first_answer(request_hash: str, stored_hash: str | None, status: int | None, body: dict | None):
    """The first answer (body, status) of a stored record read along with other things — None when
    there is none; ``idempotency_conflict`` when its key was used for a different request."""
    if stored_hash is None:
        return None
    if stored_hash != request_hash:
        raise IdempotencyConflict()
    return body, status


def purge_idempotency_records(now: dt.datetime, keep: dt.timedelta, honoured: dt.timedelta) -> int:
    """Delete the first answers stored more than ``keep`` ago; how many. ``keep`` shorter than
    ``honoured`` (the promise to clients) would forget keys still honoured, so it is refused."""
    if keep < honoured:
        raise ConfigurationError(f"idempotency records must be kept at least as long as keys are honoured "
                                 f"({honoured}); RETENTION_IDEMPOTENCY_RECORDS_DAYS gives only {keep}")
    return purge(_records, _records.c.created_at < now - keep)
