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

A printed sheet cannot rotate, so its code is the ten id characters and eight more keyed on the
voucher and its print generation (``tokens.printed_code``): 40 bits, behind the same limits. It
names the voucher only while the generation is the voucher's; an earlier sheet's code (revoked, or
reprinted since) is refused with ``voucher_revoked``, not counted as a guess.
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
from voucher_app.core.errors import CodeLocked, DomainError, InvalidToken, RateLimited, VoucherRevoked
from voucher_app.core.extensions import db
from voucher_app.redemptions.models import RedemptionAttempt, storable_bill
from voucher_app.vouchers import tokens
from voucher_app.vouchers.models import Voucher

TYPED = "typed"
_SHAPE = re.compile(r"^([0-9A-Z]{10})(\d{4})$")
_PRINTED_SHAPE = re.compile(r"^([0-9A-Z]{10})([0-9A-Z]{%d})$" % tokens.PRINTED_CODE_LENGTH)
_LOOKALIKES = str.maketrans("ILO", "110")  # a printed code is Crockford base32: what one misreads on paper
_REVOKED_SHEETS_CHECKED = 100  # how many earlier generations a revoked sheet's code is recognised for


@dataclass(frozen=True)
class TypedCode:
    code: str  # the voucher's short code, as stored (lower case)
    digits: str  # the phone's four rotating digits, or a printed sheet's eight characters
    printed: bool = False


def parse(text) -> TypedCode | None:
    """The typed code ``text`` spells (spaces and dashes ignored), or None if it is not one."""
    raw = re.sub(r"[\s\-]", "", text.strip() if isinstance(text, str) else "").upper()
    typed = _SHAPE.match(raw)
    if typed:
        return TypedCode(typed.group(1).lower(), typed.group(2))
    printed = _PRINTED_SHAPE.match(raw.translate(_LOOKALIKES))
    return TypedCode(printed.group(1).lower(), printed.group(2), printed=True) if printed else None


def _matches(typed: TypedCode, voucher, now: dt.datetime) -> bool:
    if typed.printed:
        return tokens.printed_code_matches(voucher.id, voucher.print_generation, typed.digits)
    return tokens.typed_code_matches(voucher.id, typed.digits, now)


def _revoked_sheet(typed: TypedCode, voucher) -> bool:
    """True if ``typed`` is the code of one of this voucher's earlier printed sheets."""
    current = voucher.print_generation
    return typed.printed and any(tokens.printed_code_matches(voucher.id, generation, typed.digits)
                                 for generation in range(max(1, current - _REVOKED_SHEETS_CHECKED), current))


def _wrong(since: dt.datetime):
    a = RedemptionAttempt
    return select(func.count()).select_from(a).where(a.outcome == InvalidToken.code, a.via == TYPED, a.at > since)


def voucher_named(typed: TypedCode, actor: User, now: dt.datetime, action: str, bill=None) -> str:
    """The id of the voucher ``typed`` names, or the refusal — recorded with cashier, shop and reason
    before it is raised: ``code_locked``, ``rate_limited``, ``voucher_revoked`` (an earlier printed
    sheet's code) or ``invalid_token``."""
    config = current_app.config
    lock_since = now - dt.timedelta(minutes=config["TYPED_CODE_LOCK_MINUTES"])
    refusal: DomainError | None = None
    with write_transaction():
        named = db.session.execute(select(Voucher.id, Voucher.campaign_id, Voucher.print_generation)
                                   .where(Voucher.short_code == typed.code)
                                   .order_by(Voucher.id).with_for_update()).all()
        a = RedemptionAttempt
        wrong_by_cashier = db.session.scalar(_wrong(now - dt.timedelta(hours=1)).where(a.cashier_id == actor.id))
        locked = [v for v in named
                  if db.session.scalar(_wrong(lock_since).where(a.voucher_id == v.id)) >= config["TYPED_CODE_LOCK_AFTER"]]
        matched = next((v for v in named if _matches(typed, v, now)), None)
        revoked = next((v for v in named if matched is None and _revoked_sheet(typed, v)), None)
        if wrong_by_cashier >= config["TYPED_CODE_WRONG_PER_CASHIER"]:
            refusal, about = RateLimited(_("Too many wrong codes were typed at this till. Scan the customers' QR "
                                           "codes, or ask the shop's owner.")), matched or (named[0] if named else None)
        elif matched is not None and matched not in locked:
            return matched.id
        elif locked:
            refusal, about = CodeLocked(), locked[0]
        elif revoked is not None:
            refusal, about = VoucherRevoked(_("This printed voucher was replaced or cancelled by its owner. "
                                              "Ask the customer for the new sheet or the code on their phone.")), revoked
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
