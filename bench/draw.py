"""A lottery round of a million entries for 50,000 vouchers: taking the entries, and the draw.

    .venv/bin/python bench/draw.py                        # SQLite (a fresh file)
    .venv/bin/python bench/draw.py --database-url postgresql://user@host/db   # emptied first!

1. Entries through HTTP: 64 clients enter a lottery round (``POST /campaigns/{id}/entries``), each
   request a different resident, in rounds measured right after the bare endpoint; and the claim
   rush (``POST /claims``) on a first-come campaign in the same run. Prints entries/s, its ratio to
   the bare endpoint and to successful claims, and how long a million entries would take at that rate.
2. The rest of the million entries (and their residents) are written straight into the database —
   a million HTTP requests would take this shared two-core box a quarter of an hour and measure
   nothing more than step 1 — and the window is moved into the past.
3. The draw, as the scheduler runs it (``draw_lotteries``) in a process of its own: the time,
   including issuing every winner's voucher and its ledger entry, and the process's peak resident
   memory. Goals (issue #16): under 30 s, under 300 MB. Then the published document is recomputed
   (``draw.verify``) and the ledger checked.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, SECRET, Server, app_for, fresh_database, load, report, rounds, settle  # noqa: E402

ENTRIES, VOUCHERS = 1_000_000, 50_000


def prepare(app, residents: int, vouchers: int) -> tuple[dict, dict, list[str]]:
    """Schema, city, a first-come campaign and a lottery campaign, and signed-in residents (tokens)."""
    import flask_migrate
    from sqlalchemy import insert, select

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
        common = {"kind": "general", "measure_codes": ["M19"], "valid_days": 7,
                  "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
                  "ends_at": (now + dt.timedelta(days=10)).isoformat()}
        fcfs = {**common, "name": "抢券压测", "budget_cents": 60_000 * 1_000, "limit_per_resident": 100,
                "limit_per_round": 100,
                "tiers": [{"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": 60_000}],
                "rounds": [{"release_at": (now - dt.timedelta(seconds=30)).isoformat(), "quantities": [60_000]}]}
        lottery = {**common, "name": "摇号压测", "allocation": "lottery", "budget_cents": vouchers * 1_000,
                   "limit_per_resident": 1, "limit_per_round": 1,
                   "tiers": [{"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": vouchers}],
                   "rounds": [{"entry_opens_at": (now - dt.timedelta(seconds=30)).isoformat(),
                               "entry_closes_at": (now + dt.timedelta(days=1)).isoformat(),
                               "draw_at": (now + dt.timedelta(days=1, hours=1)).isoformat(),
                               "quantities": [vouchers]}]}
        made = {}
        for name, body in (("fcfs", fcfs), ("lottery", lottery)):
            campaign = campaigns.create_campaign(validate(CampaignIn, body), admin, now)
            issuing.publish_campaign(campaign.id, admin, now)
            made[name] = {"id": campaign.id, "tier_id": campaign.tiers[0].id, "round_id": campaign.rounds[0].id}
        rows = [{"id": new_id(), "role": Role.resident, "phone": f"13{i:09d}", "is_active": True,
                 "created_at": now, "updated_at": now} for i in range(residents)]
        db.session.execute(insert(User), rows)
        db.session.commit()
        users = db.session.scalars(select(User).where(User.role == Role.resident)).all()
        tokens = [issue_token(u)["token"] for u in users]
        return made["fcfs"], made["lottery"], tokens


def fill(app, lottery: dict, total: int) -> int:
    """Bring the round to ``total`` entries, each from a resident of its own; close the window."""
    from sqlalchemy import func, insert, select, update

    from campaigns.models import Round
    from voucher_app.accounts.models import User
    from voucher_app.core.database import new_id
    from voucher_app.core.extensions import db
    from voucher_app.core.roles import Role
    from voucher_app.lottery.models import Entry

    with app.app_context():
        have = db.session.scalar(select(func.count()).select_from(Entry).where(Entry.round_id == lottery["round_id"]))
        now = dt.datetime.now(dt.timezone.utc)
        chunk, made = 20_000, 0
        while have + made < total:
            n = min(chunk, total - have - made)
            users = [{"id": new_id(), "role": Role.resident, "phone": f"19{have + made + i:09d}", "is_active": True,
                      "created_at": now, "updated_at": now} for i in range(n)]
            db.session.execute(insert(User), users)
            db.session.execute(insert(Entry), [
                {"id": new_id(), "campaign_id": lottery["id"], "round_id": lottery["round_id"],
                 "tier_id": lottery["tier_id"], "resident_id": u["id"], "person_id": u["id"], "pool": "",
                 "status": "entered", "created_at": now} for u in users])
            db.session.commit()
            made += n
        db.session.execute(update(Round).where(Round.id == lottery["round_id"]).values(
            entry_opens_at=now - dt.timedelta(days=1), entry_closes_at=now - dt.timedelta(seconds=2),
            draw_at=now - dt.timedelta(seconds=1)))
        db.session.commit()
        return have + made


DRAW_SCRIPT = """
import json, sys, time
from bench.harness import app_for
from pathlib import Path
app = app_for(sys.argv[1], Path(sys.argv[2]))
from voucher_app.core.clock import now
from voucher_app.lottery.jobs import draw_lotteries
with app.app_context():
    started = time.perf_counter()
    if len(sys.argv) > 3:
        import cProfile, pstats
        profile = cProfile.Profile()
        outcome = profile.runcall(draw_lotteries, now())
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    else:
        outcome = draw_lotteries(now())
    print(json.dumps({"seconds": time.perf_counter() - started, **outcome}))
"""

CHECK_SCRIPT = """
import json, sys, time
from bench.harness import app_for
from pathlib import Path
app = app_for(sys.argv[1], Path(sys.argv[2]))
from sqlalchemy import func, select
from voucher_app.core.clock import now
from voucher_app.core.extensions import db
from voucher_app.lottery import draw, service
from voucher_app.settlement.reconciliation import check_ledger
from voucher_app.vouchers.models import Voucher
with app.app_context():
    started = time.perf_counter()
    document = service.draw_document(sys.argv[3], sys.argv[4], now())
    built = time.perf_counter() - started
    problems = draw.verify(document)
    claimed = db.session.scalar(select(func.count()).select_from(Voucher).where(
        Voucher.campaign_id == sys.argv[3], Voucher.status == "claimed"))
    print(json.dumps({"document_seconds": built, "verify_seconds": time.perf_counter() - started - built,
                      "problems": problems, "winners": len(document["winners"]), "entries": len(document["entries"]),
                      "claimed": claimed, "ledger_differences": len(check_ledger()[1])}))
"""


def in_process_of_its_own(script: str, *args: str) -> tuple[dict, float]:
    """Run ``script`` in a fresh Python; its JSON answer and the peak resident memory (MB) of the children so far."""
    out = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "VOUCHER_SECRET_KEY": SECRET, "PATH": "/usr/bin:/bin"})
    if out.returncode:
        raise RuntimeError(out.stdout + out.stderr)
    if "--profile" in args:
        print(out.stderr[-6000:])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return json.loads(out.stdout.strip().splitlines()[-1]), peak_mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="PostgreSQL to use (its public schema is emptied); default SQLite")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--residents", type=int, default=40_000, help="residents with tokens for the HTTP part")
    parser.add_argument("--entries", type=int, default=ENTRIES)
    parser.add_argument("--vouchers", type=int, default=VOUCHERS)
    parser.add_argument("--skip-http", action="store_true", help="only the draw (no entries through HTTP)")
    parser.add_argument("--profile", action="store_true", help="print where the draw spends its time")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="draw-"))
    database_url = fresh_database(args.database_url, work)
    app = app_for(database_url, work / "keys")
    db_name = "PostgreSQL" if args.database_url else "SQLite"
    print(f"preparing: {args.residents} residents with tokens, a lottery of {args.vouchers} vouchers and a "
          f"first-come campaign on {db_name} …", flush=True)
    fcfs, lottery, tokens = prepare(app, args.residents, args.vouchers)
    settle(database_url)
    if not args.skip_http:
        measure_http(args, database_url, work, fcfs, lottery, tokens, db_name)
    started = time.perf_counter()
    total = fill(app, lottery, args.entries)
    print(f"\n  {total:,} entries in the round (the rest written straight in: {time.perf_counter() - started:.0f} s)")
    settle(database_url)
    outcome, peak = in_process_of_its_own(DRAW_SCRIPT, database_url, str(work / "keys"),
                                          *(["--profile"] if args.profile else []))
    print(f"  the draw            {outcome['seconds']:.1f} s (goal < 30 s) for {total:,} entries, "
          f"{outcome['rounds_drawn']} round; peak memory of its process {peak:.0f} MB (goal < 300 MB)")
    check, _peak = in_process_of_its_own(CHECK_SCRIPT, database_url, str(work / "keys"), lottery["id"],
                                         lottery["round_id"])
    print(f"  checked             {check['winners']:,} winners of {check['entries']:,} entries, "
          f"{check['claimed']:,} vouchers claimed; recomputed: {check['problems'] or 'agrees'}; "
          f"ledger differences {check['ledger_differences']} (document {check['document_seconds']:.1f} s, "
          f"verify {check['verify_seconds']:.1f} s)")
    ok = not check["problems"] and check["ledger_differences"] == 0 and check["claimed"] == args.vouchers
    return 0 if ok else 1


def measure_http(args, database_url: str, work: Path, fcfs: dict, lottery: dict, tokens: list[str], db_name: str):
    claim_lines = [f"POST /api/v1/campaigns/{fcfs['id']}/claims {t} " + json.dumps({"tier_id": fcfs["tier_id"]})
                   for t in tokens[:1_000]]
    entry_lines = [f"POST /api/v1/campaigns/{lottery['id']}/entries {t} " + json.dumps({"tier_id": lottery["tier_id"]})
                   for t in tokens]
    server = Server(database_url, work / "keys", args.workers, args.threads)
    try:
        common = {"count": args.rounds, "connections": args.clients, "seconds": args.seconds}
        load(server, ["GET /api/v1/health -"], connections=args.clients, seconds=2)
        claims = rounds(server, claim_lines, "201", **common)
        entries = rounds(server, entry_lines, "201", disjoint=True, **common)
    finally:
        server.stop()
    print(f"\nlottery on {db_name}: {args.workers} workers × {args.threads} threads, {args.clients} clients")
    claimed = report("successful claims", claims, None)
    entered = report("entries", entries, None)
    print(f"  entries / claims    {entered.rate / claimed.rate:.2f}× (median rounds)   "
          f"{args.entries:,} entries at {entered.rate:.0f}/s would take {args.entries / entered.rate / 60:.1f} min")
    short = [r for r in entries if r.work.statuses.get("409:limit_reached")]
    if short:
        print(f"  note: {sum(r.work.statuses['409:limit_reached'] for r in short)} repeated entries (add --residents)")


if __name__ == "__main__":
    sys.exit(main())
