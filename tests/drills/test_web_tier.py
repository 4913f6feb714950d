"""Fault drills on the web tier (issue #21): a gunicorn worker and the whole web tier killed with SIGKILL
in the middle of a claim rush, and every worker in the middle of a run of redemptions, while clients retry like the wallet
and the till (same Idempotency-Key, back-off with jitter).

Each drill ends with what a resident, a shop and the bureau would check: every 201 is in its wallet,
no voucher was claimed without its answer reaching someone, nobody holds more than the limit, no
voucher is redeemed twice, the books balance, and the campaign's figures equal a count of the rows.
The clients' figures (requests, answers by status, retries, recovery time) are printed.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.conftest import LiveServer
from tests.drills.retrying import Figures, RetryingClient
from tests.http_client import Http
from tests.redemptions.live_shop import LiveShop
from tests.vouchers.test_claim_concurrency import claimed_vouchers, open_campaign, residents
from voucher_app.core.extensions import db
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.redemptions.models import Redemption
from voucher_app.settlement.reconciliation import check_ledger

pytestmark = [pytest.mark.drills, pytest.mark.server]

Q = 60
RESIDENTS = 150
PARALLEL = 16
SALES = 100


@pytest.fixture
def drill_server(app, city, _schema, keys_dir):
    """A server of its own (2 workers × 4 threads): the drill breaks it."""
    servers = [LiveServer(_schema, keys_dir, workers=2, threads=4)]
    yield servers  # a drill that restarts the tier appends the new server
    for server in servers:
        server.stop()


def workers_of(server: LiveServer) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True)
    return sorted(int(pid) for pid in found.stdout.split())


def wait_for_workers(server: LiveServer, count: int, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = workers_of(server)
        if len(pids) == count:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"gunicorn has {workers_of(server)} workers, expected {count}")


def break_when(done: list[int], threshold: int, action) -> threading.Thread:
    """Run ``action`` once ``threshold`` intents have their final answer (the rush is in full swing)."""

    def watch():
        while done[0] < threshold:
            time.sleep(0.005)
        action()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def report(capsys, figures: Figures, title: str) -> None:
    with capsys.disabled():
        print(figures.summary(title))


def claim_rush(client: RetryingClient, campaign: dict, tokens: list[str], done: list[int]) -> list[tuple]:
    path = f"/api/v1/campaigns/{campaign['id']}/claims"
    lock = threading.Lock()

    def one(token):
        status, body = client.post(path, {"tier_id": campaign["tiers"][0]["id"]}, token)
        with lock:
            done[0] += 1
        return token, status, body

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, tokens))


def assert_claims_hold(http: Http, campaign: dict, results: list[tuple]) -> None:
    """The rush's answers and the database tell the same story, and the books balance."""
    codes = [201 if status == 201 else body["code"] for _t, status, body in results]
    assert set(codes) <= {201, "sold_out"}, codes
    answered = {body["id"]: token for token, status, body in results if status == 201}
    assert len(answered) == codes.count(201) == Q  # one voucher per 201, sold out exactly
    vouchers = claimed_vouchers(campaign["id"])
    assert {v.id for v in vouchers} == set(answered)  # nothing claimed without its answer reaching the resident
    assert len({v.resident_id for v in vouchers}) == len(vouchers)  # nobody over the limit of one
    for voucher_id, token in answered.items():  # every 201 is in its wallet
        status, wallet, _ = http.get("/api/v1/me/vouchers", token=token)
        assert status == 200 and voucher_id in {item["id"] for item in wallet["items"]}
    _, after, _ = http.get(f"/api/v1/campaigns/{campaign['id']}")
    assert (after["tiers"][0]["claimed"], after["tiers"][0]["remaining"]) == (Q, 0)
    assert check_ledger()[1] == []


def test_a_worker_killed_during_a_claim_rush_loses_nothing(drill_server, capsys):
    """One worker is killed while the other serves on; later the other one (by then gunicorn has started a
    new first one). Two kills, so a worker that happened to sit idle at its moment cannot hide the drill."""
    server = drill_server[0]
    http = Http(server.url)
    campaign = open_campaign(http, Q)
    tokens = residents(http, RESIDENTS)
    first, second = wait_for_workers(server, 2)
    figures, done = Figures(), [0]

    def kill(victim):
        os.kill(victim, signal.SIGKILL)
        figures.mark_break()

    killers = [break_when(done, RESIDENTS // 4, lambda: kill(first)),
               break_when(done, RESIDENTS // 2, lambda: kill(second))]
    results = claim_rush(RetryingClient(server.url, figures), campaign, tokens, done)
    for killer in killers:
        killer.join(timeout=5)
    report(capsys, figures, "SIGKILL of one web worker, then of the other, during a claim rush")
    assert figures.network_errors > 0  # the kills cut requests under way
    assert not {first, second} & set(wait_for_workers(server, 2))  # gunicorn replaced both
    assert_claims_hold(http, campaign, results)


def kill_the_tier(servers: list[LiveServer], database_url: str, keys_dir, figures: Figures) -> None:
    """SIGKILL gunicorn's master and every worker, leave the port dark a moment, start the tier again."""
    server = servers[0]
    for pid in [server.process.pid, *workers_of(server)]:
        os.kill(pid, signal.SIGKILL)
    figures.mark_break()
    server.process.wait()
    time.sleep(1.0)  # the tier stays down a moment: clients meet refused connections and back off
    servers.append(LiveServer(database_url, keys_dir, workers=2, threads=4, port=server.port))


def test_the_whole_web_tier_killed_during_a_claim_rush_loses_nothing(drill_server, _schema, keys_dir, capsys):
    server = drill_server[0]
    http = Http(server.url)
    campaign = open_campaign(http, Q)
    tokens = residents(http, RESIDENTS)
    figures, done = Figures(), [0]

    killer = break_when(done, RESIDENTS // 4, lambda: kill_the_tier(drill_server, _schema, keys_dir, figures))
    results = claim_rush(RetryingClient(server.url, figures), campaign, tokens, done)
    killer.join(timeout=60)
    report(capsys, figures, "SIGKILL of the whole web tier (master and workers) during a claim rush, restart")
    assert len(drill_server) == 2 and figures.network_errors > 0
    assert_claims_hold(http, campaign, results)


def sold_vouchers(http: Http, clock) -> tuple[LiveShop, dict[str, str]]:
    """A shop open for business and SALES residents' vouchers, each with a fresh QR token."""
    shop = LiveShop.open(http, clock, quantity=SALES)
    with ThreadPoolExecutor(PARALLEL) as pool:
        held = list(pool.map(lambda _: shop.claim(), range(SALES)))
    return shop, {voucher["id"]: shop.qr(resident, voucher) for resident, voucher in held}


def sales_rush(client: RetryingClient, shop: LiveShop, qrs: dict[str, str], done: list[int]) -> list[tuple]:
    lock = threading.Lock()

    def redeem(item):
        voucher_id, qr = item
        status, body = client.post("/api/v1/redemptions", {"token": qr, "bill_cents": 8_800}, shop.cashier)
        with lock:
            done[0] += 1
        return voucher_id, status, body

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(redeem, qrs.items()))


def assert_sales_hold(qrs: dict[str, str], results: list[tuple]) -> None:
    """Every sale answered 201 (a retry gets the first answer), each voucher redeemed and paid once, every
    answer naming a kept sale, and the books balanced."""
    assert [status for _v, status, _b in results] == [201] * len(qrs), results
    assert {body["voucher_id"] for _v, _s, body in results} == set(qrs)
    db.session.rollback()  # a fresh snapshot: the server wrote since our last read
    per_voucher = dict(db.session.execute(
        select(Redemption.voucher_id, func.count()).where(Redemption.voucher_id.in_(qrs))
        .group_by(Redemption.voucher_id)).all())
    assert per_voucher == dict.fromkeys(qrs, 1)
    assert {body["id"] for _v, _s, body in results} == set(db.session.scalars(
        select(Redemption.id).where(Redemption.voucher_id.in_(qrs))))
    payable = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.voucher_id.in_(qrs), LedgerEntry.to_account == Account.payable))
    assert payable == len(qrs)
    assert check_ledger()[1] == []


@pytest.mark.parametrize("killed", ["workers", "tier"])
def test_the_workers_or_the_tier_killed_during_sales_redeem_each_voucher_once(
        drill_server, _schema, keys_dir, clock, killed, capsys):
    server = drill_server[0]
    shop, qrs = sold_vouchers(Http(server.url), clock)
    victims = wait_for_workers(server, 2)  # both: a cashier's sale is under way in one of them
    figures, done = Figures(), [0]

    def kill():
        if killed == "tier":
            return kill_the_tier(drill_server, _schema, keys_dir, figures)
        for victim in victims:
            os.kill(victim, signal.SIGKILL)
        figures.mark_break()

    killer = break_when(done, 10, kill)
    results = sales_rush(RetryingClient(server.url, figures), shop, qrs, done)
    killer.join(timeout=60)
    report(capsys, figures, "SIGKILL of every web worker (gunicorn starts new ones) during sales" if killed == "workers"
           else "SIGKILL of the whole web tier (master and workers) during sales, restart")
    assert figures.network_errors > 0
    if killed == "workers":
        assert not set(victims) & set(wait_for_workers(server, 2))
    else:
        assert len(drill_server) == 2
    assert_sales_hold(qrs, results)
