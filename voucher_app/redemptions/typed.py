"""Typed codes at the till, and the limits that make guessing them pointless.

A cashier without a camera types the code under the QR: the voucher's last ten id characters, which
anyone who once saw the voucher knows, and four digits that change every minute (``tokens``). Four
digits are 10,000 tries, so wrong tries are limited twice, both counted from the till's own record
of refused attempts (``redemption_attempts``, ``via = 'typed'``), so the limits hold across workers and
hosts and cost a scanned QR nothing:

* per voucher: ``TYPED_CODE_LOCK_AFTER`` (5) wrong codes within ``TYPED_CODE_LOCK_MINUTES`` (15) lock
  typed entry of that voucher (``code_locked``); its QR still works, and the resident's wallet says
  wrong codes were typed for it;
* per cashier: ``TYPED_CODE_WRONG_PER_CASHIER`` wrong codes within an hour stop that cashier's typed
  entries (``rate_limited``), so a shop cannot spread its guesses over many vouchers.

The count, the check and the record of a wrong try are one write transaction holding the named
vouchers' rows locked, so parallel guesses for one voucher are judged one after another and the
sixth finds the lock.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from voucher_app.accounts.models import User
from voucher_app.core.clock import iso
from voucher_app.core.database import new_id, write_transaction
from voucher_app.core.errors import CodeLocked, DomainError, InvalidToken, RateLimited
from voucher_app.core.extensions import db
from voucher_app.redemptions.models import RedemptionAttempt, storable_bill
from voucher_app.vouchers import tokens
from voucher_app.vouchers.models import Voucher

TYPED = "typed"
_SHAPE = re.compile(r"^([0-9A-Z]{10})(\d{4})$")


@dataclass(frozen=True)
class TypedCode:
    code: str  # the voucher's short code, as stored (lower case)
    digits: str


def parse(text) -> TypedCode | None:
    """The typed code ``text`` spells (spaces and dashes ignored), or None if it is not one."""
    raw = text.strip() if isinstance(text, str) else ""
    typed = _SHAPE.match(re.sub(r"[\s\-]", "", raw).upper())
    return TypedCode(typed.group(1).lower(), typed.group(2)) if typed else None


def _wrong(since: dt.datetime):
    a = RedemptionAttempt
    return select(func.count()).select_from(a).where(a.outcome == InvalidToken.code, a.via == TYPED, a.at > since)


def voucher_named(typed: TypedCode, actor: User, now: dt.datetime, action: str, bill=None) -> str:
    """The id of the voucher ``typed`` names, or the refusal — recorded with cashier, shop and reason
    before it is raised: ``code_locked``, ``rate_limited`` or ``invalid_token``."""
    config = current_app.config
    lock_since = now - dt.timedelta(minutes=config["TYPED_CODE_LOCK_MINUTES"])
    refusal: DomainError | None = None
    with write_transaction():
        named = db.session.execute(select(Voucher.id, Voucher.campaign_id).where(Voucher.short_code == typed.code)
                                   .order_by(Voucher.id).with_for_update()).all()
        a = RedemptionAttempt
        wrong_by_cashier = db.session.scalar(_wrong(now - dt.timedelta(hours=1)).where(a.cashier_id == actor.id))
        locked = [v for v in named
                  if db.session.scalar(_wrong(lock_since).where(a.voucher_id == v.id)) >= config["TYPED_CODE_LOCK_AFTER"]]
        matched = next((v for v in named if tokens.typed_code_matches(v.id, typed.digits, now)), None)
        if wrong_by_cashier >= config["TYPED_CODE_WRONG_PER_CASHIER"]:
            refusal, about = RateLimited(_("Too many wrong codes were typed at this till. Scan the customers' QR "
                                           "codes, or ask the shop's owner.")), matched or (named[0] if named else None)
        elif matched is not None and matched not in locked:
            return matched.id
        elif locked:
            refusal, about = CodeLocked(), locked[0]
        else:
            refusal, about = InvalidToken(_("This code is wrong or out of date. Ask the customer for the code on "
                                            "screen now.")), named[0] if named else None
        db.session.add(RedemptionAttempt(
            id=new_id(), at=now, merchant_id=actor.merchant_id, cashier_id=actor.id,
            voucher_id=about.id if about else None, campaign_id=about.campaign_id if about else None,
            bill_cents=storable_bill(bill),
            outcome=refusal.code, via=TYPED, action=action))
    raise refusal


def wrong_codes(voucher_ids: list[str], now: dt.datetime, days: int = 30) -> dict[str, dict]:
    """For the wallet: how many wrong codes were typed for each of these vouchers lately, and when
    last — so a resident learns that someone tried to guess theirs."""
    if not voucher_ids:
        return {}
    a = RedemptionAttempt
    rows = db.session.execute(
        _wrong(now - dt.timedelta(days=days)).with_only_columns(a.voucher_id, func.count(), func.max(a.at))
        .where(a.voucher_id.in_(voucher_ids)).group_by(a.voucher_id))
    return {voucher_id: {"count": count, "last_at": iso(last)} for voucher_id, count, last in rows}
