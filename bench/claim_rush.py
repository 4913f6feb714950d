"""The rush: the whole city presses "claim" at once. Prints claims/s, sold-out refusals/s, views of
the sold-out campaign (``GET /campaigns/{id}``, which counts its claimed vouchers), p50/p99 latency
and the oversell count, each next to the app's bare JSON endpoint measured in the same run.

    .venv/bin/python bench/claim_rush.py                       # SQLite (a fresh file)
    .venv/bin/python bench/claim_rush.py --database-url postgresql://user@host/db   # emptied first!

Targets (DESIGN/issue): successful claims ≥ 0.45× the bare endpoint on SQLite, ≥ 0.35× on
PostgreSQL; sold-out refusals ≥ 0.8×; p99 < 50 ms at 64 clients.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Server, app_for, fresh_database, load, report, rounds, settle  # noqa: E402


def prepare(app, vouchers: int, residents: int) -> tuple[dict, list[str]]:
    """Schema, city, an open campaign of ``vouchers`` and ``residents`` signed-in residents (tokens)."""
    import flask_migrate
    from sqlalchemy import insert

    from campaigns import service as campaigns
    from campaigns.schemas import CampaignIn
    from voucher_app.accounts.models import User
    from voucher_app.accounts.service import create_staff, issue_token
    from voucher_app.core.database import new_id
    from voucher_app.core.extensions import db
    from voucher_app.core.roles import Role
    from voucher_app.core.validation import validate
    from voucher_app.vouchers import issuing

    with app.app_context():
        flask_migrate.upgrade()
        campaigns.load_city_data(campaigns.city_data_file())
        admin = create_staff("bench-admin", "bench-admin-password", Role.admin)
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        per_resident = 100
        body = {"name": "抢券压测", "kind": "general", "measure_codes": ["M19"], "budget_cents": vouchers * 1_000,
                "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
                "ends_at": (now + dt.timedelta(days=1)).isoformat(),
                "limit_per_resident": per_resident, "limit_per_round": per_resident, "valid_days": 1,
                "tiers": [{"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": vouchers}],
                "rounds": [{"release_at": (now - dt.timedelta(seconds=30)).isoformat(), "quantities": [vouchers]}]}
        campaign = campaigns.create_campaign(validate(CampaignIn, body), admin, now)
        issuing.publish_campaign(campaign.id, admin, now)
        tier_id = campaign.tiers[0].id
        rows = [{"id": new_id(), "role": Role.resident, "phone": f"13{i:09d}", "is_active": True,
                 "created_at": now, "updated_at": now} for i in range(residents)]
        db.session.execute(insert(User), rows)
        db.session.commit()
        users = db.session.query(User).filter(User.role == Role.resident).all()
        tokens = [issue_token(u)["token"] for u in users]
        return {"id": campaign.id, "tier_id": tier_id}, tokens


def counts(app, campaign_id: str) -> dict:
    from sqlalchemy import func, select

    from voucher_app.core.extensions import db
    from voucher_app.vouchers.models import Voucher, VoucherStatus

    with app.app_context():
        claimed = db.session.scalar(select(func.count()).select_from(Voucher).where(
            Voucher.campaign_id == campaign_id, Voucher.status != VoucherStatus.available))
        holders = db.session.scalar(select(func.count(func.distinct(Voucher.resident_id))).where(
            Voucher.campaign_id == campaign_id, Voucher.status != VoucherStatus.available))
        over_limit = db.session.scalar(select(func.count()).select_from(
            select(Voucher.resident_id).where(Voucher.campaign_id == campaign_id,
                                              Voucher.status != VoucherStatus.available)
            .group_by(Voucher.resident_id).having(func.count() > 100).subquery()))
        return {"claimed": claimed, "holders": holders, "residents_over_limit": over_limit}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="PostgreSQL to use (its public schema is emptied); default SQLite")
    parser.add_argument("--clients", type=int, default=64, help="concurrent connections")
    parser.add_argument("--seconds", type=int, default=6, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="(bare, workload) pairs per workload; the median counts")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--vouchers", type=int, default=60_000)
    parser.add_argument("--residents", type=int, default=1_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="claim-rush-"))
    database_url = fresh_database(args.database_url, work)
    app = app_for(database_url, work / "keys")
    db_name = "PostgreSQL" if args.database_url else "SQLite"
    print(f"preparing: {args.vouchers} vouchers, {args.residents} residents on {db_name} …", flush=True)
    campaign, tokens = prepare(app, args.vouchers, args.residents)
    settle(database_url)
    claim_path = f"/api/v1/campaigns/{campaign['id']}/claims"
    claim_lines = [f"POST {claim_path} {t} " + json.dumps({"tier_id": campaign["tier_id"]}, separators=(",", ":"))
                   for t in tokens]

    server = Server(database_url, work / "keys", args.workers, args.threads)
    try:
        common = {"count": args.rounds, "connections": args.clients, "seconds": args.seconds}
        load(server, ["GET /api/v1/health -"], connections=args.clients, seconds=2)  # warm up
        rush = rounds(server, claim_lines, "201", **common)
        claimed_in_rush = counts(app, campaign["id"])["claimed"]
        # Sell out what is left, then measure rushes that meet an empty round.
        while counts(app, campaign["id"])["claimed"] < args.vouchers:
            load(server, claim_lines, connections=args.clients, seconds=3)
        refusals = rounds(server, claim_lines, "409:sold_out", **common)
        # The crowd reloading the sold-out campaign's page (its counts read 60,000 claimed vouchers).
        views = rounds(server, [f"GET /api/v1/campaigns/{campaign['id']} -"], "200", **common)
        final = counts(app, campaign["id"])
    finally:
        server.stop()

    oversell = max(0, final["claimed"] - args.vouchers) + final["residents_over_limit"]
    print(f"\nclaim rush on {db_name}: {args.workers} workers × {args.threads} threads, {args.clients} clients, "
          f"{args.rounds} rounds of {args.seconds} s (bare endpoint, then the workload)")
    report("successful claims", rush, 0.45 if not args.database_url else 0.35)
    report("sold-out refusals", refusals, 0.8)
    report("campaign views", views, None)
    other = {}
    for r in rush:
        for status, n in r.work.statuses.items():
            if status != "201":
                other[status] = other.get(status, 0) + n
    print(f"  oversell            {oversell} (claimed {final['claimed']} of {args.vouchers}, "
          f"{claimed_in_rush} in the measured rushes; other answers during the rushes: {other})")
    print(f"  socket errors       {sum(r.bare.errors + r.work.errors for r in rush + refusals + views)}")
    return 0 if oversell == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
