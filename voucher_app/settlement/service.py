"""Settlement (结算): a statement per merchant per city day of what the bureau owes, and the payout.

The ``settle`` sweep settles every whole day not yet settled, up to yesterday, one day per
transaction, so a scheduler that was down for a week catches up in one run and a second run finds
nothing to do (a statement is unique per merchant and day). Redemptions count on the day they were
made, refunds on the day they were made, clawbacks (``fraud/clawback.py``) on the day they were made:
``net = redeemed − refunded − clawed back``.

Held statements: a statement is held — its money stays payable — while its merchant is suspended or
has an open fraud flag scoring at least ``FRAUD_HOLD_SCORE``; ``hold_reason`` keeps why, in words of
no language (``schemas.hold_reason_value``), rendered for each reader. Every run pays the held
statements of merchants that are approved and no longer flagged: hold → flag cleared → paid by the next
run. A confirmed flag claws the named sales back on the day of the confirmation; the held statement is
then paid as it stands and the clawback day's statement takes the subsidy back.

Paying out is recorded in the ledger per campaign: ``payable → settled`` for what is owed, and
``settled → payable`` for a day whose refunds and clawbacks of earlier (already paid) sales exceed its
sales — the shop's next payment is that much smaller.

Why no sale is missed or paid twice
-----------------------------------
A sale's time (``redeemed_at``) is read from the clock before its transaction commits, so a sale
stamped 23:59:59.9 can become visible after midnight — after a settlement that read its day had
already finished, had that settlement started at 00:00. Two defences:

* the horizon: a day is settled only once ``SETTLEMENT_HORIZON_SECONDS`` have passed since it ended,
  longer than any write transaction lasts (the till's is one statement; a request is cut off long
  before), so every sale or refund stamped that day has committed when its day is read;
* the late check, behind it: each run first reads the last ``SETTLEMENT_RECHECK_DAYS`` settled days
  again and compares their sales, refunds and clawbacks with what their statements counted. A row that
  committed after its day was settled anyway (a transaction that outlived the horizon) is added to
  its own day's statement and the difference paid then, with an audit record. Comparing counts with
  facts, under the statement's lock, makes it exactly once: a second run, or one that overlaps this
  one, finds the statement already agreeing with the facts.

Sales, refunds and clawbacks are only ever added to a day (a refund or a clawback is a new fact of the
day it was made, and a sale's row is never deleted), so a statement can only lag behind its day's
facts, never run ahead.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from campaigns.models import Campaign, CampaignStatus
from merchants.models import Merchant, MerchantStatus
from voucher_app.accounts.models import User
from voucher_app.core import versions
from voucher_app.core.audit import AuditRecord
from voucher_app.core.clock import city_day, city_day_bounds
from voucher_app.core.database import new_id, write_transaction
from voucher_app.core.errors import Forbidden, NotFound, ValidationError
from voucher_app.core.extensions import db
from voucher_app.core.roles import BUREAU, Role
from voucher_app.fraud.models import Flag, FlagStatus
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.ledger.service import balances
from voucher_app.redemptions.models import Redemption
from voucher_app.redemptions.service import REFUND_DAYS
from voucher_app.settlement.models import SettlementLine, SettlementStatement, StatementStatus
from voucher_app.settlement.schemas import PAGE_SIZE, hold_of, hold_reason_text, hold_reason_value, statement_out
from voucher_app.vouchers.models import Voucher, VoucherStatus


def settle(now: dt.datetime) -> dict[str, int]:
    """Amend settled days with what committed late, settle every unsettled day that ended at least the
    horizon ago, pay held statements of merchants reinstated and no longer flagged, and mark closed
    campaigns whose money is all paid as settled."""
    days = statements = held = 0
    last = _last_settleable_day(now)
    day = _first_unsettled_day()
    amended = _settle_late(day, now) if day is not None else 0
    while day is not None and day <= last:
        made, kept = _settle_day(day, now)
        statements, held, days = statements + made, held + kept, days + 1
        day += dt.timedelta(days=1)
    released = _release_held(now)
    campaigns = _mark_campaigns_settled(now)
    return {"days_settled": days, "statements": statements, "statements_held": held,
            "statements_amended": amended, "statements_released": released, "campaigns_settled": campaigns}


def _last_settleable_day(now: dt.datetime) -> dt.date:
    """The last city day that ended at least ``SETTLEMENT_HORIZON_SECONDS`` before ``now``."""
    horizon = dt.timedelta(seconds=current_app.config["SETTLEMENT_HORIZON_SECONDS"])
    return city_day(now - horizon) - dt.timedelta(days=1)


def _first_unsettled_day() -> dt.date | None:
    last = db.session.scalar(select(func.max(SettlementStatement.day)))
    if last is not None:
        return last + dt.timedelta(days=1)
    first = db.session.scalar(select(func.min(Redemption.redeemed_at)))
    return city_day(first) if first is not None else None


FACT_FIELDS = ("redemptions", "bill_cents", "redeemed_cents", "refunds", "refunded_cents", "clawbacks",
               "clawed_back_cents")
Figures = dict[str, int]


def _net(figures) -> int:
    """What a line or a day's facts owe the shop: the sales' subsidy less refunds and clawbacks."""
    get = figures.get if isinstance(figures, dict) else lambda f: getattr(figures, f)
    return get("redeemed_cents") - get("refunded_cents") - get("clawed_back_cents")


def _facts(start: dt.datetime, end: dt.datetime, merchant_id: str | None = None) -> dict[tuple[str, str], Figures]:
    """The sales, refunds and clawbacks made in [start, end), per (merchant, campaign): what statements count."""
    r = Redemption
    figures: dict[tuple[str, str], Figures] = {}
    sales = (select(r.merchant_id, r.campaign_id, func.count(), func.sum(r.bill_cents), func.sum(r.discount_cents))
             .where(r.redeemed_at >= start, r.redeemed_at < end).group_by(r.merchant_id, r.campaign_id))
    refunds = (select(r.merchant_id, r.campaign_id, func.count(), func.sum(r.discount_cents))
               .where(r.refunded_at >= start, r.refunded_at < end).group_by(r.merchant_id, r.campaign_id))
    clawbacks = (select(r.merchant_id, r.campaign_id, func.count(), func.sum(r.discount_cents))
                 .where(r.clawed_back_at >= start, r.clawed_back_at < end).group_by(r.merchant_id, r.campaign_id))
    if merchant_id is not None:
        sales, refunds, clawbacks = (q.where(r.merchant_id == merchant_id) for q in (sales, refunds, clawbacks))
    for merchant, campaign, n, bills, discounts in db.session.execute(sales):
        figures.setdefault((merchant, campaign), dict.fromkeys(FACT_FIELDS, 0)).update(
            redemptions=n, bill_cents=int(bills), redeemed_cents=int(discounts))
    for merchant, campaign, n, discounts in db.session.execute(refunds):
        figures.setdefault((merchant, campaign), dict.fromkeys(FACT_FIELDS, 0)).update(
            refunds=n, refunded_cents=int(discounts))
    for merchant, campaign, n, discounts in db.session.execute(clawbacks):
        figures.setdefault((merchant, campaign), dict.fromkeys(FACT_FIELDS, 0)).update(
            clawbacks=n, clawed_back_cents=int(discounts))
    return figures


def _settle_day(day: dt.date, now: dt.datetime) -> tuple[int, int]:
    start, end = city_day_bounds(day)
    with write_transaction():
        if db.session.scalar(select(func.count()).where(SettlementStatement.day == day)):
            return 0, 0  # settled by a run that overlapped this one
        lines: dict[str, dict[str, Figures]] = defaultdict(dict)  # merchant → campaign → figures
        for (merchant_id, campaign_id), figures in _facts(start, end).items():
            lines[merchant_id][campaign_id] = figures
        if not lines:
            return 0, 0
        holds = _holds(list(lines))
        for merchant_id, by_campaign in lines.items():
            _new_statement(merchant_id, day, by_campaign, holds.get(merchant_id), now)
    return len(lines), len(holds)


def _holds(merchant_ids: list[str]) -> dict[str, str]:
    """Why each of these merchants' statements must be held now (``hold_reason``); a merchant whose
    statements may be paid is not in it. Suspended, or an open flag of at least ``FRAUD_HOLD_SCORE``."""
    suspended = set(db.session.scalars(select(Merchant.id).where(Merchant.id.in_(merchant_ids),
                                                                 Merchant.status == MerchantStatus.suspended)))
    flagged: dict[str, list[str]] = defaultdict(list)
    for merchant_id, flag_id in db.session.execute(
            select(Flag.merchant_id, Flag.id).where(Flag.merchant_id.in_(merchant_ids), _holding_flag())
            .order_by(Flag.id)):
        flagged[merchant_id].append(flag_id)
    return {merchant_id: hold_reason_value(merchant_id in suspended, flagged.get(merchant_id, []))
            for merchant_id in suspended | set(flagged)}


def _holding_flag():
    """The condition of a flag that holds its shop's statements."""
    return and_(Flag.status == FlagStatus.open, Flag.score >= current_app.config["FRAUD_HOLD_SCORE"])


def _new_statement(merchant_id: str, day: dt.date, by_campaign: dict[str, Figures], hold: str | None,
                   now: dt.datetime) -> SettlementStatement:
    """A statement of ``by_campaign``'s figures, paid at once unless there is a reason to hold it."""
    statement = SettlementStatement(id=new_id(), merchant_id=merchant_id, day=day, created_at=now,
                                    status=StatementStatus.held if hold else StatementStatus.settled,
                                    hold_reason=hold)
    for campaign_id, figures in by_campaign.items():
        statement.lines.append(SettlementLine(campaign_id=campaign_id, **figures, net_cents=_net(figures)))
    _add_up(statement)
    db.session.add(statement)
    if statement.status is StatementStatus.settled:
        _pay(statement, now)
    return statement


def _add_up(statement: SettlementStatement) -> None:
    for field in (*FACT_FIELDS, "net_cents"):
        setattr(statement, field, sum(getattr(ln, field) for ln in statement.lines))


def _pay(statement: SettlementStatement, now: dt.datetime) -> None:
    statement.status, statement.settled_at = StatementStatus.settled, now
    for ln in statement.lines:
        _move(ln.campaign_id, ln.net_cents, now)


def _move(campaign_id: str, net_cents: int, now: dt.datetime) -> None:
    """Pay ``net_cents`` of a campaign's subsidy out (``payable → settled``), or back when negative."""
    if net_cents:
        source, target = (Account.payable, Account.settled) if net_cents > 0 else (Account.settled, Account.payable)
        db.session.add(LedgerEntry(campaign_id=campaign_id, from_account=source, to_account=target,
                                   amount_cents=abs(net_cents), kind="settle", at=now))


# Late sales, refunds and clawbacks: the check behind the horizon (see the module's docstring) ---------------------

def _settle_late(first_unsettled: dt.date, now: dt.datetime) -> int:
    """Bring every statement of the last ``SETTLEMENT_RECHECK_DAYS`` settled days up to its day's facts;
    returns how many statements were amended or made.

    One pass over the window finds the merchants whose statements lag (per merchant and campaign,
    summed over the window: a statement can only lag, so equal sums mean equal days); only their
    days are then compared one by one."""
    day_from = first_unsettled - dt.timedelta(days=current_app.config["SETTLEMENT_RECHECK_DAYS"])
    day_to = first_unsettled - dt.timedelta(days=1)
    facts = _facts(city_day_bounds(day_from)[0], city_day_bounds(day_to)[1])
    counted = _counted(day_from, day_to)
    lagging = sorted({key[0] for key in facts.keys() | counted.keys() if facts.get(key) != counted.get(key)})
    amended = 0
    for merchant_id in lagging:
        day = day_from
        while day <= day_to:
            amended += _amend(merchant_id, day, now)
            day += dt.timedelta(days=1)
    return amended


def _counted(day_from: dt.date, day_to: dt.date) -> dict[tuple[str, str], Figures]:
    """What the statements of days ``day_from``…``day_to`` counted, per (merchant, campaign)."""
    s, ln = SettlementStatement, SettlementLine
    rows = db.session.execute(
        select(s.merchant_id, ln.campaign_id, *(func.sum(getattr(ln, f)) for f in FACT_FIELDS))
        .join(s, s.id == ln.statement_id).where(s.day >= day_from, s.day <= day_to)
        .group_by(s.merchant_id, ln.campaign_id))
    return {(merchant, campaign): dict(zip(FACT_FIELDS, map(int, sums))) for merchant, campaign, *sums in rows}


def _amend(merchant_id: str, day: dt.date, now: dt.datetime) -> bool:
    """Make the merchant's statement of ``day`` count every sale, refund and clawback of that day, paying the
    difference if it was paid (a held one is paid in full on release); False if it already did.

    The statement is locked and the facts read after the lock, so two runs cannot both add the
    same late sale: the second waits, then finds nothing missing."""
    start, end = city_day_bounds(day)
    s = SettlementStatement
    with write_transaction():
        statement = db.session.scalars(
            select(s).where(s.merchant_id == merchant_id, s.day == day).with_for_update()
            .options(selectinload(s.lines)).execution_options(populate_existing=True)).first()
        facts = {campaign: figures for (_m, campaign), figures in _facts(start, end, merchant_id).items()}
        lines = {ln.campaign_id: ln for ln in statement.lines} if statement is not None else {}
        missing = {campaign: {f: figures[f] - (getattr(lines[campaign], f) if campaign in lines else 0)
                              for f in FACT_FIELDS}
                   for campaign, figures in facts.items()}
        missing = {campaign: added for campaign, added in missing.items() if any(added.values())}
        if not missing:
            return False
        if statement is None:
            statement = _new_statement(merchant_id, day, facts, _holds([merchant_id]).get(merchant_id), now)
        else:
            _add_late(statement, lines, facts, now)
        db.session.add(AuditRecord(at=now, actor_id=None, action="settlement.late", target_type="settlement_statement",
                                   target_id=statement.id, outcome="ok",
                                   detail={"merchant_id": merchant_id, "day": day.isoformat(), "added": missing}))
    return True


def _add_late(statement: SettlementStatement, lines: dict[str, SettlementLine], facts: dict[str, Figures],
              now: dt.datetime) -> None:
    """Set the statement's lines to ``facts``; if it was paid, pay what that adds (per campaign)."""
    for campaign_id, figures in facts.items():
        line = lines.get(campaign_id)
        if line is None:
            line = SettlementLine(campaign_id=campaign_id, **dict.fromkeys(FACT_FIELDS, 0), net_cents=0)
            statement.lines.append(line)
        before = line.net_cents
        for field, value in figures.items():
            setattr(line, field, value)
        line.net_cents = _net(line)
        if statement.status is StatementStatus.settled:
            _move(campaign_id, line.net_cents - before, now)
    _add_up(statement)
    if statement.status is StatementStatus.settled:
        statement.settled_at = now


def _release_held(now: dt.datetime) -> int:
    """Pay every held statement of a merchant that is approved and has no open flag that holds it."""
    s = SettlementStatement
    still_flagged = select(Flag.id).where(Flag.merchant_id == s.merchant_id, _holding_flag()).exists()
    with write_transaction():
        held = db.session.scalars(
            select(s).join(Merchant, Merchant.id == s.merchant_id)
            .where(s.status == StatementStatus.held, Merchant.status == MerchantStatus.approved, ~still_flagged)
            .with_for_update(of=s).options(selectinload(s.lines)).execution_options(populate_existing=True)).all()
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
        if done:
            versions.bump(versions.CAMPAIGNS)
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


def hold_reason_of(statement: SettlementStatement) -> str:
    """Why a held statement is held, in the reader's language; empty for one that is paid."""
    hold = hold_of(statement)
    return hold_reason_text(hold) if hold else ""


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


TOTAL_FIELDS = ("redemptions", "bill_cents", "redeemed_cents", "refunds", "refunded_cents", "clawbacks",
                "clawed_back_cents", "net_cents")


def statement_totals(merchant_id: str | None, *, day_from: dt.date | None = None, day_to: dt.date | None = None,
                     status: str | None = None) -> dict[str, int]:
    """The sums over every statement a filter selects (not just one page), and how many there are."""
    s = SettlementStatement
    columns = [func.count(s.id), *(func.coalesce(func.sum(getattr(s, f)), 0) for f in TOTAL_FIELDS)]
    row = db.session.execute(_filtered(select(*columns), merchant_id, day_from, day_to, status)).one()
    return dict(zip(("statements", *TOTAL_FIELDS), (int(v) for v in row)))


def statements_out(statements: list[SettlementStatement]) -> list[dict]:
    """``statement_out`` of each, with its merchant's name, each line's campaign name, and the flags
    behind each clawback line."""
    merchants = _names(Merchant, {s.merchant_id for s in statements})
    campaigns = _names(Campaign, {ln.campaign_id for s in statements for ln in s.lines})
    out = []
    for statement in statements:
        body = {**statement_out(statement, _clawback_flags(statement)),
                "merchant_name": merchants.get(statement.merchant_id)}
        for line in body["lines"]:
            line["campaign_name"] = campaigns.get(line["campaign_id"])
        out.append(body)
    return out


def _clawback_flags(statement: SettlementStatement) -> dict[str, list[str]]:
    """Campaign → the flags whose confirmation clawed back the shop's sales on the statement's day."""
    if not statement.clawbacks:
        return {}
    start, end = city_day_bounds(statement.day)
    r = Redemption
    flags: dict[str, list[str]] = defaultdict(list)
    for campaign_id, flag_id in db.session.execute(
            select(r.campaign_id, r.clawback_flag_id).distinct()
            .where(r.merchant_id == statement.merchant_id, r.clawed_back_at >= start, r.clawed_back_at < end)
            .order_by(r.campaign_id, r.clawback_flag_id)):
        flags[campaign_id].append(flag_id)
    return dict(flags)


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


def statement_activity(statement: SettlementStatement) -> tuple[list[Redemption], list[Redemption], list[Redemption]]:
    """What a statement counts, one by one: the shop's sales made that city day, its refunds made that
    day and the sales clawed back that day (of sales of any day, which is why a day can owe less than
    nothing)."""
    start, end = city_day_bounds(statement.day)
    r = Redemption
    mine = select(r).where(r.merchant_id == statement.merchant_id).execution_options(populate_existing=True)
    sales = db.session.scalars(mine.where(r.redeemed_at >= start, r.redeemed_at < end).order_by(r.redeemed_at, r.id))
    refunds = db.session.scalars(mine.where(r.refunded_at >= start, r.refunded_at < end)
                                 .order_by(r.refunded_at, r.id))
    clawbacks = db.session.scalars(mine.where(r.clawed_back_at >= start, r.clawed_back_at < end)
                                   .order_by(r.clawed_back_at, r.id))
    return list(sales), list(refunds), list(clawbacks)
