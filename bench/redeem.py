"""Redemption at the tills: every request a different voucher's fresh QR, from many cashiers at once.
Prints redemptions/s, p50/p99 latency and double redemptions (must be 0), next to the app's bare JSON
endpoint measured in the same run.

    .venv/bin/python bench/redeem.py                       # SQLite (a fresh file)
    .venv/bin/python bench/redeem.py --database-url postgresql://user@host/db   # emptied first!

Targets: ≥ 0.45× the bare endpoint on SQLite, ≥ 0.35× on PostgreSQL.
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


def prepare(app, vouchers: int, cashiers: int) -> tuple[list[str], list[str]]:
    """An open campaign whose ``vouchers`` are all claimed, an enrolled shop with ``cashiers``;
    returns the cashiers' tokens and one fresh QR token per voucher."""
    import flask_migrate
    from sqlalchemy import insert, select

    from campaigns import service as campaigns
    from campaigns.schemas import CampaignIn
    from merchants.models import Enrolment, EnrolmentStatus, Merchant, MerchantStatus
    from voucher_app.accounts.models import User
    from voucher_app.accounts.service import create_staff, issue_token
    from voucher_app.core.database import new_id
    from voucher_app.core.extensions import db
    from voucher_app.core.roles import Role
    from voucher_app.core.validation import validate
    from voucher_app.vouchers import issuing, tokens
    from voucher_app.vouchers.claiming import claim_voucher

    with app.app_context():
        flask_migrate.upgrade()
        campaigns.load_city_data(campaigns.city_data_file())
        admin = create_staff("bench-admin", "bench-admin-password", Role.admin)
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        body = {"name": "核销压测", "kind": "general", "measure_codes": ["M19"], "budget_cents": vouchers * 1_000,
                "starts_at": (now - dt.timedelta(minutes=5)).isoformat(),
                "ends_at": (now + dt.timedelta(days=1)).isoformat(),
                "limit_per_resident": 1, "limit_per_round": 1, "valid_days": 1,
                "tiers": [{"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": vouchers}],
                "rounds": [{"release_at": (now - dt.timedelta(minutes=4)).isoformat(), "quantities": [vouchers]}]}
        campaign = campaigns.create_campaign(validate(CampaignIn, body), admin, now)
        issuing.publish_campaign(campaign.id, admin, now)
        merchant = Merchant(name="压测商户", uscc="91510802MA00000000", category="catering", district="lizhou",
                            address="利州区", contact_phone="0839-1234567", status=MerchantStatus.approved,
                            created_at=now, updated_at=now)
        db.session.add(merchant)
        db.session.flush()
        db.session.add(Enrolment(campaign_id=campaign.id, merchant_id=merchant.id,
                                 status=EnrolmentStatus.approved, created_at=now))
        db.session.execute(insert(User), [
            {"id": new_id(), "role": Role.resident, "phone": f"13{i:09d}", "is_active": True, "created_at": now,
             "updated_at": now} for i in range(vouchers)])
        db.session.commit()
        shop_staff = [create_staff(f"bench-cashier-{i}", "bench-cashier-password", Role.cashier,
                                   merchant_id=merchant.id) for i in range(cashiers)]
        residents = db.session.scalars(select(User).where(User.role == Role.resident)).all()
        claimed = [claim_voucher(campaign.id, campaign.tiers[0].id, r, now)[0]["id"] for r in residents]
        fresh = dt.datetime.now(dt.timezone.utc)
        return ([issue_token(c)["token"] for c in shop_staff],
                [tokens.sign(voucher_id, fresh, ttl_seconds=600)[0] for voucher_id in claimed])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="PostgreSQL to use (its public schema is emptied); default SQLite")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=5, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="(bare, workload) pairs; the median counts")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--vouchers", type=int, default=36_000,
                        help="claimed vouchers to scan: more than the run can redeem, so it never runs dry")
    parser.add_argument("--cashiers", type=int, default=32)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="redeem-"))
    database_url = fresh_database(args.database_url, work)
    app = app_for(database_url, work / "keys")
    print(f"preparing: {args.vouchers} claimed vouchers, {args.cashiers} cashiers …", flush=True)
    cashier_tokens, voucher_tokens = prepare(app, args.vouchers, args.cashiers)
    settle(database_url)
    # The token goes in the body; Base45 may hold spaces, so the line's last field is the whole JSON body.
    lines = [f"POST /api/v1/redemptions {cashier_tokens[i % len(cashier_tokens)]} "
             + json.dumps({"token": t, "bill_cents": 5_000}, separators=(",", ":"))
             for i, t in enumerate(voucher_tokens)]

    server = Server(database_url, work / "keys", args.workers, args.threads)
    try:
        load(server, ["GET /api/v1/health -"], connections=args.clients, seconds=2)  # warm up
        measured = rounds(server, lines, "201", count=args.rounds, connections=args.clients,
                          seconds=args.seconds, disjoint=True)
    finally:
        server.stop()

    from sqlalchemy import func, select

    from voucher_app.core.extensions import db
    from voucher_app.redemptions.models import Redemption

    with app.app_context():
        doubles = db.session.scalar(select(func.count()).select_from(
            select(Redemption.voucher_id).where(Redemption.refunded_at.is_(None))
            .group_by(Redemption.voucher_id).having(func.count() > 1).subquery()))
        redeemed = db.session.scalar(select(func.count()).select_from(Redemption))
    db_name = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\nredemption on {db_name}: {args.workers} workers × {args.threads} threads, {args.clients} clients, "
          f"{args.rounds} rounds of {args.seconds} s (bare endpoint, then the workload)")
    report("redemptions", measured, 0.35 if args.database_url else 0.45)
    answers = {}
    for r in measured:
        for status, n in r.work.statuses.items():
            answers[status] = answers.get(status, 0) + n
    print(f"  double redemptions {doubles} (redemptions {redeemed}, answers {answers})")
    return 0 if doubles == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
