"""The fraud rules over a realistic month: 200,000 redemptions at 2,000 shops, ten planted frauds.

    .venv/bin/python bench/fraud.py                        # SQLite (a fresh file)
    .venv/bin/python bench/fraud.py --database-url postgresql://user@host/db   # emptied first!

1. A month of honest trade is written straight into the tables (shops, cashiers, residents, their
   sign-ins, vouchers, sales), with the variation real trade has: shop sizes spread over two orders of
   magnitude, several kinds of opening hours (some crossing midnight, some shops with none), busier
   weekends and a city-wide release day, bills of every size (and the honest share of bills at exactly
   the threshold, more in set-menu restaurants), regular customers, families sharing a phone, carriers'
   shared addresses, residents claiming at the till now and then, and the odd refund and redo. Two
   weeks before the month are written too, as the shops' history.
2. Ten frauds are planted, each with the ids of its sales known: a cash-out shop whose bills hug the
   threshold, a shop redeeming at 3 am, one cashier's burst, a resident and shop pair repeating, a
   scalper's 30 accounts on one phone, claim-to-redeem in seconds, refund-and-redeem cycles, a spike
   against the shop's history, and two combinations.
3. ``service.evaluate`` runs once over the month, timed. Printed: recall (the share of planted sales
   named in some flag's evidence; goal ≥ 90%), the share of honest shops flagged (goal ≤ 2%), which
   rules caught each fraud, and the time (goal: seconds).
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import app_for, fresh_database, settle  # noqa: E402

SHOPS, MONTH_SALES, RESIDENTS = 2_000, 200_000, 60_000
HISTORY_DAYS, MONTH_DAYS = 14, 30
CITY = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 12, 31, 23, 30, tzinfo=CITY)
MONTH_START = NOW - dt.timedelta(days=MONTH_DAYS)
FIRST_DAY = (MONTH_START - dt.timedelta(days=HISTORY_DAYS)).date()
RELEASE_DAY = 15  # a city-wide round: every shop twice as busy
HOURS = [("09:00-22:00", 0.25), ("10:00-21:30", 0.2), ("17:00-02:00", 0.1), ("06:30-13:30,16:30-20:00", 0.1),
         ("00:00-24:00", 0.05), (None, 0.3)]
# Tiers: (name, threshold, discount, percent)
TIERS = [("满100减30", 10_000, 3_000, None), ("满50减15", 5_000, 1_500, None), ("10元券", 0, 1_000, None),
         ("8折券", 0, 5_000, 20)]


def spans(text: str | None) -> list[tuple[int, int]]:
    if not text:
        return [(8 * 60, 23 * 60)]
    out = []
    for part in text.split(","):
        a, b = part.split("-")
        start = int(a[:2]) * 60 + int(a[3:])
        end = int(b[:2]) * 60 + int(b[3:])
        out.append((start, end if end > start else end + 1440))
    return out


def moment(day: dt.date, minute_of_day: float, rng: random.Random) -> dt.datetime:
    base = dt.datetime.combine(day, dt.time(0), tzinfo=CITY)
    return base + dt.timedelta(minutes=minute_of_day, seconds=rng.randrange(60))


class World:
    """Everything written, as rows, and what was planted where."""

    def __init__(self, seed: int = 17):
        self.rng = random.Random(seed)
        self.users: list[dict] = []
        self.merchants: list[dict] = []
        self.vouchers: list[dict] = []
        self.sales: list[dict] = []
        self.sign_ins: list[dict] = []
        self.planted: dict[str, set[str]] = {}
        self.planted_shops: dict[str, str] = {}
        self.ids = iter(range(1, 10**9))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids):024d}"[-26:]

    # -- people and shops --

    def resident(self, device: str | None = None, address: str | None = None, sign_ins: int = 1) -> str:
        uid = self.new_id("r")
        self.users.append({"id": uid, "role": "resident", "phone": f"15{len(self.users):09d}", "is_active": True})
        device = device or f"dev-{uid}"
        for _ in range(sign_ins):
            # A sign-in lasts 14 days, so whoever used a voucher this month signed in since 13 days before it.
            at = moment((MONTH_START + dt.timedelta(days=self.rng.randrange(-13, MONTH_DAYS))).date(),
                        self.rng.uniform(7 * 60, 23 * 60), self.rng)
            self.sign_ins.append({"id": self.new_id("s"), "user_id": uid, "kind": "api", "created_at": at,
                                  "expires_at": at + dt.timedelta(days=14), "last_seen_at": at,
                                  "address": address or f"100.64.{self.rng.randrange(12)}.{self.rng.randrange(250)}",
                                  "device": device})
        return uid

    def shop(self, hours: str | None, cashiers: int) -> tuple[str, list[str]]:
        mid = self.new_id("m")
        n = len(self.merchants)
        self.merchants.append({"id": mid, "name": f"商户{n:04d}", "uscc": f"9251080{n:011d}", "category": "catering",
                               "district": "lizhou", "address": "利州区", "contact_phone": "08391234567",
                               "status": "approved", "opening_hours": hours})
        staff = []
        for _ in range(cashiers):
            uid = self.new_id("c")
            self.users.append({"id": uid, "role": "cashier", "username": f"cashier{uid[-8:]}",
                               "password_hash": "x", "merchant_id": mid, "is_active": True})
            staff.append(uid)
        return mid, staff

    # -- sales --

    def sale(self, shop: str, cashier: str, resident: str, at: dt.datetime, tier: int, bill: int,
             claim_gap: dt.timedelta, voucher: str | None = None, refunded: dt.datetime | None = None) -> str:
        name, threshold, discount, percent = TIERS[tier]
        if voucher is None:
            voucher = self.new_id("v")
            self.vouchers.append({"id": voucher, "short_code": voucher[-10:], "tier": tier, "resident_id": resident,
                                  "person_id": resident, "claimed_at": at - claim_gap, "redeemed_at": at,
                                  "threshold_cents": threshold, "discount_cents": discount, "percent": percent})
        value = min(bill * percent // 100, discount) if percent else min(discount, bill)
        sid = self.new_id("x")
        self.sales.append({"id": sid, "voucher_id": voucher, "merchant_id": shop, "cashier_id": cashier,
                           "bill_cents": bill, "discount_cents": value, "payable_cents": bill - value,
                           "redeemed_at": at, "refunded_at": refunded})
        return sid

    def honest_bill(self, tier: int, set_menu: bool) -> int:
        threshold = TIERS[tier][1]
        if set_menu and threshold and self.rng.random() < 0.3:
            return threshold  # a set menu priced at the threshold: honest, and common in some restaurants
        if threshold and self.rng.random() < 0.04:
            return threshold + self.rng.randrange(0, 51)  # shoppers who make up the bill to exactly 100
        spend = int(self.rng.lognormvariate(math.log(4_000), 0.8))
        return max(threshold, 500) + spend if threshold else max(800, spend + 800)

    def claim_gap(self) -> dt.timedelta:
        if self.rng.random() < 0.005:
            return dt.timedelta(seconds=self.rng.randrange(10, 60))  # claimed standing at the till
        return dt.timedelta(minutes=self.rng.lognormvariate(math.log(2_000), 1.2) + 2)


def build(world: World) -> None:
    rng = world.rng
    # Residents: most alone on their phone, some families of 2–4 on one phone; addresses are carriers'.
    residents: list[str] = []
    while len(residents) < RESIDENTS:
        family = rng.choice([1] * 17 + [2, 3, 4])
        device = f"family-{len(residents)}"
        residents.extend(world.resident(device=device, sign_ins=rng.choice([1, 1, 2])) for _ in range(family))

    sizes = [rng.lognormvariate(0, 1.0) for _ in range(SHOPS)]
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(HISTORY_DAYS + MONTH_DAYS + 1)]
    weight = [(1.5 if d.isoweekday() >= 6 else 1.0) * (2.0 if i == HISTORY_DAYS + RELEASE_DAY else 1.0)
              for i, d in enumerate(days)]
    month_weight = sum(weight[HISTORY_DAYS:HISTORY_DAYS + MONTH_DAYS])
    per_unit = MONTH_SALES / (sum(sizes) * month_weight)
    choices, chances = zip(*HOURS, strict=True)
    shops = []
    for size in sizes:
        hours = rng.choices(choices, chances)[0]
        rate = size * per_unit
        shop, staff = world.shop(hours, cashiers=1 + min(3, int(rate // 8)))
        pool = rng.sample(residents, min(len(residents), max(40, int(rate * 40))))
        shops.append((shop, staff, hours, rate, pool, rng.random() < 0.03))
    for shop, staff, hours, rate, pool, set_menu in shops:
        open_spans = spans(hours)
        for day, w in zip(days, weight, strict=True):
            for _ in range(poisson(rng, rate * w)):
                start, end = rng.choice(open_spans)
                at = moment(day, rng.uniform(start, end - 5), rng)
                tier = rng.choices(range(4), [0.45, 0.25, 0.2, 0.1])[0]
                bill = world.honest_bill(tier, set_menu)
                resident, cashier = rng.choice(pool), rng.choice(staff)
                world.sale(shop, cashier, resident, at, tier, bill, world.claim_gap())
                if rng.random() < 0.01:  # a mistyped bill, refunded and redone at once
                    world.sales[-1]["refunded_at"] = at + dt.timedelta(minutes=2)
                    world.sale(shop, cashier, resident, at + dt.timedelta(minutes=3), tier, bill, dt.timedelta(0),
                               voucher=world.sales[-1]["voucher_id"])
    plant(world, shops, residents)


def poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def month_day(n: int) -> dt.date:
    return (MONTH_START + dt.timedelta(days=n)).date()


def plant(world: World, shops, residents) -> None:
    rng = world.rng

    def record(name: str, shop: str, ids: list[str]) -> None:
        world.planted[name] = set(ids)
        world.planted_shops[shop] = name

    def newcomers(n: int, device: str | None = None) -> list[str]:
        return [world.resident(device=device) for _ in range(n)]

    gap = world.claim_gap
    # 1. A cash-out shop: 150 bills of 100.00–100.50 for a 满100 voucher, a few honest ones.
    shop, (cashier, *_) = world.shop("09:00-21:00", 1)
    ids = [world.sale(shop, cashier, r, moment(month_day(rng.randrange(1, 30)), rng.uniform(600, 1200), rng), 0,
                      10_000 + rng.randrange(0, 51), gap()) for r in rng.sample(residents, 150)]
    for r in rng.sample(residents, 20):
        world.sale(shop, cashier, r, moment(month_day(rng.randrange(1, 30)), 700, rng), 0, 16_800, gap())
    record("cash-out, bills hug 满100", shop, ids)

    # 2. A shop redeeming at 3 am: an ordinary shop's honest month, and 40 sales between 02:30 and 04:00.
    shop, staff, hours, rate, pool, _menu = next(s for s in shops if s[2] == "09:00-22:00" and 1 < s[3] < 4)
    ids = [world.sale(shop, staff[0], rng.choice(pool), moment(month_day(rng.randrange(1, 30)), rng.uniform(150, 240),
                                                                     rng), 0, 12_000, gap()) for _ in range(40)]
    record("sales at 3 am", shop, ids)

    # 3. One cashier's burst: 45 sales within one hour at a shop doing ~10 a day.
    shop, staff, hours, rate, pool, _menu = next(s for s in shops if 8 < s[3] < 12 and s[0] not in world.planted_shops)
    start = moment(month_day(20), 14 * 60, rng)
    ids = [world.sale(shop, staff[0], r, start + dt.timedelta(seconds=80 * i), 1, 5_600, gap())
           for i, r in enumerate(rng.sample(residents, 45))]
    record("one cashier's burst", shop, ids)

    # 4. One resident and one shop, again and again: 15 vouchers in the month.
    shop, staff, hours, rate, pool, _menu = next(s for s in shops if 2 < s[3] < 5 and s[0] not in world.planted_shops)
    regular = rng.choice(pool)
    ids = [world.sale(shop, staff[0], regular, moment(month_day(d), 19 * 60, rng), 2, 3_000, gap())
           for d in rng.sample(range(1, 30), 15)]
    record("resident and shop pair", shop, ids)

    # 5. A scalper: 30 accounts on one phone, their vouchers used at one shop.
    shop, staff, hours, rate, pool, _menu = next(s for s in shops if 3 < s[3] < 6 and s[0] not in world.planted_shops)
    ids = [world.sale(shop, staff[0], r, moment(month_day(rng.randrange(1, 30)), rng.uniform(660, 1200), rng), 0,
                      13_000, gap()) for r in newcomers(30, device="scalper-phone")]
    record("scalper's 30 accounts on one phone", shop, ids)

    # 6. Claimed and redeemed within seconds: 25 residents at one shop.
    shop, staff, hours, rate, pool, _menu = next(s for s in shops if 4 < s[3] < 8 and s[0] not in world.planted_shops)
    ids = [world.sale(shop, staff[0], r, moment(month_day(rng.randrange(1, 30)), rng.uniform(660, 1200), rng), 1,
                      6_000, dt.timedelta(seconds=rng.randrange(5, 20))) for r in rng.sample(residents, 25)]
    record("claim to redeem in seconds", shop, ids)

    # 7. Refund-and-redeem cycles: 12 vouchers, each redeemed 2–3 times at one shop.
    shop, staff, hours, rate, pool, _menu = next(s for s in shops if 2 < s[3] < 5 and s[0] not in world.planted_shops)
    ids = []
    for r in rng.sample(pool, 12):
        at = moment(month_day(rng.randrange(1, 28)), 15 * 60, rng)
        times = rng.choice([2, 3])
        first = world.sale(shop, staff[0], r, at, 0, 15_000, gap(), refunded=at + dt.timedelta(hours=1))
        ids.append(first)
        voucher = world.sales[-1]["voucher_id"]
        for t in range(1, times):
            again = at + dt.timedelta(hours=2 * t)
            ids.append(world.sale(shop, staff[0], r, again, 0, 15_000, gap(), voucher=voucher,
                                  refunded=again + dt.timedelta(hours=1) if t < times - 1 else None))
    record("refund and redeem cycles", shop, ids)

    # 8. A spike against the shop's own history: ~3 a day, then 80 on one day.
    shop, staff, hours, rate, pool, _menu = next(s for s in shops if 2 < s[3] < 4 and s[0] not in world.planted_shops)
    ids = [world.sale(shop, rng.choice(staff), r, moment(month_day(25), rng.uniform(600, 1200), rng), 2, 4_000, gap())
           for r in rng.sample(residents, 80)]
    record("spike against history", shop, ids)

    # 9. Night and threshold together: 60 sales at 01:00–04:00 of 100.00–100.30 at a shop open 10–22.
    shop, (cashier, *_) = world.shop("10:00-22:00", 1)
    for r in rng.sample(residents, 60):
        world.sale(shop, cashier, r, moment(month_day(rng.randrange(1, 30)), rng.uniform(660, 1260), rng), 2, 4_500,
                   gap())
    ids = [world.sale(shop, cashier, r, moment(month_day(rng.randrange(1, 30)), rng.uniform(60, 240), rng), 0,
                      10_000 + rng.randrange(0, 31), gap()) for r in rng.sample(residents, 60)]
    record("night sales hugging the threshold", shop, ids)

    # 10. A phone and the till together: 20 accounts on one phone, each claimed and redeemed within seconds.
    shop, staff, hours, rate, pool, _menu = next(s for s in shops if 5 < s[3] < 9 and s[0] not in world.planted_shops)
    ids = [world.sale(shop, staff[0], r, moment(month_day(rng.randrange(1, 30)), rng.uniform(660, 1200), rng), 1,
                      5_800, dt.timedelta(seconds=rng.randrange(3, 15))) for r in newcomers(20, device="till-phone")]
    record("one phone, redeemed at once", shop, ids)


def write(app, world: World) -> float:
    """Everything into the database in bulk; seconds taken."""
    import flask_migrate
    from sqlalchemy import insert

    from campaigns import service as campaigns
    from campaigns.models import Campaign, CampaignKind, CampaignStatus, Round, RoundAllocation, Tier
    from merchants.models import Merchant, MerchantStatus
    from voucher_app.accounts.models import SignIn, User
    from voucher_app.core.extensions import db
    from voucher_app.core.roles import Role
    from voucher_app.redemptions.models import Redemption
    from voucher_app.vouchers.models import Voucher, VoucherStatus

    started = time.perf_counter()
    with app.app_context():
        flask_migrate.upgrade()
        campaigns.load_city_data(campaigns.city_data_file())
        first = dt.datetime.combine(FIRST_DAY, dt.time(0), tzinfo=CITY)
        campaign = Campaign(name="月度消费券", kind=CampaignKind.general, status=CampaignStatus.open,
                            budget_cents=10**12, starts_at=first, ends_at=NOW + dt.timedelta(days=30),
                            merchant_categories=[], districts=[], limit_per_resident=100, limit_per_round=100,
                            valid_days=30, created_at=first, updated_at=first, published_at=first)
        campaign.tiers = [Tier(position=i, name=name, threshold_cents=threshold, discount_cents=discount,
                               quantity=10**6, percent=percent, cap_cents=discount if percent else None)
                          for i, (name, threshold, discount, percent) in enumerate(TIERS)]
        db.session.add(campaign)
        db.session.flush()
        release = Round(position=0, release_at=first,
                        allocations=[RoundAllocation(tier_id=t.id, quantity=10**6) for t in campaign.tiers])
        campaign.rounds = [release]
        db.session.commit()
        tier_ids = [t.id for t in campaign.tiers]
        utc = dt.timezone.utc

        def bulk(model, rows, chunk=20_000):
            for i in range(0, len(rows), chunk):
                db.session.execute(insert(model), rows[i:i + chunk])
            db.session.commit()

        stamp = {"created_at": first, "updated_at": first}
        bulk(Merchant, [{**m, **stamp, "status": MerchantStatus.approved} for m in world.merchants])
        for role in ("resident", "cashier"):
            bulk(User, [{**u, "role": Role(role)} for u in world.users if u["role"] == role])
        bulk(SignIn, [{**s, "created_at": s["created_at"].astimezone(utc), "expires_at": s["expires_at"].astimezone(utc),
                       "last_seen_at": s["last_seen_at"].astimezone(utc)} for s in world.sign_ins])
        bulk(Voucher, [{"id": v["id"], "short_code": v["short_code"], "campaign_id": campaign.id,
                        "tier_id": tier_ids[v["tier"]], "round_id": release.id, "release_at": first,
                        "threshold_cents": v["threshold_cents"], "discount_cents": v["discount_cents"],
                        "percent": v["percent"], "status": VoucherStatus.redeemed, "resident_id": v["resident_id"],
                        "person_id": v["person_id"], "claimed_at": v["claimed_at"].astimezone(utc),
                        "expires_at": (v["redeemed_at"] + dt.timedelta(days=30)).astimezone(utc),
                        "redeemed_at": v["redeemed_at"].astimezone(utc)} for v in world.vouchers])
        bulk(Redemption, [{**s, "campaign_id": campaign.id, "redeemed_at": s["redeemed_at"].astimezone(utc),
                           "refunded_at": s["refunded_at"].astimezone(utc) if s["refunded_at"] else None}
                          for s in world.sales])
    return time.perf_counter() - started


def judge(app, world: World) -> None:
    from sqlalchemy import select

    from voucher_app.core.extensions import db
    from voucher_app.fraud import service
    from voucher_app.fraud.models import Flag

    with app.app_context():
        started = time.perf_counter()
        summary = service.evaluate(NOW.astimezone(dt.timezone.utc))
        seconds = time.perf_counter() - started
        flags = db.session.scalars(select(Flag)).all()
    in_month = sum(1 for s in world.sales if s["redeemed_at"] >= MONTH_START)
    print(f"evaluated {in_month:,} redemptions of the month ({len(world.sales):,} with the history) at "
          f"{len(world.merchants):,} shops in {seconds:.1f} s: {summary['hits']} hits, {summary['opened']} flags")

    named: set[str] = set()
    rules_at: dict[str, set[str]] = defaultdict(set)
    for flag in flags:
        named.update(flag.redemption_ids)
        rules_at[flag.merchant_id].add(flag.rule)
    planted = set().union(*world.planted.values())
    caught = planted & named
    print(f"recall: {len(caught):,} of {len(planted):,} planted sales named in a flag's evidence "
          f"= {100 * len(caught) / len(planted):.1f}% (goal ≥ 90%)")
    by_name = {name: shop for shop, name in world.planted_shops.items()}
    for name, ids in world.planted.items():
        shop = by_name[name]
        print(f"  {name:<36} {len(ids & named):>3}/{len(ids):<3} by {', '.join(sorted(rules_at.get(shop, ()))) or '—'}")
    honest = [m["id"] for m in world.merchants if m["id"] not in world.planted_shops]
    flagged = [mid for mid in honest if mid in rules_at]
    print(f"honest shops flagged: {len(flagged)} of {len(honest):,} = {100 * len(flagged) / len(honest):.2f}% (goal ≤ 2%)")
    by_rule: dict[str, int] = defaultdict(int)
    for mid in flagged:
        for rule in rules_at[mid]:
            by_rule[rule] += 1
    if by_rule:
        print("  by rule: " + ", ".join(f"{rule} {n}" for rule, n in sorted(by_rule.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL to use (its public schema is emptied); default a SQLite file")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fraud-") as tmp:
        workdir = Path(tmp)
        url = fresh_database(args.database_url, workdir)
        app = app_for(url, workdir / "keys")
        started = time.perf_counter()
        world = World(args.seed)
        build(world)
        print(f"generated {len(world.sales):,} sales, {len(world.vouchers):,} vouchers, {len(world.users):,} people, "
              f"{len(world.sign_ins):,} sign-ins in {time.perf_counter() - started:.1f} s")
        print(f"written in {write(app, world):.1f} s ({'PostgreSQL' if url.startswith('postgres') else 'SQLite'})")
        settle(url)
        judge(app, world)


if __name__ == "__main__":
    main()
