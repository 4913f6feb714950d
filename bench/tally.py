"""The tally and the reports over a city's month of vouchers: 1,000,000 redemptions at 500 shops in
7 districts, from 6 campaigns funding six of the plan's measures. Prints how long a full tally, the
measures report and one campaign report take (target < 2 s each); generating the data is timed apart.

    .venv/bin/python bench/tally.py                       # SQLite (a fresh file)
    .venv/bin/python bench/tally.py --database-url postgresql://user@host/db   # emptied first!

The month is written straight into the tables (executemany on SQLite, COPY on PostgreSQL), shaped
as the claim, redemption, refund and expiry paths leave it: every voucher pre-minted (a few never
claimed), claimed in three rounds per campaign, about 5 % never used (expired, or still valid), about
2 % of sales refunded (most then used again), an ``ok`` attempt per sale and some refusals. Ledger
entries and idempotency keys are left out: neither the tally nor the reports read them.
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import app_for, fresh_database  # noqa: E402

TARGET_SECONDS = 2.0
CITY_OFFSET = 8 * 3600  # the bench's city is Asia/Shanghai: no daylight saving
DAY = 86_400
DISTRICTS = {"lizhou": 30, "zhaohua": 10, "chaotian": 8, "wangcang": 12, "qingchuan": 10, "jiange": 15,
             "cangxi": 15}
CATEGORIES = {"catering": 34, "retail": 15, "supermarket": 8, "appliances": 6, "auto": 5, "accommodation": 8,
              "tourism": 5, "entertainment": 8, "health": 4, "sports": 4, "agriculture": 3}
# Sales by hour of day, city time: lunch and dinner peaks; night campaigns only from 18:00 to 02:00.
DAY_HOURS = [1, 1, 0, 0, 0, 0, 1, 3, 5, 6, 9, 14, 15, 10, 7, 7, 8, 11, 16, 17, 14, 9, 5, 2]
NIGHT_HOURS = [6, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 14, 20, 18, 14, 10, 8]
USE_AFTER_DAYS = [30, 20, 15, 12, 10, 8, 5]  # how many days after the claim a voucher is used
ROUND_SHARES = [0.40, 0.32, 0.28]  # three rounds per campaign, on days 0, 9 and 18
ROUND_DAYS = [0, 9, 18]
UNUSED_SHARE, REFUND_SHARE, UNMINTED_SHARE, REFUSAL_SHARE = 0.05, 0.02, 0.03, 0.02
REFUSALS = ["below_threshold", "voucher_expired", "already_redeemed", "outside_hours", "merchant_not_enrolled"]


@dataclass
class CampaignSpec:
    name: str
    kind: str
    measures: list[str]
    share: float  # of all redemptions
    categories: list[str]
    tiers: list[tuple[str, int, int, int]]  # name, threshold, discount (fen), weight
    night: bool = False
    id: str = ""
    redeemed: int = 0
    tier_ids: list[str] = field(default_factory=list)
    round_ids: list[str] = field(default_factory=list)
    claimed: list[list[int]] = field(default_factory=list)  # per round, per tier
    minted: list[list[int]] = field(default_factory=list)


CAMPAIGNS = [
    CampaignSpec("广元夜间消费券·第一期", "night_economy", ["M12", "M13"], 0.28, ["catering", "entertainment", "retail"],
                 [("满100减30", 10_000, 3_000, 5), ("满50减15", 5_000, 1_500, 3)], night=True),
    CampaignSpec("广元惠民消费券", "general", ["M19"], 0.30, [],
                 [("满200减50", 20_000, 5_000, 2), ("满100减20", 10_000, 2_000, 5), ("满30减10", 3_000, 1_000, 3)]),
    CampaignSpec("春节消费券", "holiday", ["M19"], 0.14, ["catering", "retail", "supermarket"],
                 [("满300减60", 30_000, 6_000, 1), ("满100减20", 10_000, 2_000, 2)]),
    CampaignSpec("文旅消费券", "tourism", ["M03", "M05"], 0.12, ["accommodation", "tourism", "catering"],
                 [("满500减100", 50_000, 10_000, 1), ("满200减40", 20_000, 4_000, 2), ("10元券", 0, 1_000, 1)]),
    CampaignSpec("商旅文夜游券", "night_economy", ["M05", "M12"], 0.09, ["catering", "entertainment", "tourism"],
                 [("满80减20", 8_000, 2_000, 1)], night=True),
    CampaignSpec("汽车消费券", "auto", ["M16"], 0.07, ["auto", "appliances"],
                 [("满10万减5000", 10_000_000, 500_000, 1), ("满5000减300", 500_000, 30_000, 3)]),
]


def split(total: int, weights: list[float]) -> list[int]:
    """``total`` in parts proportional to ``weights`` (the last part takes the rounding)."""
    whole = sum(weights)
    parts = [int(total * w / whole) for w in weights[:-1]]
    return parts + [total - sum(parts)]


def plan(redemptions: int) -> None:
    """How many vouchers each campaign mints and has claimed, per round and tier."""
    for spec, redeemed in zip(CAMPAIGNS, split(redemptions, [c.share for c in CAMPAIGNS])):
        spec.redeemed = redeemed
        claimed = redeemed + round(redeemed * UNUSED_SHARE / (1 - UNUSED_SHARE))
        weights = [t[3] for t in spec.tiers]
        spec.claimed = [split(n, weights) for n in split(claimed, ROUND_SHARES)]
        spec.minted = [[n + math.ceil(n * UNMINTED_SHARE) for n in row] for row in spec.claimed]


class Stamps:
    """Timestamps (epoch seconds) as the text each database takes for ``UTCDateTime`` columns."""

    EPOCH = dt.datetime(1970, 1, 1)

    def __init__(self, postgres: bool):
        self.suffix = "+00" if postgres else ""  # SQLAlchemy keeps naive UTC text in SQLite

    def __call__(self, ts: float | None) -> str | None:
        if ts is None:
            return None
        return (self.EPOCH + dt.timedelta(seconds=ts)).isoformat(" ", "microseconds") + self.suffix


def ulid_at(ts: float) -> str:
    from ulid import ULID

    return str(ULID.from_timestamp(ts)).lower()


class Loader:
    """Bulk writes on the app's engine: executemany in big transactions on SQLite, COPY on PostgreSQL."""

    def __init__(self, engine):
        self.postgres = engine.dialect.name == "postgresql"
        self.raw = engine.raw_connection()
        self.connection = self.raw.driver_connection
        if not self.postgres:
            # Loading only: a crash would lose a bench file; the app's own connections keep NORMAL.
            self.connection.execute("PRAGMA synchronous=OFF")
            self.connection.execute("BEGIN")

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if self.postgres:
            with self.connection.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def commit(self) -> None:
        self.connection.commit() if self.postgres else self.connection.execute("COMMIT")
        if not self.postgres:
            self.connection.execute("BEGIN")

    def close(self) -> None:
        if self.postgres:
            self.connection.commit()
        else:
            self.connection.execute("COMMIT")
            self.connection.execute("PRAGMA synchronous=NORMAL")
        self.raw.close()


VOUCHER_COLUMNS = ("id", "short_code", "campaign_id", "tier_id", "round_id", "release_at", "threshold_cents",
                   "discount_cents", "status", "resident_id", "claim_round_id", "resident_slot", "round_slot",
                   "claimed_at", "expires_at", "redeemed_at", "revoked_at", "expired_at", "person_id")
REDEMPTION_COLUMNS = ("id", "voucher_id", "campaign_id", "merchant_id", "cashier_id", "bill_cents", "discount_cents",
                      "payable_cents", "redeemed_at", "refunded_at", "refunded_by")
ATTEMPT_COLUMNS = ("id", "at", "merchant_id", "cashier_id", "voucher_id", "campaign_id", "bill_cents", "outcome",
                   "redemption_id")


@dataclass
class City:
    start: float  # the campaigns' first day, city midnight (epoch seconds)
    now: float
    residents: list[str]
    merchants: dict[str, list[tuple[str, str]]]  # campaign id → enrolled (merchant id, cashier id)
    weights: dict[str, list[float]]  # campaign id → cumulative popularity of its merchants


def build_city(app, now: dt.datetime, merchants: int, residents: int, days: int, loader_factory) -> City:
    """Schema, the city's plan, the campaigns (open), approved shops with a cashier each, enrolments, residents."""
    import flask_migrate
    from sqlalchemy import insert, select
    from werkzeug.security import generate_password_hash

    from campaigns import service as campaigns
    from campaigns.models import CampaignStatus, District
    from campaigns.schemas import CampaignIn
    from merchants.demo import demo_uscc
    from merchants.models import Enrolment, EnrolmentStatus, Merchant, MerchantStatus
    from voucher_app.accounts.models import User
    from voucher_app.accounts.service import create_staff
    from voucher_app.core.database import new_id
    from voucher_app.core.extensions import db
    from voucher_app.core.roles import Role
    from voucher_app.core.validation import validate

    rng = random.Random(2020)
    flask_migrate.upgrade()
    campaigns.load_city_data(campaigns.city_data_file())
    admin = create_staff("bench-admin", "bench-admin-password", Role.admin)
    city_today = (int(now.timestamp()) + CITY_OFFSET) // DAY * DAY - CITY_OFFSET
    start = city_today - days * DAY
    start_at = dt.datetime.fromtimestamp(start, dt.timezone.utc)
    for spec in CAMPAIGNS:
        body = {"name": spec.name, "kind": spec.kind, "measure_codes": spec.measures,
                "budget_cents": sum(sum(n * t[2] for n, t in zip(row, spec.tiers)) for row in spec.minted),
                "starts_at": start_at.isoformat(), "ends_at": (now + dt.timedelta(days=2)).isoformat(),
                "merchant_categories": spec.categories, "limit_per_resident": len(ROUND_DAYS), "limit_per_round": 1,
                "valid_days": len(USE_AFTER_DAYS),
                "valid_hours": {"from": "18:00", "to": "02:00"} if spec.night else None,
                "tiers": [{"name": name, "threshold_cents": threshold, "discount_cents": discount,
                           "quantity": sum(row[i] for row in spec.minted)}
                          for i, (name, threshold, discount, _) in enumerate(spec.tiers)],
                "rounds": [{"release_at": (start_at + dt.timedelta(days=d, hours=10)).isoformat(), "quantities": row}
                           for d, row in zip(ROUND_DAYS, spec.minted)]}
        campaign = campaigns.create_campaign(validate(CampaignIn, body), admin, now)
        # Published the day before it started (minting is the bulk load below, not publish_campaign's).
        campaign.status, campaign.published_at = CampaignStatus.open, start_at - dt.timedelta(days=1)
        db.session.commit()
        spec.id = campaign.id
        spec.tier_ids = [t.id for t in campaign.tiers]
        spec.round_ids = [r.id for r in campaign.rounds]

    divisions = {d.code: d.gb_code or "510800" for d in db.session.scalars(select(District))}
    shops, cashiers = [], []
    password = generate_password_hash("bench-cashier-password")
    for n in range(merchants):
        district = rng.choices(list(DISTRICTS), list(DISTRICTS.values()))[0]
        category = rng.choices(list(CATEGORIES), list(CATEGORIES.values()))[0]
        shop = {"id": new_id(), "name": f"压测商户{n + 1:03d}", "uscc": demo_uscc(10_000 + n, divisions[district]),
                "category": category, "district": district, "address": f"{district} 压测路{n + 1}号",
                "contact_phone": f"0839-{3300000 + n}", "status": MerchantStatus.approved, "created_at": start_at,
                "updated_at": start_at, "reviewed_at": start_at}
        shops.append(shop)
        cashiers.append({"id": new_id(), "role": Role.cashier, "username": f"bench-cashier-{n + 1}",
                         "password_hash": password, "merchant_id": shop["id"], "is_active": True,
                         "created_at": start_at, "updated_at": start_at})
    db.session.execute(insert(Merchant), shops)
    db.session.execute(insert(User), cashiers)
    enrolled: dict[str, list[tuple[str, str]]] = {}
    weights: dict[str, list[float]] = {}
    popularity = {s["id"]: 1 / (i + 1) ** 0.8 for i, s in enumerate(rng.sample(shops, len(shops)))}
    for spec in CAMPAIGNS:
        pairs = [(s["id"], c["id"]) for s, c in zip(shops, cashiers)
                 if not spec.categories or s["category"] in spec.categories]
        enrolled[spec.id] = pairs
        total, cumulative = 0.0, []
        for merchant_id, _ in pairs:
            total += popularity[merchant_id]
            cumulative.append(total)
        weights[spec.id] = cumulative
        db.session.execute(insert(Enrolment), [
            {"id": new_id(), "campaign_id": spec.id, "merchant_id": m, "status": EnrolmentStatus.approved,
             "created_at": start_at, "reviewed_at": start_at, "reviewed_by": admin.id} for m, _ in pairs])
    db.session.commit()

    people = [new_id() for _ in range(residents)]
    loader = loader_factory()
    stamp = Stamps(loader.postgres)
    joined = stamp(start - 60 * DAY)
    loader.write("users", ("id", "role", "phone", "is_active", "created_at", "updated_at"),
                 [(p, "resident", f"13{i:09d}", True, joined, joined) for i, p in enumerate(people)])
    loader.close()
    return City(start=start, now=now.timestamp(), residents=people, merchants=enrolled, weights=weights)


def month_of_sales(city: City, spec: CampaignSpec, loader: Loader, rng: random.Random, redemptions: list,
                   attempts: list) -> dict[str, int]:
    """Mint, claim, use, refund and expire one campaign's vouchers, written round by round (in the order
    publishing minted them); its redemptions and attempts are added to the lists, for the caller to
    write with every campaign's in time order as the tills made them."""
    stamp = Stamps(loader.postgres)
    night = NIGHT_HOURS if spec.night else DAY_HOURS
    hours, use_after = list(range(24)), list(range(len(USE_AFTER_DAYS)))
    ends = city.now + 2 * DAY
    shops, cumulative = city.merchants[spec.id], city.weights[spec.id]
    claimed_total = sum(map(sum, spec.claimed))
    unused = set(rng.sample(range(claimed_total), claimed_total - spec.redeemed))
    minted_at = city.start - DAY
    counts = {"vouchers": 0, "refunded": 0, "expired": 0}
    seq = 0
    for r, (round_id, claimed_row, minted_row) in enumerate(zip(spec.round_ids, spec.claimed, spec.minted)):
        release = city.start + ROUND_DAYS[r] * DAY + 10 * 3600
        release_text = stamp(release)
        offset = rng.randrange(len(city.residents))
        vouchers = []
        j = 0  # the round's claims, one resident each (limit_per_round = 1)
        for t, (tier_id, claimed, minted) in enumerate(zip(spec.tier_ids, claimed_row, minted_row)):
            _, threshold, discount, _ = spec.tiers[t]
            for k in range(minted):
                minted_at += 0.0004
                voucher_id = ulid_at(minted_at)
                if k >= claimed:
                    vouchers.append((voucher_id, voucher_id[-10:], spec.id, tier_id, round_id, release_text, threshold,
                                     discount, "available") + (None,) * 10)
                    continue
                # Half the round is claimed in its first hours, the rest over the next week.
                if rng.random() < 0.5:
                    claimed_at = release + rng.expovariate(1 / 1200)
                else:
                    claimed_at = release + rng.uniform(0, 8 * DAY)
                claimed_at = min(claimed_at, city.now - 3600)
                expires = min(claimed_at + len(USE_AFTER_DAYS) * DAY, ends)
                resident = city.residents[(offset + j) % len(city.residents)]
                j += 1
                used = seq not in unused
                seq += 1
                status, redeemed_at, expired_at = "claimed", None, None
                sale = refund = None
                if used or rng.random() < 0.1:  # some unused vouchers were used once and refunded
                    sale = _sale_time(rng, claimed_at, min(expires, city.now), night, hours, use_after)
                if sale is not None and (not used or rng.random() < REFUND_SHARE):
                    first = sale - rng.uniform(1200, 6 * 3600) if used else sale
                    if first > claimed_at + 60:
                        refund = (first, min(first + rng.uniform(120, min(3600.0, (sale - first) / 2 or 3600)),
                                             city.now - 1))
                    if not used:
                        sale = None
                if sale is not None:
                    status, redeemed_at = "redeemed", sale
                elif expires <= city.now:
                    status, expired_at = "expired", expires
                vouchers.append((voucher_id, voucher_id[-10:], spec.id, tier_id, round_id, release_text, threshold,
                                 discount, status, resident, round_id, r, 0, stamp(claimed_at), stamp(expires),
                                 stamp(redeemed_at), None, stamp(expired_at), resident))
                for when, refunded in ((refund[0], refund[1]) if refund else (None, None), (sale, None)):
                    if when is None:
                        continue
                    merchant_id, cashier_id = shops[_pick(rng, cumulative)]
                    bill = max(threshold, discount) + int(rng.lognormvariate(7.8, 1.0))
                    sale_id = ulid_at(when)
                    redemptions.append((sale_id, voucher_id, spec.id, merchant_id, cashier_id, bill, discount,
                                        bill - discount, stamp(when), stamp(refunded),
                                        cashier_id if refunded else None))
                    attempts.append((ulid_at(when), stamp(when), merchant_id, cashier_id, voucher_id, spec.id, bill,
                                     "ok", sale_id))
                    if rng.random() < REFUSAL_SHARE:
                        before = when - rng.uniform(5, 120)
                        attempts.append((ulid_at(before), stamp(before), merchant_id, cashier_id, voucher_id, spec.id,
                                         bill, rng.choice(REFUSALS), None))
                    counts["refunded"] += refunded is not None
                counts["expired"] += status == "expired"
        loader.write("vouchers", VOUCHER_COLUMNS, vouchers)
        loader.commit()
        counts["vouchers"] += len(vouchers)
    return counts


def write_in_time_order(loader: Loader, table: str, columns: tuple[str, ...], rows: list[tuple],
                        chunk: int = 100_000) -> None:
    rows.sort(key=lambda row: row[0])  # ids are ULIDs of the time the till made the row
    for start in range(0, len(rows), chunk):
        loader.write(table, columns, rows[start:start + chunk])
        loader.commit()


def _sale_time(rng: random.Random, claimed_at: float, limit: float, hour_weights, hours, use_after) -> float:
    """When a voucher claimed at ``claimed_at`` is used: some days later, at a busy hour, before ``limit``."""
    day = (claimed_at + CITY_OFFSET) // DAY * DAY - CITY_OFFSET
    after = rng.choices(use_after, USE_AFTER_DAYS)[0]
    hour = rng.choices(hours, hour_weights)[0]
    when = day + after * DAY + hour * 3600 + rng.uniform(0, 3600)
    if when <= claimed_at:
        when = claimed_at + rng.uniform(300, 3 * 3600)
    if when >= limit:
        when = claimed_at + rng.random() * (limit - claimed_at)
    return when


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    from bisect import bisect

    return min(bisect(cumulative, rng.random() * cumulative[-1]), len(cumulative) - 1)


def timed(fn, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="PostgreSQL to use (its public schema is emptied); default SQLite")
    parser.add_argument("--redemptions", type=int, default=1_000_000)
    parser.add_argument("--merchants", type=int, default=500)
    parser.add_argument("--residents", type=int, default=150_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file (1.5 GB) and print where")
    args = parser.parse_args()
    if args.redemptions * max(c.share for c in CAMPAIGNS) / (1 - UNUSED_SHARE) * max(ROUND_SHARES) > args.residents:
        sys.exit("too few residents for one claim per resident and round: raise --residents")

    work = Path(tempfile.mkdtemp(prefix="tally-"))
    try:
        return measure(args, work)
    finally:
        if args.keep and not args.database_url:
            print(f"kept {work / 'bench.db'}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def measure(args, work: Path) -> int:
    database_url = fresh_database(args.database_url, work)
    app = app_for(database_url, work / "keys")
    db_name = "PostgreSQL" if args.database_url else "SQLite"
    now = dt.datetime.now(dt.timezone.utc)
    plan(args.redemptions)

    from sqlalchemy import func, select, text

    from voucher_app.core.extensions import db
    from voucher_app.redemptions.models import Redemption, RedemptionAttempt
    from voucher_app.reports.service import campaign_report, measures_report
    from voucher_app.reports.tally import tally
    from voucher_app.vouchers.models import Voucher

    print(f"generating on {db_name}: {args.redemptions:,} redemptions, {args.merchants} merchants in "
          f"{len(DISTRICTS)} districts, {len(CAMPAIGNS)} campaigns, {args.residents:,} residents, "
          f"{args.days} days …", flush=True)
    started = time.perf_counter()
    rng = random.Random(1)
    with app.app_context():
        city = build_city(app, now, args.merchants, args.residents, args.days, lambda: Loader(db.engine))
        totals: dict[str, int] = {}
        redemptions: list[tuple] = []
        attempts: list[tuple] = []
        loader = Loader(db.engine)
        for spec in CAMPAIGNS:
            for key, n in month_of_sales(city, spec, loader, rng, redemptions, attempts).items():
                totals[key] = totals.get(key, 0) + n
        write_in_time_order(loader, "redemptions", REDEMPTION_COLUMNS, redemptions)
        write_in_time_order(loader, "redemption_attempts", ATTEMPT_COLUMNS, attempts)
        loader.close()
        del redemptions, attempts
        loaded = time.perf_counter() - started
        if args.database_url:  # what autovacuum does to a live database after a month of inserts
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        generated = time.perf_counter() - started
        counts = {"vouchers": db.session.scalar(select(func.count()).select_from(Voucher)),
                  "redemptions": db.session.scalar(select(func.count()).select_from(Redemption)),
                  "in force": db.session.scalar(select(func.count()).select_from(Redemption)
                                                .where(Redemption.refunded_at.is_(None))),
                  "attempts": db.session.scalar(select(func.count()).select_from(RedemptionAttempt))}
        db.session.commit()
        vacuum = f", then VACUUM ANALYZE {generated - loaded:.1f} s" if args.database_url else ""
        print(f"generated in {generated:.1f} s (load {loaded:.1f} s{vacuum}): "
              + ", ".join(f"{n:,} {k}" for k, n in counts.items())
              + f"; {totals['refunded']:,} refunded, {totals['expired']:,} expired", flush=True)

        def fresh(fn):  # each run in its own transaction, as the scheduler and a request would
            def run():
                try:
                    return fn()
                finally:
                    db.session.rollback()
                    db.session.expunge_all()
            return run

        tally_times, summary = timed(fresh(lambda: tally(now)), args.repeat)
        measure_times, report = timed(fresh(lambda: measures_report(now)), args.repeat)
        campaign_id = CAMPAIGNS[1].id
        campaign_times, one = timed(fresh(lambda: campaign_report(campaign_id, now)), args.repeat)

    totals = report["totals"]
    print(f"\ntally and reports on {db_name}: {totals['redeemed']:,} vouchers redeemed, {summary['campaigns']} "
          f"campaigns, {summary['merchant_days']:,} merchant-day rows, subsidy ¥{totals['subsidy_cents'] / 100:,.0f}, "
          f"leverage {totals['leverage']}")
    print(f"  {'':<30}{'min':>8}{'median':>8}   runs (s)")
    for label, times in (("full tally", tally_times), ("measures report", measure_times),
                         (f"campaign report ({one['redeemed']:,} sales)", campaign_times)):
        median = statistics.median(times)
        verdict = "ok" if median < TARGET_SECONDS else "MISSED"
        print(f"  {label:<30}{min(times):7.2f}s{median:7.2f}s   {', '.join(f'{t:.2f}' for t in times)}"
              f"   median < {TARGET_SECONDS:.0f} s: {verdict}")
    print("  (the first tally writes every merchant-day row; the next ones only the rows that changed)")
    return 0 if totals["redeemed"] == args.redemptions else 1  # the tally must count every sale


if __name__ == "__main__":
    sys.exit(main())
