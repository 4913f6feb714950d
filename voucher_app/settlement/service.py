"""Settlement (结算): a statement per merchant per city day of what the bureau owes, and the payout.

The ``settle`` sweep settles every whole day not yet settled, up to yesterday, one day per
transaction, so a scheduler that was down for a week catches up in one run and a second run finds
nothing to do (a statement is unique per merchant and day). Redemptions count on the day they were
made, refunds on the day they were made. A suspended merchant's statement is held: the money stays
payable until the merchant is reinstated, and the next run pays it.

Paying out is recorded in the ledger per campaign: ``payable → settled`` for what is owed, and
``settled → payable`` for a day whose refunds of earlier (already paid) sales exceed its sales.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from campaigns.models import Campaign, CampaignStatus
from merchants.models import Merchant, MerchantStatus
from voucher_app.accounts.models import User
from voucher_app.core.clock import city_day, city_day_bounds
from voucher_app.core.database import write_transaction
from voucher_app.core.errors import Forbidden, NotFound, ValidationError
from voucher_app.core.extensions import db
from voucher_app.core.roles import BUREAU, Role
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.ledger.service import balances
from voucher_app.redemptions.models import Redemption
from voucher_app.redemptions.service import REFUND_DAYS
from voucher_app.settlement.models import SettlementLine, SettlementStatement, StatementStatus
from voucher_app.settlement.schemas import PAGE_SIZE, statement_out
from voucher_app.vouchers.models import Voucher, VoucherStatus


def settle(now: dt.datetime) -> dict[str, int]:
    """Settle every unsettled day up to yesterday, pay held statements of reinstated merchants, and
    mark closed campaigns whose money is all paid as settled."""
    days = statements = held = 0
    yesterday = city_day(now) - dt.timedelta(days=1)
    day = _first_unsettled_day()
    while day is not None and day <= yesterday:
        made, kept = _settle_day(day, now)
        statements, held, days = statements + made, held + kept, days + 1
        day += dt.timedelta(days=1)
    released = _release_held(now)
    campaigns = _mark_campaigns_settled(now)
    return {"days_settled": days, "statements": statements, "statements_held": held,
            "statements_released": released, "campaigns_settled": campaigns}


def _first_unsettled_day() -> dt.date | None:
    last = db.session.scalar(select(func.max(SettlementStatement.day)))
    if last is not None:
        return last + dt.timedelta(days=1)
    first = db.session.scalar(select(func.min(Redemption.redeemed_at)))
    return city_day(first) if first is not None else None


def _settle_day(day: dt.date, now: dt.datetime) -> tuple[int, int]:
    start, end = city_day_bounds(day)
    lines: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)  # merchant → campaign → figures

    def line(merchant_id: str, campaign_id: str) -> dict[str, int]:
        return lines[merchant_id].setdefault(campaign_id, {"redemptions": 0, "bill_cents": 0, "redeemed_cents": 0,
                                                           "refunds": 0, "refunded_cents": 0})

    r = Redemption
    with write_transaction():
        if db.session.scalar(select(func.count()).where(SettlementStatement.day == day)):
            return 0, 0  # settled by a run that overlapped this one
        for merchant_id, campaign_id, n, bills, discounts in db.session.execute(
                select(r.merchant_id, r.campaign_id, func.count(), func.sum(r.bill_cents), func.sum(r.discount_cents))
                .where(r.redeemed_at >= start, r.redeemed_at < end).group_by(r.merchant_id, r.campaign_id)):
            figures = line(merchant_id, campaign_id)
            figures.update(redemptions=n, bill_cents=int(bills), redeemed_cents=int(discounts))
        for merchant_id, campaign_id, n, discounts in db.session.execute(
                select(r.merchant_id, r.campaign_id, func.count(), func.sum(r.discount_cents))
                .where(r.refunded_at >= start, r.refunded_at < end).group_by(r.merchant_id, r.campaign_id)):
            line(merchant_id, campaign_id).update(refunds=n, refunded_cents=int(discounts))
        if not lines:
            return 0, 0
        suspended = set(db.session.scalars(select(Merchant.id).where(Merchant.id.in_(lines),
                                                                      Merchant.status == MerchantStatus.suspended)))
        for merchant_id, by_campaign in lines.items():
            statement = SettlementStatement(merchant_id=merchant_id, day=day, created_at=now,
                                            status=StatementStatus.held if merchant_id in suspended
                                            else StatementStatus.settled)
            for campaign_id, figures in by_campaign.items():
                statement.lines.append(SettlementLine(campaign_id=campaign_id, **figures,
                                                      net_cents=figures["redeemed_cents"] - figures["refunded_cents"]))
            for field in ("redemptions", "bill_cents", "redeemed_cents", "refunds", "refunded_cents", "net_cents"):
                setattr(statement, field, sum(getattr(ln, field) for ln in statement.lines))
            db.session.add(statement)
            if statement.status is StatementStatus.settled:
                _pay(statement, now)
    return len(lines), len(suspended)


def _pay(statement: SettlementStatement, now: dt.datetime) -> None:
    statement.status, statement.settled_at = StatementStatus.settled, now
    for ln in statement.lines:
        if ln.net_cents:
            source, target = ((Account.payable, Account.settled) if ln.net_cents > 0
                              else (Account.settled, Account.payable))
            db.session.add(LedgerEntry(campaign_id=ln.campaign_id, from_account=source, to_account=target,
                                       amount_cents=abs(ln.net_cents), kind="settle", at=now))


def _release_held(now: dt.datetime) -> int:
    with write_transaction():
        held = db.session.scalars(
            select(SettlementStatement).join(Merchant, Merchant.id == SettlementStatement.merchant_id)
            .where(SettlementStatement.status == StatementStatus.held, Merchant.status == MerchantStatus.approved)
            .with_for_update(of=SettlementStatement)).all()
        for statement in held:
            _pay(statement, now)
    return len(held)


def _mark_campaigns_settled(now: dt.datetime) -> int:
    """A closed campaign is settled once no sale can be refunded, no voucher is still claimed, and
    nothing is owed to a merchant."""
    done = 0
    with write_transaction():
        candidates = db.session.scalars(
            select(Campaign).where(Campaign.status == CampaignStatus.closed,
                                   Campaign.ends_at <= now - dt.timedelta(days=REFUND_DAYS))).all()
        for campaign in candidates:
            unused = db.session.scalar(select(func.count()).where(Voucher.campaign_id == campaign.id,
                                                                  Voucher.status == VoucherStatus.claimed))
            if unused or balances(campaign.id).get(Account.payable.value, 0) != 0:
                continue
            campaign.status, campaign.settled_at = CampaignStatus.settled, now
            done += 1
    return done


# Reading statements --------------------------------------------------------------------------------

def statements_for(merchant_id: str | None, cursor: str | None, limit: int = PAGE_SIZE, *,
                   day_from: dt.date | None = None, day_to: dt.date | None = None, status: str | None = None):
    """Statements, newest day first: one merchant's (``merchant_id``) or every merchant's.

    Paged by (day, id) rather than by id alone: ids follow the moment a statement was written, a
    catch-up run writes one day after another a millisecond or so apart, and within one millisecond
    the order of ULIDs is random. The cursor is still just the last id shown; its day is looked up.
    """
    s = SettlementStatement
    query = (_filtered(select(s), merchant_id, day_from, day_to, status)
             .order_by(s.day.desc(), s.id.desc()).limit(limit + 1)
             .options(selectinload(s.lines)).execution_options(populate_existing=True))
    if cursor:
        day = db.session.scalar(select(s.day).where(s.id == cursor))
        if day is None:
            raise ValidationError(errors=[{"field": "cursor", "message": _("This value is not valid.")}])
        query = query.where(or_(s.day < day, and_(s.day == day, s.id < cursor)))
    rows = list(db.session.scalars(query))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def _filtered(query, merchant_id: str | None, day_from: dt.date | None, day_to: dt.date | None,
              status: str | None):
    s = SettlementStatement
    if merchant_id is not None:
        query = query.where(s.merchant_id == merchant_id)
    if day_from is not None:
        query = query.where(s.day >= day_from)
    if day_to is not None:
        query = query.where(s.day <= day_to)
    if status:
        query = query.where(s.status == StatementStatus(status))
    return query


# Who sees which statements, and what the API, the pages and the exports show -------------------------

STATUS_LABELS = {"settled": _l("paid"), "held": _l("held")}


def statement_status_label(status: str) -> str:
    """A statement's status in the reader's language."""
    return str(STATUS_LABELS.get(status, status))


def merchant_scope(actor: User, merchant_id: str | None) -> str | None:
    """Whose statements ``actor`` may list: the bureau every merchant's (or the one asked for), an owner
    only their own shop's. Asking for another shop's is refused outright: a list reveals no ids."""
    if actor.role in BUREAU:
        return merchant_id
    if actor.role is Role.merchant_owner and actor.merchant_id and merchant_id in (None, actor.merchant_id):
        return actor.merchant_id
    raise Forbidden(_("You can only see your own shop's statements."))


def visible_statement(actor: User, statement_id: str) -> SettlementStatement:
    """One statement: any for the bureau, only their own shop's for an owner; another shop's is
    ``not_found``, so nobody learns which ids exist by trying them."""
    if len(statement_id) > 26:  # longer than any id: not worth a query
        raise NotFound(_("There is no such statement."))
    statement = db.session.scalars(
        select(SettlementStatement).where(SettlementStatement.id == statement_id)
        .options(selectinload(SettlementStatement.lines)).execution_options(populate_existing=True)).first()
    if statement is None or not (actor.role in BUREAU or (actor.role is Role.merchant_owner
                                                          and actor.merchant_id == statement.merchant_id)):
        raise NotFound(_("There is no such statement."))
    return statement


TOTAL_FIELDS = ("redemptions", "bill_cents", "redeemed_cents", "refunds", "refunded_cents", "net_cents")


def statement_totals(merchant_id: str | None, *, day_from: dt.date | None = None, day_to: dt.date | None = None,
                     status: str | None = None) -> dict[str, int]:
    """The sums over every statement a filter selects (not just one page), and how many there are."""
    s = SettlementStatement
    columns = [func.count(s.id), *(func.coalesce(func.sum(getattr(s, f)), 0) for f in TOTAL_FIELDS)]
    row = db.session.execute(_filtered(select(*columns), merchant_id, day_from, day_to, status)).one()
    return dict(zip(("statements", *TOTAL_FIELDS), (int(v) for v in row)))


def statements_out(statements: list[SettlementStatement]) -> list[dict]:
    """``statement_out`` of each, with its merchant's name and each line's campaign name."""
    merchants = _names(Merchant, {s.merchant_id for s in statements})
    campaigns = _names(Campaign, {ln.campaign_id for s in statements for ln in s.lines})
    out = []
    for statement in statements:
        body = {**statement_out(statement), "merchant_name": merchants.get(statement.merchant_id)}
        for line in body["lines"]:
            line["campaign_name"] = campaigns.get(line["campaign_id"])
        out.append(body)
    return out


def _names(model, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


def statement_rows(merchant_id: str | None, *, day_from: dt.date | None = None, day_to: dt.date | None = None,
                   status: str | None = None) -> Iterator[tuple[SettlementStatement, str]]:
    """Every statement a filter selects with its merchant's name, newest day first, read in batches:
    an export is not paged, and a year of a city's statements should not sit in memory twice."""
    s = SettlementStatement
    query = (_filtered(select(s, Merchant.name).join(Merchant, Merchant.id == s.merchant_id),
                       merchant_id, day_from, day_to, status)
             .order_by(s.day.desc(), Merchant.name, s.id).execution_options(yield_per=500))
    yield from db.session.execute(query).tuples()


def merchants_with_statements() -> list[tuple[str, str]]:
    """(id, name) of every merchant that has a statement, by name: the bureau's merchant filter."""
    having = select(SettlementStatement.merchant_id).distinct()
    return [tuple(row) for row in db.session.execute(
        select(Merchant.id, Merchant.name).where(Merchant.id.in_(having)).order_by(Merchant.name, Merchant.id))]


def statement_activity(statement: SettlementStatement) -> tuple[list[Redemption], list[Redemption]]:
    """What a statement counts, one by one: the shop's sales made that city day, and its refunds made
    that day (of sales of any day, which is why a day can owe less than nothing)."""
    start, end = city_day_bounds(statement.day)
    r = Redemption
    mine = select(r).where(r.merchant_id == statement.merchant_id)
    sales = db.session.scalars(mine.where(r.redeemed_at >= start, r.redeemed_at < end).order_by(r.redeemed_at, r.id))
    refunds = db.session.scalars(mine.where(r.refunded_at >= start, r.refunded_at < end)
                                 .order_by(r.refunded_at, r.id))
    return list(sales), list(refunds)
