"""Public reads under load: the city's plan, residents' campaigns and the verification keys, answered
from each worker's kept body (200) and to clients that hold it (304, ``If-None-Match``), each as a
ratio to a bare Flask route (``bench/bare_flask.py``) served by the same gunicorn settings and
measured just before it in the same run.

    .venv/bin/python bench/public_reads.py                       # SQLite (a fresh file)
    .venv/bin/python bench/public_reads.py --database-url postgresql://user@host/db   # emptied first!

Targets (issue #20): each read ≥ 0.7× the bare route, each 304 ≥ 0.8×. The app's own bare endpoint
(``/api/v1/health``) is measured the same way, for the share that the app's per-request work takes.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Round, Server, app_for, fresh_database, load, median_round, settle  # noqa: E402

READ_TARGET, NOT_MODIFIED_TARGET = 0.7, 0.8
BARE = "/ping"


def prepare(app, campaigns: int) -> list[str]:
    """The city's plan and ``campaigns`` open campaigns, published through the services; their ids."""
    import flask_migrate

    from campaigns import service
    from campaigns.schemas import CampaignIn
    from voucher_app.accounts.service import create_staff
    from voucher_app.core.roles import Role
    from voucher_app.core.validation import validate
    from voucher_app.vouchers import issuing

    with app.app_context():
        flask_migrate.upgrade()
        service.load_city_data(service.city_data_file())
        admin = create_staff("bench-admin", "bench-admin-password", Role.admin)
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        ids = []
        for i in range(campaigns):
            body = {"name": f"公开读取压测{i}", "kind": "general", "measure_codes": ["M19"], "budget_cents": 1_000_000,
                    "starts_at": (now - dt.timedelta(minutes=5)).isoformat(),
                    "ends_at": (now + dt.timedelta(days=1)).isoformat(),
                    "tiers": [{"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": 100},
                              {"name": "满100减30", "threshold_cents": 10_000, "discount_cents": 3_000, "quantity": 100}],
                    "rounds": [{"release_at": (now - dt.timedelta(minutes=4)).isoformat(), "quantities": [50, 50]},
                               {"release_at": (now + dt.timedelta(hours=12)).isoformat(), "quantities": [50, 50]}]}
            campaign = service.create_campaign(validate(CampaignIn, body), admin, now)
            issuing.publish_campaign(campaign.id, admin, now)
            ids.append(campaign.id)
        return ids


def etag_of(server: Server, path: str) -> str:
    with urllib.request.urlopen(server.url + path, timeout=10) as response:
        return response.headers["ETag"]


def measure(bare: Server, server: Server, path: str, headers: dict | None, answer: str, args) -> Round:
    """``args.rounds`` pairs of (bare route, ``path``); the median pair by ratio."""
    measured = []
    for _ in range(args.rounds):
        ceiling = load(bare, [f"GET {BARE} -"], connections=args.clients, seconds=args.seconds)
        work = load(server, [f"GET {path} -"], connections=args.clients, seconds=args.seconds, headers=headers)
        measured.append(Round(ceiling, work, work.count(answer)))
    return median_round(measured)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="PostgreSQL to use (its public schema is emptied); default SQLite")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=5, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="(bare route, read) pairs per row; the median counts")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--campaigns", type=int, default=20, help="open campaigns on residents' list")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="public-reads-"))
    database_url = fresh_database(args.database_url, work)
    app = app_for(database_url, work / "keys")
    print(f"preparing: the city's plan and {args.campaigns} open campaigns …", flush=True)
    ids = prepare(app, args.campaigns)
    settle(database_url)
    reads = {"measures": "/api/v1/measures", "districts": "/api/v1/districts", "campaigns": "/api/v1/campaigns",
             "campaign": f"/api/v1/campaigns/{ids[0]}", "keys": "/api/v1/keys"}

    bare = Server(database_url, work / "keys", args.workers, args.threads, app="bench.bare_flask:app", probe=BARE)
    server = Server(database_url, work / "keys", args.workers, args.threads)
    rows = []
    try:
        load(bare, [f"GET {BARE} -"], connections=args.clients, seconds=2)  # warm up both
        load(server, [f"GET {path} -" for path in reads.values()], connections=args.clients, seconds=2)
        rows.append(("health", "200", None, measure(bare, server, "/api/v1/health", None, "200", args)))
        for name, path in reads.items():
            rows.append((name, "200", READ_TARGET, measure(bare, server, path, None, "200", args)))
            revalidate = {"If-None-Match": etag_of(server, path)}
            rows.append((name, "304", NOT_MODIFIED_TARGET, measure(bare, server, path, revalidate, "304", args)))
    finally:
        server.stop()
        bare.stop()

    db_name = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\npublic reads on {db_name}: {args.workers} workers × {args.threads} threads, {args.clients} clients, "
          f"median of {args.rounds} rounds of {args.seconds} s (bare Flask route, then the read)\n")
    print(f"  {'read':10s} {'answer':6s} {'bare /s':>8s} {'read /s':>8s} {'p50 ms':>7s} {'p99 ms':>7s} "
          f"{'ratio':>6s}  target")
    for name, answer, target, r in rows:
        met = target is None or r.ratio >= target
        print(f"  {name:10s} {answer:6s} {r.bare.per_second:8.0f} {r.rate:8.0f} {r.work.p50_ms:7.1f} "
              f"{r.work.p99_ms:7.1f} {r.ratio:5.2f}×  {f'≥ {target}' if target else '(the app’s bare endpoint)'}"
              f"{'' if met else '  missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
