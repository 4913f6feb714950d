"""Redeeming a voucher at the till, and refunding a return.

Why a voucher cannot pay twice
------------------------------
Two cashiers may scan the same QR at the same moment. Each request checks everything it can
without a lock (a cheap, clear refusal for the common mistakes), then, in one write transaction:

* locks the voucher's row (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the transaction began
  ``IMMEDIATE``, so writers run one at a time) and re-reads its state;
* only if it is still ``claimed``: inserts the redemption, marks the voucher ``redeemed`` and moves
  its discount — never more than the bill — from ``reserved`` to ``payable`` in the ledger, and the
  part of the face value the bill left unused back to ``available``.

The second cashier's transaction waits for the first's lock, then reads ``redeemed`` and is refused
with ``already_redeemed``. Behind the lock stands a partial unique index: at most one redemption in
force (not refunded) per voucher, so even a path that forgot the lock could not commit a second one.
The idempotency record joins the same transaction: a cashier's network retry with the same key gets
the first answer instead of ``already_redeemed``.

What a voucher pays (``subsidy``): a fixed one its face value, a percent one ``percent`` of the bill
rounded down to the fen, up to its cap (the voucher's ``discount_cents``) — never more than the bill.
The same formula is the one statement's on PostgreSQL; ``tests/redemptions/test_rules_agree.py``
runs one table of cases through both.

Why a person cannot pass a shop's daily limit
---------------------------------------------
A campaign may cap the sales per person per shop per city day (``limit_per_merchant_day``): the
in-force redemptions of the person's vouchers of the campaign at this shop since the day began. Two
cashiers scanning two of one person's vouchers at once must not both pass a count taken before
either sale. Such campaigns never take the one-statement sale (``_acceptable_campaigns`` leaves them
out); their sale counts and spends in one write transaction that first holds a lock on exactly that
person at that shop in that campaign: on PostgreSQL a transaction-scoped advisory lock keyed by the
three (so a second till waits, then counts at READ COMMITTED the sale the first one committed); on
SQLite the transaction began ``IMMEDIATE``, so writers run one at a time. Campaigns without the limit
keep the hot path untouched. The count before the lock only gives the refusal its place in the
contract's order (after the voucher's and shop's rules, before the bill's); the one under the lock
decides.

Every attempt, accepted or refused, is recorded with merchant, cashier, time and outcome.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Integer, String, and_, bindparam, exists, func, select, text, update
from sqlalchemy.exc import IntegrityError

from campaigns.labels import rule_text
from campaigns.lifecycle import effective_status
from campaigns.models import Campaign, CampaignStatus
from merchants.models import Enrolment, EnrolmentStatus, Merchant, MerchantStatus
from voucher_app.accounts.models import User
from voucher_app.core.clock import city_day, city_day_bounds, city_zone, iso
from voucher_app.core.database import end_read_transaction, new_id, write_transaction
from voucher_app.core.errors import (
    AlreadyRedeemed,
    BelowThreshold,
    CampaignClosed,
    ClawedBack,
    Conflict,
    DomainError,
    Forbidden,
    InvalidToken,
    LimitReached,
    MerchantNotEnrolled,
    MerchantSuspended,
    NotFound,
    OutsideHours,
    ValidationError,
    VoucherExpired,
    VoucherRevoked,
)
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import Prepared, hot, insert_row
from voucher_app.core.idempotency import IdempotencyRecord, fingerprint, first_answer, replay
from voucher_app.core.money import yuan_text
from voucher_app.core.roles import Role
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.redemptions import typed
from voucher_app.redemptions.hours import within
from voucher_app.redemptions.models import Redemption, RedemptionAttempt, storable_bill
from voucher_app.vouchers import printing, tokens
from voucher_app.vouchers.claiming import CampaignFacts, memo
from voucher_app.vouchers.models import Voucher, VoucherStatus

REFUND_DAYS = 7
QR, PRINTED = "qr", "printed"  # a phone's QR, a printed sheet's QR
REDEEM, CHECK = "redeem", "check"  # what a till attempt asked: to redeem, or to look (``/till/check``)


def redemption_out(redemption: Redemption) -> dict:
    return {
        "id": redemption.id, "voucher_id": redemption.voucher_id, "merchant_id": redemption.merchant_id,
        "campaign_id": redemption.campaign_id, "bill_cents": redemption.bill_cents,
        "discount_cents": redemption.discount_cents, "payable_cents": redemption.payable_cents,
        "redeemed_at": iso(redemption.redeemed_at), "refunded_at": iso(redemption.refunded_at),
    }


# The till's reads and writes run on the hot-path connection (``core/hotpath.py``): a busy till runs them all day.
_v = Voucher.__table__
_VOUCHER_COLUMNS = (_v.c.id, _v.c.campaign_id, _v.c.status, _v.c.expires_at, _v.c.threshold_cents,
                    _v.c.discount_cents, _v.c.percent, _v.c.person_id)
_m, _e, _answers = Merchant.__table__, Enrolment.__table__, IdempotencyRecord.__table__
_MERCHANT = Prepared(select(_m.c.id, _m.c.status).where(_m.c.id == bindparam("p_id")))
# Everything a scan is judged on, read at once: the shop and its status, the voucher, its campaign's
# status (which can change; the campaign's fixed facts come from the claim path's snapshot), whether
# the shop is enrolled, and a first answer stored under this request's key. One row per shop.
_SCAN = Prepared(
    select(_m.c.id.label("merchant_id"), _m.c.status.label("merchant_status"), *_VOUCHER_COLUMNS,
           select(Campaign.__table__.c.status).where(Campaign.__table__.c.id == _v.c.campaign_id)
           .scalar_subquery().label("campaign_status"),
           exists().where(_e.c.campaign_id == _v.c.campaign_id, _e.c.merchant_id == _m.c.id,
                          _e.c.status == EnrolmentStatus.approved.value).label("enrolled"),
           _answers.c.request_hash, _answers.c.status.label("answer_status"), _answers.c.body.label("answer"))
    .select_from(_m.outerjoin(_v, _v.c.id == bindparam("p_voucher_id"))
                 .outerjoin(_answers, and_(_answers.c.user_id == bindparam("p_user_id"),
                                           _answers.c.key == bindparam("p_key"))))
    .where(_m.c.id == bindparam("p_merchant_id")))
_now = bindparam("p_now", type_=_v.c.expires_at.type)
# Spend the voucher: only while it is claimed and unexpired. The UPDATE takes the row's lock, so a
# second till's UPDATE waits for this one and then matches nothing.
_SPEND = Prepared(update(_v).where(_v.c.id == bindparam("p_id"), _v.c.status == VoucherStatus.claimed.value,
                                   _v.c.expires_at > _now)
                  .values(status=VoucherStatus.redeemed.value, redeemed_at=_now).returning(_v.c.id))
_STATE = Prepared(select(_v.c.status, _v.c.expires_at).where(_v.c.id == bindparam("p_id")))
_INSERT_REDEMPTION = insert_row(Redemption.__table__, ["id", "voucher_id", "campaign_id", "merchant_id", "cashier_id",
                                                       "bill_cents", "discount_cents", "payable_cents", "redeemed_at"])
_INSERT_ENTRY = insert_row(LedgerEntry.__table__, ["id", "campaign_id", "voucher_id", "amount_cents", "at"],
                           from_account=Account.reserved.value, to_account=Account.payable.value, kind="redeem")
_INSERT_UNUSED = insert_row(LedgerEntry.__table__, ["id", "campaign_id", "voucher_id", "amount_cents", "at"],
                            from_account=Account.reserved.value, to_account=Account.available.value, kind="unused")
# The person's sales at the shop in the campaign since the city day began, in force: through the
# vouchers' (campaign, person, slot) key and the redemptions' index of the one in force per voucher.
_r = Redemption.__table__
_SALES_TODAY = Prepared(
    select(func.count().label("sales")).select_from(_r.join(_v, _v.c.id == _r.c.voucher_id))
    .where(_v.c.campaign_id == bindparam("p_campaign_id"), _v.c.person_id == bindparam("p_person_id"),
           _r.c.merchant_id == bindparam("p_merchant_id"), _r.c.refunded_at.is_(None),
           _r.c.redeemed_at >= bindparam("p_since", type_=_r.c.redeemed_at.type)))
_LOCK_PERSON_AT_SHOP = text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))")
_INSERT_ATTEMPT = insert_row(RedemptionAttempt.__table__, ["id", "at", "merchant_id", "cashier_id", "voucher_id",
                                                           "campaign_id", "bill_cents", "outcome", "redemption_id",
                                                           "via", "action"])
_INSERT_ANSWER = insert_row(IdempotencyRecord.__table__, ["user_id", "key", "request_hash", "body", "created_at"],
                            status=201)

# PostgreSQL: a sale in one statement, which commits by itself (autocommit) — one round trip instead
# of seven with BEGIN and COMMIT. Every rule of the contract is its condition: the voucher claimed and
# unexpired, its campaign among ``:campaign_ids`` (open by the clock and inside its hours and weekdays,
# judged in Python) with its stored status read again here, the shop approved and enrolled, the bill
# at the threshold, and no first answer under the key (``prior``, returned when there is one). When
# any fails nothing is written, and ``redeem`` takes the long way — the scan, then the rules one by
# one — to answer with the contract's first failing code.
# ``target`` locks the voucher's row: a second till waits there, then reads the row the first one
# left. The conditions are on ``target``, not on the vouchers scanned by the UPDATE, on purpose:
# written on ``vouchers`` they match the partial index of claimed vouchers by expiry, and with
# statistics taken before a rush (every voucher still available: "no claimed vouchers") the planner
# scans that index — every claimed voucher — for each sale instead of fetching one row by its key.
_REDEEM_ALL = Prepared(text("""
WITH prior AS (
    SELECT request_hash, status, body FROM idempotency_records WHERE user_id = :cashier_id AND key = :key
), target AS MATERIALIZED (
    SELECT id, campaign_id, status, expires_at, threshold_cents, discount_cents,
           LEAST(discount_cents, CASE WHEN percent IS NULL THEN CAST(:bill_cents AS bigint)
                                      ELSE CAST(:bill_cents AS bigint) * percent / 100 END) AS subsidy
    FROM vouchers WHERE id = :voucher_id FOR UPDATE
), spent AS (
    UPDATE vouchers v SET status = 'redeemed', redeemed_at = :now
    FROM target
    WHERE v.id = target.id AND target.status = 'claimed' AND target.expires_at > :now
      AND target.campaign_id = ANY(:campaign_ids) AND target.threshold_cents <= :bill_cents AND target.subsidy > 0
      AND NOT EXISTS (SELECT 1 FROM prior)
      AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = target.campaign_id AND c.status IN ('scheduled', 'open'))
      AND EXISTS (SELECT 1 FROM merchants m WHERE m.id = :merchant_id AND m.status = 'approved')
      AND EXISTS (SELECT 1 FROM enrolments e WHERE e.campaign_id = target.campaign_id
                  AND e.merchant_id = :merchant_id AND e.status = 'approved')
    RETURNING v.id, v.campaign_id, target.subsidy AS discount_cents, target.discount_cents - target.subsidy AS unused,
              :bill_cents - target.subsidy AS payable
), redemption AS (
    INSERT INTO redemptions (id, voucher_id, campaign_id, merchant_id, cashier_id, bill_cents, discount_cents,
                             payable_cents, redeemed_at)
    SELECT :redemption_id, id, campaign_id, :merchant_id, :cashier_id, :bill_cents, discount_cents, payable, :now
    FROM spent
), entry AS (
    INSERT INTO ledger_entries (id, campaign_id, voucher_id, from_account, to_account, amount_cents, kind, at)
    SELECT :entry_id, campaign_id, id, 'reserved', 'payable', discount_cents, 'redeem', :now FROM spent
    UNION ALL
    SELECT :unused_entry_id, campaign_id, id, 'reserved', 'available', unused, 'unused', :now FROM spent
    WHERE unused > 0
), attempt AS (
    INSERT INTO redemption_attempts (id, at, merchant_id, cashier_id, voucher_id, campaign_id, bill_cents, outcome,
                                     redemption_id, via)
    SELECT :attempt_id, :now, :merchant_id, :cashier_id, id, campaign_id, :bill_cents, 'ok', :redemption_id, :via
    FROM spent
), answer AS (
    INSERT INTO idempotency_records (user_id, key, request_hash, status, body, created_at)
    SELECT :cashier_id, :key, :request_hash, 201,
           json_build_object('id', CAST(:redemption_id AS text), 'voucher_id', id,
                             'merchant_id', CAST(:merchant_id AS text), 'campaign_id', campaign_id,
                             'bill_cents', CAST(:bill_cents AS bigint), 'discount_cents', discount_cents,
                             'payable_cents', payable, 'redeemed_at', CAST(:redeemed_at_iso AS text),
                             'refunded_at', NULL), :now
    FROM spent WHERE CAST(:key AS varchar) IS NOT NULL
)
SELECT prior.request_hash, prior.status AS answer_status, prior.body AS answer,
       spent.id, spent.campaign_id, spent.discount_cents, spent.payable
FROM (SELECT 1) AS one LEFT JOIN prior ON true LEFT JOIN spent ON true
""").columns(request_hash=String, answer_status=Integer, answer=_answers.c.body.type, id=String,
             campaign_id=String, discount_cents=Integer, payable=Integer))


def _acceptable_campaigns(now: dt.datetime) -> list[str]:
    """The campaigns whose vouchers a till may take at ``now`` by the clock: open, inside their hours
    and weekdays (from the snapshot of live campaigns; the statement reads their status again). Not
    those with a daily limit per shop: their sales count under a lock (the module's docstring)."""
    return [c.id for c in memo.live() if effective_status(c, now) is CampaignStatus.open and _inside_hours(c, now)
            and c.limit_per_merchant_day is None]


def _inside_hours(campaign: CampaignFacts, now: dt.datetime) -> bool:
    return within(now, city_zone(), campaign.valid_from, campaign.valid_to, campaign.valid_weekdays)


def _redeem_all_values(voucher_id: str, amount: int, actor: User, now: dt.datetime, key: str | None,
                       request_hash: str, campaign_ids: list[str], redemption_id: str, via: str) -> dict:
    """The parameters of ``_REDEEM_ALL``."""
    return dict(now=now, voucher_id=voucher_id, campaign_ids=campaign_ids, bill_cents=amount,
                merchant_id=actor.merchant_id, cashier_id=actor.id, key=key, redemption_id=redemption_id,
                entry_id=new_id(), unused_entry_id=new_id(), attempt_id=new_id(), request_hash=request_hash,
                redeemed_at_iso=iso(now), via=via)


def _spend_at_once(*args):
    """PostgreSQL: run ``_REDEEM_ALL`` (arguments as ``_redeem_all_values``); its row
    (``IntegrityError`` if a parallel request committed the same key or voucher first)."""
    return hot().write(_REDEEM_ALL, **_redeem_all_values(*args))


def _redeem_at_once(voucher_id: str, bill, actor: User, now: dt.datetime, key: str | None,
                    request_hash: str, via: str) -> tuple[dict, int] | None:
    """PostgreSQL's short way: the answer — a first answer under the key, or the sale — or None when
    nothing was written and the long way must say why."""
    amount = _valid_bill(bill)
    campaign_ids = _acceptable_campaigns(now) if amount is not None and actor.merchant_id else []
    if not campaign_ids:
        return None
    redemption_id = new_id()
    try:
        row = _spend_at_once(voucher_id, amount, actor, now, key, request_hash, campaign_ids, redemption_id, via)
    except IntegrityError:
        return None  # the same key or voucher, committed by a parallel request first: the long way tells
    stored = first_answer(request_hash, row.request_hash, row.answer_status, row.answer)
    if stored is not None:
        return stored
    if row.id is None:
        return None
    return _sale(redemption_id, row.id, actor.merchant_id, row.campaign_id, amount, row.discount_cents, now), 201


def _sale(redemption_id: str, voucher_id: str, merchant_id: str, campaign_id: str, bill: int, discount: int,
          now: dt.datetime) -> dict:
    """The answer to a redemption: ``discount`` is what the subsidy pays (from the voucher, never from
    the client, and never more than the bill — see ``subsidy``)."""
    return {"id": redemption_id, "voucher_id": voucher_id, "merchant_id": merchant_id, "campaign_id": campaign_id,
            "bill_cents": bill, "discount_cents": discount, "payable_cents": bill - discount,
            "redeemed_at": iso(now), "refunded_at": None}


def subsidy(face_cents: int, bill_cents: int, percent: int | None = None) -> int:
    """What a voucher worth ``face_cents`` pays towards ``bill_cents``: never more than the bill, so a
    shop cannot ring up a 1-fen sale and be paid the whole face value; a percent voucher ``percent``
    of the bill rounded down to the fen, up to ``face_cents`` (its cap). The rest goes back to the
    campaign (a ``reserved → available`` entry of kind ``unused``). ``_REDEEM_ALL`` says the same in SQL."""
    if percent is not None:
        return min(face_cents, bill_cents * percent // 100)
    return min(face_cents, bill_cents)


def _voucher_named(text, actor: User, now: dt.datetime, action: str, bill=None) -> tuple[str, str]:
    """The id of the voucher a scanned token or a typed code names, and how it was named ("qr",
    "printed" or "typed"); ``invalid_token``/``token_expired`` if none, ``voucher_revoked`` for a
    printed sheet revoked or reprinted since. A typed code's refusal is recorded by ``typed`` itself
    (its limits count the record); a QR's is the caller's to record."""
    code = typed.parse(text)
    if code is not None:
        _merchant_of(actor)
        return typed.voucher_named(code, actor, now, action, bill), typed.TYPED
    raw = text.strip("\r\n\t") if isinstance(text, str) else ""
    named = tokens.read(raw, now)
    if named.generation is None:
        return named.voucher_id, QR
    printing.sheet_in_force(named.voucher_id, named.generation)
    return named.voucher_id, PRINTED


def _scan(voucher_id: str, actor: User, key: str | None):
    """The ``_SCAN`` row for this shop and voucher; ``forbidden`` if the actor has no shop."""
    scan = (hot().one(_SCAN, p_merchant_id=actor.merchant_id, p_voucher_id=voucher_id, p_user_id=actor.id, p_key=key)
            if actor.merchant_id else None)
    if scan is None:
        raise _not_at_a_shop()
    return scan


def _named_voucher(scan):
    """The scan's voucher, or ``invalid_token`` when there is none (or it was never claimed)."""
    if scan.id is None or scan.status is VoucherStatus.available:
        raise InvalidToken()
    return scan


def _refuse_voucher_state(status: VoucherStatus, expires_at: dt.datetime | None, now: dt.datetime) -> None:
    if status is VoucherStatus.revoked:
        raise VoucherRevoked()
    if status is VoucherStatus.redeemed:
        raise AlreadyRedeemed()
    if status is VoucherStatus.expired or (expires_at is not None and now >= expires_at):
        raise VoucherExpired()


def _valid_bill(bill) -> int | None:
    limit = current_app.config["REDEMPTION_MAX_BILL_CENTS"]
    if isinstance(bill, bool) or not isinstance(bill, int) or not 0 < bill <= limit:
        return None
    return bill


def _check(voucher, bill, now: dt.datetime) -> int:
    """Every rule, in the contract's order, on a ``_SCAN`` row; the bill in fen when all hold."""
    _check_voucher(voucher, now)
    amount = _valid_bill(bill)
    if amount is not None and amount < voucher.threshold_cents:
        raise BelowThreshold(_("The bill must reach ¥%(threshold)s for this voucher.",
                               threshold=yuan_text(voucher.threshold_cents, grouping=False)))
    if amount is not None and subsidy(voucher.discount_cents, amount, voucher.percent) == 0:
        raise BelowThreshold(_("The bill is too small for this voucher to take anything off it."))
    if amount is None:
        raise ValidationError(errors=[{"field": "bill_cents", "message": _(
            "Enter the bill in fen as a whole number above 0 and at most %(max)d.",
            max=current_app.config["REDEMPTION_MAX_BILL_CENTS"])}])
    return amount


def _check_voucher(scan, now: dt.datetime) -> CampaignFacts:
    """The rules that do not depend on the bill, in the contract's order, on a ``_SCAN`` row."""
    _refuse_voucher_state(scan.status, scan.expires_at, now)
    if scan.merchant_status is MerchantStatus.suspended:
        raise MerchantSuspended()
    campaign = dataclasses.replace(memo.campaign(scan.campaign_id), status=scan.campaign_status)
    if scan.merchant_status is not MerchantStatus.approved or not scan.enrolled:
        raise MerchantNotEnrolled()
    if effective_status(campaign, now) is not CampaignStatus.open:
        raise CampaignClosed()
    if not _inside_hours(campaign, now):
        raise OutsideHours(_("This voucher can be used %(hours)s.", hours=_hours_text(campaign)))
    if campaign.limit_per_merchant_day is not None:  # a first look, without the lock: the sale counts again
        _refuse_over_limit(hot().one(_SALES_TODAY, **_sales_today_values(scan, scan.merchant_id, now)).sales,
                           campaign.limit_per_merchant_day)
    return campaign


def _sales_today_values(voucher, merchant_id: str, now: dt.datetime) -> dict:
    """The parameters of ``_SALES_TODAY`` for the voucher's person at the shop, today in the city."""
    return dict(p_campaign_id=voucher.campaign_id, p_person_id=voucher.person_id, p_merchant_id=merchant_id,
                p_since=city_day_bounds(city_day(now))[0])


def _refuse_over_limit(sales: int, limit: int) -> None:
    if sales >= limit:
        raise LimitReached(_("This customer has already used %(n)d vouchers of this campaign at this shop today, "
                             "the most it allows. They can use another here tomorrow.", n=limit))


def describe(token: str, actor: User, now: dt.datetime) -> dict:
    """What the till shows after a scan, before the bill is typed: the voucher's rule if this shop
    may take it now, or the refusal. Changes nothing; the redemption checks everything again."""
    try:
        voucher_id, via = _voucher_named(token, actor, now, CHECK)
    except DomainError as refusal:
        if typed.parse(token) is None:  # a typed code's refusal is recorded already
            _merchant_of(actor)
            _record_refusal(actor, now, refusal.code, None, None, QR, CHECK)
        raise
    voucher = None
    try:
        voucher = _named_voucher(_scan(voucher_id, actor, None))
        campaign = _check_voucher(voucher, now)
    except DomainError as refusal:
        _record_refusal(actor, now, refusal.code, voucher, None, via, CHECK)
        raise
    return {"voucher_id": voucher.id, "campaign": campaign.name, "threshold_cents": voucher.threshold_cents,
            "discount_cents": voucher.discount_cents, "percent": voucher.percent,
            "rule": rule_text(voucher.threshold_cents, voucher.discount_cents, voucher.percent)}


def preview(voucher: dict, bill) -> dict | None:
    """What a bill typed at the till would come to with a ``describe``d voucher: the discount and what
    to collect, or ``below_threshold``; None while the bill is not a valid amount."""
    amount = _valid_bill(bill)
    if amount is None:
        return None
    discount = subsidy(voucher["discount_cents"], amount, voucher["percent"])
    if amount < voucher["threshold_cents"] or discount == 0:
        return {"bill_cents": amount, "below_threshold": True}
    return {"bill_cents": amount, "below_threshold": False, "discount_cents": discount,
            "payable_cents": amount - discount}


def _hours_text(campaign) -> str:
    if campaign.valid_from and campaign.valid_to:
        if campaign.valid_to < campaign.valid_from:
            return _("from %(start)s to %(end)s the next day", start=campaign.valid_from, end=campaign.valid_to)
        return _("from %(start)s to %(end)s", start=campaign.valid_from, end=campaign.valid_to)
    return _("on the campaign's days only")


def _attempt(actor: User, now: dt.datetime, outcome: str, voucher, bill, via: str, action: str = REDEEM,
             redemption_id: str | None = None) -> dict:
    """The ``_INSERT_ATTEMPT`` values of one scan (a bill that is not a storable whole number is kept as none)."""
    return dict(id=new_id(), at=now, merchant_id=actor.merchant_id, cashier_id=actor.id,
                voucher_id=voucher.id if voucher else None, campaign_id=voucher.campaign_id if voucher else None,
                bill_cents=storable_bill(bill), outcome=outcome, redemption_id=redemption_id, via=via, action=action)


def _record_refusal(actor: User, now: dt.datetime, outcome: str, voucher, bill, via: str,
                    action: str = REDEEM) -> None:
    """Every refused scan or look is kept, with cashier, shop and reason (the bureau reviews them)."""
    end_read_transaction()
    with hot().transaction() as tx:
        tx.run(_INSERT_ATTEMPT, **_attempt(actor, now, outcome, voucher, bill, via, action))


def _merchant_of(actor: User):
    """The actor's shop (id and status, read now: a suspension takes effect at the next scan)."""
    merchant = hot().one(_MERCHANT, p_id=actor.merchant_id) if actor.merchant_id else None
    if merchant is None:
        raise _not_at_a_shop()
    return merchant


def _not_at_a_shop() -> Forbidden:
    return Forbidden(_("Only a shop's cashiers and owner can redeem vouchers."))


def redeem(token: str, bill, actor: User, now: dt.datetime, key: str | None = None) -> tuple[dict, int]:
    """Redeem the voucher ``token`` names against ``bill`` (fen) at the actor's shop."""
    request_hash = fingerprint("redeem", {"token": token, "bill_cents": bill})
    if typed.parse(token) is not None:  # a retry must not count as a wrong code once the minute passed
        stored = replay(actor.id, key, request_hash)
        if stored is not None:
            return stored
    try:
        voucher_id, via = _voucher_named(token, actor, now, REDEEM, bill)
    except DomainError as refusal:
        stored = replay(actor.id, key, request_hash)  # a first answer outlives the token's minute
        if stored is not None:
            return stored
        if typed.parse(token) is None:  # a typed code's refusal is recorded already
            _merchant_of(actor)
            _record_refusal(actor, now, refusal.code, None, bill, QR)
        raise
    if not hot().sqlite:
        answer = _redeem_at_once(voucher_id, bill, actor, now, key, request_hash, via)
        if answer is not None:
            return answer
    scan = _scan(voucher_id, actor, key)
    stored = first_answer(request_hash, scan.request_hash, scan.answer_status, scan.answer)
    if stored is not None:
        return stored
    voucher = None
    try:
        voucher = _named_voucher(scan)
        amount = _check(voucher, bill, now)
        body = _redeem_once(voucher, amount, actor, now, key, request_hash, via)
    except DomainError as refusal:
        _record_refusal(actor, now, refusal.code, voucher, bill, via)
        raise
    return body, 201


def _redeem_once(voucher, bill: int, actor: User, now: dt.datetime, key: str | None, request_hash: str,
                 via: str) -> dict:
    body = _sale(new_id(), voucher.id, voucher.merchant_id, voucher.campaign_id, bill,
                 subsidy(voucher.discount_cents, bill, voucher.percent), now)
    limit = memo.campaign(voucher.campaign_id).limit_per_merchant_day
    try:
        if hot().sqlite:
            _spend_in_transaction(voucher, bill, actor, now, key, request_hash, body, via, limit)
        else:
            body = _spend_in_one_statement(voucher, bill, actor, now, key, request_hash, body, via, limit)
    except IntegrityError:
        # Another redemption of this voucher, or this key, committed first.
        stored = replay(actor.id, key, request_hash)
        if stored is not None:
            return stored[0]
        raise AlreadyRedeemed() from None
    return body


def _spend_in_transaction(voucher, bill: int, actor: User, now: dt.datetime, key: str | None,
                          request_hash: str, body: dict, via: str, limit: int | None) -> None:
    """SQLite: the spend and its records in one short write transaction (begun ``IMMEDIATE``: the
    person's sales today counted in it cannot change before it commits)."""
    end_read_transaction()
    with hot().transaction() as tx:
        if tx.one(_SPEND, p_id=voucher.id, p_now=now) is None:
            _refuse_unspent(tx.one(_STATE, p_id=voucher.id), now)
        if limit is not None:
            _refuse_over_limit(tx.one(_SALES_TODAY, **_sales_today_values(voucher, voucher.merchant_id, now)).sales,
                               limit)
        tx.run(_INSERT_REDEMPTION, id=body["id"], voucher_id=voucher.id, campaign_id=voucher.campaign_id,
               merchant_id=voucher.merchant_id, cashier_id=actor.id, bill_cents=bill,
               discount_cents=body["discount_cents"],
               payable_cents=body["payable_cents"], redeemed_at=now)
        tx.run(_INSERT_ENTRY, id=new_id(), campaign_id=voucher.campaign_id, voucher_id=voucher.id,
               amount_cents=body["discount_cents"], at=now)
        if (unused := voucher.discount_cents - body["discount_cents"]) > 0:
            tx.run(_INSERT_UNUSED, id=new_id(), campaign_id=voucher.campaign_id, voucher_id=voucher.id,
                   amount_cents=unused, at=now)
        tx.run(_INSERT_ATTEMPT, **_attempt(actor, now, "ok", voucher, bill, via, REDEEM, body["id"]))
        if key is not None:
            tx.run(_INSERT_ANSWER, user_id=actor.id, key=key, request_hash=request_hash, body=body, created_at=now)


def _spend_in_one_statement(voucher, bill: int, actor: User, now: dt.datetime, key: str | None,
                            request_hash: str, body: dict, via: str, limit: int | None) -> dict:
    """PostgreSQL's long way, the rules checked: ``_REDEEM_ALL`` for this voucher's campaign (under the
    person's lock at the shop when the campaign limits their sales there); when it spends nothing, a
    first answer stored meanwhile or the voucher's state says why."""
    values = (voucher.id, bill, actor, now, key, request_hash, [voucher.campaign_id], body["id"], via)
    row = _spend_at_once(*values) if limit is None else _spend_within_limit(voucher, limit, now, values)
    stored = first_answer(request_hash, row.request_hash, row.answer_status, row.answer)
    if stored is not None:
        return stored[0]
    if row.id is None:
        _refuse_unspent(hot().one(_STATE, p_id=voucher.id), now)
    return body


def _spend_within_limit(voucher, limit: int, now: dt.datetime, values: tuple):
    """PostgreSQL: ``_REDEEM_ALL`` in a transaction holding the advisory lock of this person at this
    shop in this campaign, once the person's sales there today (counted under it) leave room."""
    person_at_shop = f"{voucher.campaign_id}|{voucher.person_id}|{voucher.merchant_id}".encode()
    lock_key = int.from_bytes(hashlib.blake2b(person_at_shop, digest_size=8).digest(), "big", signed=True)
    with write_transaction():
        db.session.execute(_LOCK_PERSON_AT_SHOP, {"key": lock_key})
        sales = db.session.execute(_SALES_TODAY.statement,
                                   _sales_today_values(voucher, voucher.merchant_id, now)).scalar_one()
        if sales >= limit:  # a voucher spent meanwhile says so first, as the contract orders the refusals
            _refuse_voucher_state(*db.session.execute(_STATE.statement, {"p_id": voucher.id}).one(), now)
        _refuse_over_limit(sales, limit)
        return db.session.execute(_REDEEM_ALL.statement, _redeem_all_values(*values)).one()


def _refuse_unspent(state, now: dt.datetime) -> None:
    """The refusal for a voucher the spend did not match, from its state (``_STATE``) read after."""
    _refuse_voucher_state(state.status, state.expires_at, now)
    raise AlreadyRedeemed()


# Refunds ----------------------------------------------------------------------------------------------

def refund(redemption_id: str, amount_cents, actor: User, now: dt.datetime) -> dict:
    """A full refund by the same shop within seven days: the voucher is usable again if still valid,
    otherwise it expires and its value returns to the campaign. The owner refunds, or a cashier the
    owner allowed to (a refund hands money back across the counter). A refund after the sale's day
    was settled is counted on the statement of the day it is made, never on the closed one."""
    if not may_refund(actor):
        raise Forbidden(_("Only the shop's owner can refund, or a cashier the owner has allowed to."))
    merchant = _merchant_of(actor)
    with write_transaction():
        # The row's lock also orders the refund against a clawback (``fraud/clawback.py``), whose UPDATE
        # takes only a redemption not refunded: whichever locks first wins, the other reads its outcome
        # (PostgreSQL re-reads the locked row; on SQLite writers run one at a time).
        redemption = db.session.scalars(select(Redemption).where(Redemption.id == redemption_id)
                                        .with_for_update().execution_options(populate_existing=True)).first()
        if redemption is None or redemption.merchant_id != merchant.id:
            raise NotFound(_("There is no such redemption at this shop."))
        if merchant.status is MerchantStatus.suspended:
            raise MerchantSuspended()
        if amount_cents is not None and amount_cents != redemption.bill_cents:
            raise ValidationError(_("Only a full refund of the whole bill is possible; partial refunds are "
                                    "not supported."), errors=[{"field": "amount_cents", "message": _(
                                        "Partial refunds are not supported.")}])
        if redemption.refunded_at is not None:
            raise Conflict(_("This redemption has already been refunded."))
        if redemption.clawed_back_at is not None:
            raise ClawedBack()
        if now - redemption.redeemed_at > dt.timedelta(days=REFUND_DAYS):
            raise Conflict(_("Returns are refunded within %(n)d days of the purchase.", n=REFUND_DAYS))
        voucher = db.session.scalars(select(Voucher).where(Voucher.id == redemption.voucher_id)
                                     .with_for_update()).one()
        # The campaign's row shared (``FOR KEY SHARE``): a cancel, which locks it to revoke the claimed
        # vouchers, waits for this refund or runs first; it cannot miss the voucher this makes claimed.
        campaign = db.session.scalars(select(Campaign).where(Campaign.id == voucher.campaign_id)
                                      .with_for_update(read=True, key_share=True)).one()
        still_valid = now < voucher.expires_at and effective_status(campaign, now) is CampaignStatus.open
        redemption.refunded_at, redemption.refunded_by = now, actor.id
        voucher.status = VoucherStatus.claimed if still_valid else VoucherStatus.expired
        voucher.redeemed_at = None
        if not still_valid:
            voucher.expired_at = now
        # The subsidy comes back to reserved; a voucher usable again takes back the part its sale left
        # unused (``subsidy``), one that is not gives the subsidy back to the campaign.
        unused = voucher.discount_cents - redemption.discount_cents
        entries = [(Account.payable, Account.reserved, "refund", redemption.discount_cents)]
        if still_valid and unused > 0:
            entries.append((Account.available, Account.reserved, "refund", unused))
        if not still_valid:
            entries.append((Account.reserved, Account.available, "expire", redemption.discount_cents))
        for source, target, kind, amount in entries:
            db.session.add(LedgerEntry(campaign_id=voucher.campaign_id, voucher_id=voucher.id, from_account=source,
                                       to_account=target, amount_cents=amount, kind=kind, at=now))
        body = {**redemption_out(redemption), "voucher_status": voucher.status.value}
    return body


def may_refund(actor: User) -> bool:
    return actor.role is Role.merchant_owner or (actor.role is Role.cashier and bool(actor.refunds_allowed))


def shop_redemptions(actor: User, day: dt.date) -> list[Redemption]:
    """The shop's redemptions on ``day`` (a date in the city), newest first."""
    merchant = _merchant_of(actor)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=city_zone())
    return list(db.session.scalars(
        select(Redemption).where(Redemption.merchant_id == merchant.id,
                                 and_(Redemption.redeemed_at >= start,
                                      Redemption.redeemed_at < start + dt.timedelta(days=1)))
        .order_by(Redemption.redeemed_at.desc())))


def where_used(voucher_ids: list[str]) -> dict[str, dict]:
    """For redeemed vouchers: the shop, the saving and when (the redemption in force), and until when the
    resident may ask the shop to refund it (a complaint or a return request names the redemption)."""
    if not voucher_ids:
        return {}
    rows = db.session.execute(
        select(Redemption.voucher_id, Merchant.name, Redemption.discount_cents, Redemption.redeemed_at,
               Redemption.id, Redemption.merchant_id)
        .join(Merchant, Merchant.id == Redemption.merchant_id)
        .where(Redemption.voucher_id.in_(voucher_ids), Redemption.refunded_at.is_(None)))
    return {voucher_id: {"merchant": name, "saved_cents": saved, "at": iso(at), "redemption_id": redemption_id,
                         "merchant_id": merchant_id, "refund_until": iso(at + dt.timedelta(days=REFUND_DAYS))}
            for voucher_id, name, saved, at, redemption_id, merchant_id in rows}
