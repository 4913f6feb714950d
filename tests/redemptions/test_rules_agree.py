"""The till's two deciders give the same answer: one table of cases, run through both.

Why this proves agreement
-------------------------
On PostgreSQL ``redeem`` first tries the sale as one statement (``_REDEEM_ALL``) in which every rule
of the contract is a condition; only when that writes nothing does the long way run — the scan,
then the Python rules one by one — to answer with the contract's first failing code. So the rules
are written twice, and the statement alone decides *whether* a voucher is spent. Each case below is
decided twice, on two vouchers claimed alike in the same world (one per path, so neither sees the
other's effects):

* **one statement first** — ``redeem(...)`` exactly as ``POST /api/v1/redemptions`` calls it, with a
  spy on ``_redeem_at_once`` (the one-statement attempt) noting whether the statement wrote the
  sale. Asserted: it wrote every sale the table accepts and nothing for any refusal. So the
  statement's conditions accept exactly the table's accepted cases.
* **long way only** — the same ``redeem(...)`` with ``_redeem_at_once`` replaced by "wrote nothing":
  what ``redeem`` sees whenever some condition of the statement fails, so the scan and the Python
  rules decide. (The code has no other switch: the long way runs only when the statement wrote
  nothing.) Its accepted sale is still written by ``_REDEEM_ALL``, restricted to the voucher's
  campaign, after the Python rules passed (``_spend_in_one_statement``); a condition stricter in
  SQL than in Python would answer ``already_redeemed`` there — which the table refuses as well.

Both answers must equal the outcome written by hand in the table (a refusal code, or the accepted
sale's discount and payable in fen), never one computed by the code under test. Equal to the same
constant, the two paths agree with each other and with the contract. Effects are checked too: an
accepted sale leaves the voucher redeemed with one redemption in force, its discount moved from
``reserved`` to ``payable`` and an ``ok`` attempt; a refusal changes nothing but the attempt it
records under its code.

The campaign snapshot a till process keeps (``claiming.memo``) is taken before each case's world
changes and kept (the caches' clock stands still), as in the second after a bureau's change: so a
campaign closed or cancelled meanwhile still reaches the statement, whose own reading of the
campaign's status must refuse.

A campaign with a daily limit per person per shop (``limit_per_merchant_day``) never takes the one
statement (its sales count under a lock): on PostgreSQL the statement writes nothing for it, and
both columns' sales come from the locked transaction. Percent vouchers' cases check the one formula
(the bill's percent rounded down to the fen, up to the cap) in SQL and in Python.

SQLite has no one-statement path (``hot().sqlite``): both columns run the same transaction path, the
spy must never be called, and the test still checks every case against the contract's answer. The
suite's fixtures choose the database (``TEST_DATABASE_URL``), so ``make test`` runs the table on both.

Not in the table: a campaign closed by the clock while its voucher is still valid cannot happen — a
voucher expires with its campaign at the latest — so at the campaign's end the answer is
``voucher_expired`` (a case below); ``campaign_closed`` comes from the campaign's recorded status.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select, update

from campaigns.models import Campaign, CampaignStatus, Tier
from merchants.models import Enrolment, EnrolmentStatus, Merchant, MerchantStatus
from tests.builders import make_account, make_merchant
from tests.campaign_data import CITY, T0
from tests.scenario import enrol, make_resident, publish
from voucher_app.core import cache
from voucher_app.core.database import new_id
from voucher_app.core.errors import DomainError
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import hot
from voucher_app.core.roles import Role
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.redemptions import service
from voucher_app.redemptions.models import Redemption, RedemptionAttempt
from voucher_app.vouchers.claiming import claim_voucher, memo
from voucher_app.vouchers.issuing import cancel_campaign
from voucher_app.vouchers.models import Voucher, VoucherStatus
from voucher_app.vouchers.tokens import sign, typed_code

ONE_STATEMENT_FIRST, LONG_WAY_ONLY = "one statement first", "long way only"
LARGEST_BILL = 100_000_000  # REDEMPTION_MAX_BILL_CENTS, checked against the configuration below


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A moment of December 2026 in the city (12-01 is a Tuesday, 12-04 a Friday)."""
    return dt.datetime(2026, 12, day, hour, minute, second, tzinfo=CITY)


# The world every case starts from: a campaign valid 18:00–02:00 every day, open from 12-01 21:00
# to 12-31 20:00, tiers 满100减30 (tier 0: threshold 10_000, discount 3_000) and 10元券 (tier 1:
# threshold 0, discount 1_000); an enrolled shop and its cashier; two residents who each claimed a
# voucher of the case's tier at 12-01 21:00 (valid seven days: until 12-08 21:00).
SMALL = dict(
    tiers=[{"name": "满100减30", "threshold_cents": 10_000, "discount_cents": 3_000, "quantity": 4},
           {"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": 4}],
    rounds=[{"release_at": (T0 + dt.timedelta(hours=1)).isoformat(), "quantities": [4, 4]}])
CLAIMED_AT = at(1, 21)
EVENING = at(2, 21)  # when the till decides, unless a case says otherwise
DAYTIME = dict(valid_hours={"from": "10:00", "to": "14:00"})
FRIDAYS = dict(valid_weekdays=[5])
ENDS_SOON = dict(ends_at=at(4, 20).isoformat())  # the vouchers expire with it, at 12-04 20:00
PERCENT_20, PERCENT_15 = dict(percent=20), dict(percent=15)  # the case's tier: 20% (or 15%) off, up to its face value
LIMIT_1, LIMIT_2 = dict(limit_per_merchant_day=1), dict(limit_per_merchant_day=2)


def sale(discount_cents: int, payable_cents: int) -> tuple:
    return ("sale", discount_cents, payable_cents)


# Set on the published campaign's rows (what publishing such a campaign stores): the case's tier
# made a percent one, its face value the cap; the campaign's limit of sales per person per shop per day.
AFTER_PUBLISHING = ("percent", "limit_per_merchant_day")


class World:
    def __init__(self, clock, campaign: dict, tier: int):
        self.clock = clock
        clock.set(T0)
        self.admin = make_account(Role.admin)
        body = {key: value for key, value in campaign.items() if key not in AFTER_PUBLISHING}
        self.campaign = publish(self.admin, clock, **{**SMALL, **body})
        self.tier_id = self.campaign.tiers[tier].id
        if "percent" in campaign:
            db.session.execute(update(Tier).where(Tier.id == self.tier_id)
                               .values(percent=campaign["percent"], cap_cents=Tier.discount_cents))
            db.session.execute(update(Voucher).where(Voucher.tier_id == self.tier_id)
                               .values(percent=campaign["percent"]))
        if "limit_per_merchant_day" in campaign:
            db.session.execute(update(Campaign).where(Campaign.id == self.campaign.id)
                               .values(limit_per_merchant_day=campaign["limit_per_merchant_day"]))
        db.session.commit()
        memo.forget()
        self.shop, self.cashier = enrol(self.campaign, clock)
        clock.set(CLAIMED_AT)
        self.vouchers = [claim_voucher(self.campaign.id, self.tier_id, make_resident(), clock.now(),
                                       uuid.uuid4().hex)[0]["id"] for _ in (ONE_STATEMENT_FIRST, LONG_WAY_ONLY)]
        db.session.commit()

    def unclaimed_twin(self, voucher_id: str) -> str:
        """A voucher of the same tier nobody claimed, a different one for each path."""
        spare = db.session.scalars(select(Voucher.id).where(Voucher.tier_id == self.tier_id,
                                                            Voucher.status == VoucherStatus.available)
                                   .order_by(Voucher.id)).all()
        return spare[self.vouchers.index(voucher_id)]


# What the till reads: (world, voucher id, now) → the token or typed code -----------------------------

def qr(world, voucher_id, now):
    return sign(voucher_id, now)[0]


def qr_shown(seconds: int):
    def token(world, voucher_id, now):
        return sign(voucher_id, now - dt.timedelta(seconds=seconds))[0]
    return token


def typed(world, voucher_id, now):
    return typed_code(voucher_id, now)


def typed_one_digit_off(world, voucher_id, now):
    code = typed_code(voucher_id, now)
    return code[:-1] + str((int(code[-1]) + 1) % 10)


def unreadable(world, voucher_id, now):
    return "not-a-token"


def qr_of_an_unclaimed_voucher(world, voucher_id, now):
    return sign(world.unclaimed_twin(voucher_id), now)[0]


def qr_of_no_voucher(world, voucher_id, now):
    return sign(new_id(), now)[0]


# What happened before the till decides (to the world, and to both vouchers alike) --------------------

def used_at_20(world):
    world.clock.set(at(2, 20))
    for voucher_id in world.vouchers:
        service.redeem(sign(voucher_id, world.clock.now())[0], 20_000, world.cashier, world.clock.now(),
                       uuid.uuid4().hex)


def used_and_refunded(world):
    used_at_20(world)
    world.clock.set(at(2, 20, 30))
    for redemption_id in db.session.scalars(select(Redemption.id).where(Redemption.voucher_id.in_(world.vouchers))):
        service.refund(redemption_id, None, world.cashier, world.clock.now())


def campaign_cancelled(world):
    cancel_campaign(world.campaign.id, "预算调整", world.admin, world.clock.now())


def changed(table, where, **values):
    def change(world):
        db.session.execute(update(table).where(where(world)).values(**values))
        db.session.commit()
    return change


shop_suspended = changed(Merchant, lambda w: Merchant.id == w.shop.id, status=MerchantStatus.suspended)
shop_registration_pending = changed(Merchant, lambda w: Merchant.id == w.shop.id, status=MerchantStatus.pending)
enrolment_pending = changed(Enrolment, lambda w: Enrolment.merchant_id == w.shop.id, status=EnrolmentStatus.pending)
enrolment_rejected = changed(Enrolment, lambda w: Enrolment.merchant_id == w.shop.id, status=EnrolmentStatus.rejected)
campaign_recorded_closed = changed(Campaign, lambda w: Campaign.id == w.campaign.id, status=CampaignStatus.closed)
# No service revokes a single voucher today (cancelling the campaign revokes them all, and then the
# campaign's status refuses too); set directly, this checks the statement's own test of the voucher.
vouchers_revoked_alone = changed(Voucher, lambda w: Voucher.id.in_(w.vouchers), status=VoucherStatus.revoked,
                                 revoked_at=at(2, 12))


def sold_to_each_person(when: dt.datetime, elsewhere: bool = False, refunded: bool = False):
    """Before the case: each voucher's person used another voucher of the campaign ``when`` (at this
    shop, or another enrolled one), and it was refunded or not."""
    def before(world):
        spares = [world.unclaimed_twin(voucher_id) for voucher_id in world.vouchers]
        world.clock.set(when)
        cashier = enrol(world.campaign, world.clock)[1] if elsewhere else world.cashier
        for voucher_id, spare in zip(world.vouchers, spares):
            held = db.session.get(Voucher, voucher_id)
            db.session.execute(update(Voucher).where(Voucher.id == spare).values(
                status=VoucherStatus.claimed, resident_id=held.resident_id, person_id=held.person_id,
                claimed_at=held.claimed_at, expires_at=held.expires_at))
            db.session.commit()
            sold, _ = service.redeem(sign(spare, when)[0], 20_000, cashier, when, uuid.uuid4().hex)
            if refunded:
                service.refund(sold["id"], None, cashier, when)
    return before


def at_a_shop_not_enrolled(world):
    other, _ = make_merchant(MerchantStatus.approved)
    world.cashier = make_account(Role.cashier, other)


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    expected: str | tuple  # a refusal code, or sale(discount_cents, payable_cents)
    bill: object = 12_800
    at: dt.datetime = EVENING
    tier: int = 0
    campaign: dict = dataclasses.field(default_factory=dict)  # changes to the world's campaign
    before: Callable | None = None
    token: Callable = qr


CASES = [
    # Accepted sales: bills at the edges.
    Case("bill exactly at the threshold", sale(3_000, 7_000), bill=10_000),
    Case("an ordinary bill", sale(3_000, 9_800)),
    Case("the largest bill allowed", sale(3_000, 99_997_000), bill=LARGEST_BILL),
    Case("no threshold, a bill of 1 fen: the voucher pays that fen, no more", sale(1, 0), tier=1, bill=1),
    Case("no threshold, a bill one fen above the discount", sale(1_000, 1), tier=1, bill=1_001),
    # Accepted sales: moments at the edges.
    Case("18:00, the window's first minute", sale(3_000, 9_800), at=at(2, 18)),
    Case("23:59:59, before midnight", sale(3_000, 9_800), at=at(2, 23, 59, 59)),
    Case("00:00, the window crossing midnight", sale(3_000, 9_800), at=at(3, 0)),
    Case("01:59:59, the window's last minute", sale(3_000, 9_800), at=at(3, 1, 59, 59)),
    Case("daytime window, 10:00, its first minute", sale(3_000, 9_800), campaign=DAYTIME, at=at(2, 10)),
    Case("daytime window, 13:59:59, its last minute", sale(3_000, 9_800), campaign=DAYTIME, at=at(2, 13, 59, 59)),
    Case("Fridays only, Friday 21:00", sale(3_000, 9_800), campaign=FRIDAYS, at=at(4, 21)),
    Case("Fridays only, Saturday 01:59, still Friday night", sale(3_000, 9_800), campaign=FRIDAYS,
         at=at(5, 1, 59)),
    Case("one second before the voucher expires", sale(3_000, 9_800), at=at(8, 20, 59, 59)),
    Case("one second before the campaign ends", sale(3_000, 9_800), campaign=ENDS_SOON, at=at(4, 19, 59, 59)),
    Case("a QR shown 59 seconds ago", sale(3_000, 9_800), token=qr_shown(59)),
    Case("a typed code", sale(3_000, 9_800), token=typed),
    Case("used, refunded, used again", sale(3_000, 9_800), before=used_and_refunded),
    # Percent vouchers: the percent of the bill rounded down to the fen, up to the cap (the face value).
    Case("20% off up to ¥30, a bill of ¥128.01: 2560.2 fen", sale(2_560, 10_241), campaign=PERCENT_20, bill=12_801),
    Case("20% off up to ¥30, a bill of ¥149.99: 2999.8 fen", sale(2_999, 12_000), campaign=PERCENT_20, bill=14_999),
    Case("20% off up to ¥30, a bill of ¥500: the cap", sale(3_000, 47_000), campaign=PERCENT_20, bill=50_000),
    Case("20% off, the largest bill allowed", sale(3_000, 99_997_000), campaign=PERCENT_20, bill=LARGEST_BILL),
    Case("15% off up to ¥10, no threshold, a bill of 7 fen", sale(1, 6), campaign=PERCENT_15, tier=1, bill=7),
    # The shop's daily limit per person: other days, other shops and refunded sales do not count.
    Case("a limit of 2 at the shop, one sale there today", sale(3_000, 9_800), campaign=LIMIT_2,
         before=sold_to_each_person(at(2, 19))),
    Case("a limit of 1 at the shop, one sale there yesterday", sale(3_000, 9_800), campaign=LIMIT_1,
         before=sold_to_each_person(at(1, 23, 59, 59))),
    Case("a limit of 1 at the shop, one sale today elsewhere", sale(3_000, 9_800), campaign=LIMIT_1,
         before=sold_to_each_person(at(2, 19), elsewhere=True)),
    Case("a limit of 1 at the shop, today's sale there refunded", sale(3_000, 9_800), campaign=LIMIT_1,
         before=sold_to_each_person(at(2, 19), refunded=True)),
    Case("a limit of 1 at the shop, past midnight: a new day", sale(3_000, 9_800), campaign=LIMIT_1,
         before=sold_to_each_person(at(2, 23, 59, 59)), at=at(3, 0)),
    # Refusals, in the contract's order.
    Case("an unreadable token", "invalid_token", token=unreadable),
    Case("a typed code one digit off", "invalid_token", token=typed_one_digit_off),
    Case("a QR of a voucher nobody claimed", "invalid_token", token=qr_of_an_unclaimed_voucher),
    Case("a QR of no voucher", "invalid_token", token=qr_of_no_voucher),
    Case("a QR shown 60 seconds ago", "token_expired", token=qr_shown(60)),
    Case("campaign cancelled, its vouchers revoked", "voucher_revoked", before=campaign_cancelled),
    Case("voucher revoked, its campaign going on", "voucher_revoked", before=vouchers_revoked_alone),
    Case("used already", "already_redeemed", before=used_at_20),
    Case("at the voucher's expiry", "voucher_expired", at=at(8, 21)),
    Case("one second after the voucher's expiry", "voucher_expired", at=at(8, 21, 0, 1)),
    Case("at the campaign's end, the voucher ends with it", "voucher_expired", campaign=ENDS_SOON, at=at(4, 20)),
    Case("shop suspended", "merchant_suspended", before=shop_suspended),
    Case("shop suspended, a bill of 1 fen: the shop first", "merchant_suspended", before=shop_suspended, bill=1),
    Case("a shop not enrolled", "merchant_not_enrolled", before=at_a_shop_not_enrolled),
    Case("the shop's enrolment pending", "merchant_not_enrolled", before=enrolment_pending),
    Case("the shop's enrolment rejected", "merchant_not_enrolled", before=enrolment_rejected),
    Case("the shop's registration pending", "merchant_not_enrolled", before=shop_registration_pending),
    Case("campaign recorded closed", "campaign_closed", before=campaign_recorded_closed),
    Case("17:59:59, before the window", "outside_hours", at=at(2, 17, 59, 59)),
    Case("02:00, the window's end after midnight", "outside_hours", at=at(3, 2)),
    Case("daytime window, 09:59:59", "outside_hours", campaign=DAYTIME, at=at(2, 9, 59, 59)),
    Case("daytime window, 14:00, its end", "outside_hours", campaign=DAYTIME, at=at(2, 14)),
    Case("Fridays only, Thursday 21:00", "outside_hours", campaign=FRIDAYS, at=at(3, 21)),
    Case("Fridays only, Saturday 02:00, Friday night over", "outside_hours", campaign=FRIDAYS, at=at(5, 2)),
    Case("Fridays only, Saturday 21:00", "outside_hours", campaign=FRIDAYS, at=at(5, 21)),
    Case("10:00 and a bill of 1 fen: the hours first", "outside_hours", at=at(2, 10), bill=1),
    Case("a limit of 1 at the shop, one sale there today", "limit_reached", campaign=LIMIT_1,
         before=sold_to_each_person(at(2, 19))),
    Case("a limit of 1 reached by the voucher's own sale: the voucher first", "already_redeemed", campaign=LIMIT_1,
         before=used_at_20),
    Case("a limit of 1 reached and a bill of 1 fen: the limit first", "limit_reached", campaign=LIMIT_1,
         before=sold_to_each_person(at(2, 19)), bill=1),
    Case("one fen below the threshold", "below_threshold", bill=9_999),
    Case("20% off, one fen below the threshold", "below_threshold", campaign=PERCENT_20, bill=9_999),
    Case("15% off, no threshold, a bill of 6 fen: nothing to take off", "below_threshold", campaign=PERCENT_15,
         tier=1, bill=6),
    Case("a bill of 0", "validation_error", bill=0),
    Case("no threshold, a bill of 0", "validation_error", tier=1, bill=0),
    Case("a negative bill", "validation_error", bill=-100),
    Case("one fen above the largest bill", "validation_error", bill=LARGEST_BILL + 1),
    Case("a fraction of a fen", "validation_error", bill=12_800.5),
    Case("a bill as text", "validation_error", bill="12800"),
    Case("no bill", "validation_error", bill=None),
    Case("a bill of true", "validation_error", bill=True),
]


# Observing a path ------------------------------------------------------------------------------------

def state(voucher_id: str) -> tuple:
    """Everything a redemption could change for the voucher."""
    db.session.commit()  # end the test's read transaction: on SQLite its snapshot predates the till's writes
    voucher = db.session.execute(select(Voucher.status, Voucher.redeemed_at).where(Voucher.id == voucher_id)).one()
    redemptions = db.session.execute(
        select(Redemption.bill_cents, Redemption.discount_cents, Redemption.payable_cents, Redemption.refunded_at)
        .where(Redemption.voucher_id == voucher_id).order_by(Redemption.redeemed_at)).all()
    entries = db.session.execute(
        select(LedgerEntry.from_account, LedgerEntry.to_account, LedgerEntry.amount_cents)
        .where(LedgerEntry.voucher_id == voucher_id).order_by(LedgerEntry.at, LedgerEntry.kind)).all()
    return tuple(voucher), [tuple(r) for r in redemptions], [tuple(e) for e in entries]


def attempts() -> dict[str, str]:
    db.session.commit()
    return dict(db.session.execute(select(RedemptionAttempt.id, RedemptionAttempt.outcome)).all())


def decide(world: World, voucher_id: str, case: Case):
    """The till's answer, as a cashier sees it: a refusal code, or the sale's discount and payable."""
    now = world.clock.now()
    try:
        body, status = service.redeem(case.token(world, voucher_id, now), case.bill, world.cashier, now,
                                      uuid.uuid4().hex)
    except DomainError as refusal:
        return refusal.code
    assert status == 201 and body["voucher_id"] == voucher_id and body["bill_cents"] == case.bill
    return sale(body["discount_cents"], body["payable_cents"])


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in CASES])
def test_the_one_statement_and_the_python_rules_give_the_same_answer(case, app, city, clock, monkeypatch):
    assert app.config["REDEMPTION_MAX_BILL_CENTS"] == LARGEST_BILL
    world = World(clock, case.campaign, case.tier)
    monkeypatch.setattr(cache, "monotonic", lambda: 1_000.0)  # the worker's clock stands: the snapshot stays
    memo.live()  # a till's snapshot of the live campaigns, taken before the world changes
    if case.before:
        case.before(world)
    clock.set(case.at)

    written_at_once: list[bool] = []  # per call of the one-statement attempt: did it write the sale?
    attempt_at_once = service._redeem_at_once

    def spied(*args, **kwargs):
        answer = attempt_at_once(*args, **kwargs)
        written_at_once.append(answer is not None)
        return answer

    outcomes, effects = {}, {}
    for path, voucher_id in zip((ONE_STATEMENT_FIRST, LONG_WAY_ONLY), world.vouchers):
        before, seen = state(voucher_id), attempts()
        with monkeypatch.context() as patch:
            patch.setattr(service, "_redeem_at_once",
                          spied if path == ONE_STATEMENT_FIRST else lambda *args, **kwargs: None)
            outcomes[path] = decide(world, voucher_id, case)
        recorded = [outcome for id_, outcome in attempts().items() if id_ not in seen]
        effects[path] = (before, state(voucher_id), recorded)

    assert outcomes == {ONE_STATEMENT_FIRST: case.expected, LONG_WAY_ONLY: case.expected}
    accepted = isinstance(case.expected, tuple)
    if hot().sqlite:
        assert written_at_once == []  # SQLite has no one-statement path
    else:
        # A sale is the statement's; for a refusal it wrote nothing (or was never tried: a token
        # that names no voucher is refused before it).
        # A campaign with a daily limit per shop never takes the one statement: its sales count under a lock.
        limited = "limit_per_merchant_day" in case.campaign
        assert written_at_once == [True] if accepted and not limited else written_at_once in ([], [False])
    for path, (before, after, recorded) in effects.items():
        if accepted:
            _, discount, payable = case.expected
            (status, redeemed_at), redemptions, entries = after
            assert (status, redeemed_at) == (VoucherStatus.redeemed, clock.now()), path
            assert [r[:3] for r in redemptions if r[3] is None] == [(case.bill, discount, payable)], path
            # The subsidy to payable; the face value a smaller bill left unused back to the campaign.
            face = sum(amount for source, target, amount in before[2]
                       if (source, target) == (Account.available, Account.reserved))
            unused = [(Account.reserved, Account.available, face - discount)] if face > discount else []
            assert entries[len(before[2]):] == [(Account.reserved, Account.payable, discount), *unused], path
            assert recorded == ["ok"], path
        else:
            assert after == before, path
            assert recorded == [case.expected], path
