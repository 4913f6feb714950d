"""Fault drill (issue #21): the client gives up waiting, then retries with the same Idempotency-Key —
once when its first attempt did commit behind its back, once when it did not.

The first attempt is held up on purpose: the test holds the lock the request needs (SQLite's write
lock; on PostgreSQL the campaign's or the voucher's row ``FOR UPDATE``) until the client's one-second
timeout has passed. Then either the lock is released, so the first attempt commits with nobody
listening, or the attempt is killed first (its gunicorn worker on SQLite, its database backend on
PostgreSQL), so nothing commits. In both cases the retry must leave exactly one effect, and answer
with it.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import time
import urllib.error
import urllib.request
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text

from tests.builders import next_phone
from tests.conftest import LiveServer
from tests.drills.test_web_tier import wait_for_workers, workers_of
from tests.http_client import Http
from tests.redemptions.live_shop import LiveShop
from tests.vouchers.test_claim_concurrency import open_campaign
from voucher_app.core.extensions import db
from voucher_app.redemptions.models import Redemption
from voucher_app.settlement.reconciliation import check_ledger
from voucher_app.vouchers.models import Voucher

pytestmark = [pytest.mark.drills, pytest.mark.server]

CLIENT_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def _timeouts_server(_schema, keys_dir):
    server = LiveServer(_schema, keys_dir, workers=2, threads=2)
    yield server
    server.stop()


@pytest.fixture
def drill_server(app, city, _timeouts_server) -> LiveServer:
    return _timeouts_server


@contextlib.contextmanager
def holding(database_url: str, table: str, row_id: str):
    """Hold what a write to ``table``'s row ``row_id`` needs, until the block ends."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")  # SQLite has one writer: every write waits for us
        try:
            yield
        finally:
            connection.execute("COMMIT")
            connection.close()
        return
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            with connection.begin():
                connection.execute(text(f"SELECT 1 FROM {table} WHERE id = :id FOR UPDATE"), {"id": row_id})
                yield
    finally:
        engine.dispose()


def post_once(url: str, path: str, body: dict, token: str, key: str) -> tuple[int | None, dict | None]:
    """One POST with the client's short timeout: (None, None) when the client gave up."""
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}", "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")
    except (TimeoutError, urllib.error.URLError):
        return None, None


def kill_the_attempt(server: LiveServer, database_url: str) -> None:
    """End the held-up attempt without letting it commit."""
    if database_url.startswith("sqlite"):
        for pid in workers_of(server):  # the attempt lives in one of them, polling for the write lock
            os.kill(pid, signal.SIGKILL)
        wait_for_workers(server, 2)
        return
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                ended = connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )).scalars().all()
                if ended:
                    return
                time.sleep(0.05)
            raise AssertionError("the held-up attempt never waited for the lock")
    finally:
        engine.dispose()


def wait_until(predicate, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the first attempt never finished"
        time.sleep(0.05)


def vouchers_of(campaign_id: str) -> list[Voucher]:
    db.session.rollback()  # a new snapshot: the server wrote since our last read
    return list(db.session.scalars(select(Voucher).where(Voucher.campaign_id == campaign_id,
                                                         Voucher.resident_id.is_not(None))))


def redemptions_of(voucher_id: str) -> list[Redemption]:
    db.session.rollback()  # a new snapshot: the server wrote since our last read
    return list(db.session.scalars(select(Redemption).where(Redemption.voucher_id == voucher_id)))


@pytest.mark.parametrize("first_attempt", ["commits", "dies"])
def test_a_claim_retried_after_a_client_timeout_claims_once(drill_server, _schema, first_attempt, capsys):
    http = Http(drill_server.url)
    campaign = open_campaign(http, 5)
    token = http.resident_token(next_phone())
    path, key = f"/api/v1/campaigns/{campaign['id']}/claims", uuid.uuid4().hex
    body = {"tier_id": campaign["tiers"][0]["id"]}
    started = time.monotonic()
    with holding(_schema, "campaigns", campaign["id"]):
        assert post_once(drill_server.url, path, body, token, key) == (None, None)  # the client gave up
        if first_attempt == "dies":
            kill_the_attempt(drill_server, _schema)
    if first_attempt == "commits":
        wait_until(lambda: len(vouchers_of(campaign["id"])) == 1)  # it committed with nobody listening
    else:
        time.sleep(0.5)
        assert vouchers_of(campaign["id"]) == []  # nothing happened
    status, answer, _ = http.post(path, body, token=token, headers={"Idempotency-Key": key})
    recovered = time.monotonic() - started
    with capsys.disabled():
        print(f"\n[drill] claim, client timeout after {CLIENT_TIMEOUT} s, first attempt {first_attempt}: "
              f"retry answered {status} {recovered:.2f} s after the first try")
    assert status == 201, answer
    vouchers = vouchers_of(campaign["id"])
    assert [v.id for v in vouchers] == [answer["id"]]  # one voucher, and the answer names it
    status, again, _ = http.post(path, body, token=token, headers={"Idempotency-Key": key})
    assert (status, again["id"]) == (201, answer["id"])
    assert check_ledger()[1] == []


@pytest.mark.parametrize("first_attempt", ["commits", "dies"])
def test_a_sale_retried_after_a_client_timeout_is_made_once(drill_server, _schema, clock, first_attempt, capsys):
    http = Http(drill_server.url)
    shop = LiveShop.open(http, clock, quantity=2)
    resident, voucher = shop.claim()
    qr = shop.qr(resident, voucher)
    body, key = {"token": qr, "bill_cents": 8_800}, uuid.uuid4().hex
    started = time.monotonic()
    with holding(_schema, "vouchers", voucher["id"]):
        assert post_once(drill_server.url, "/api/v1/redemptions", body, shop.cashier, key) == (None, None)
        if first_attempt == "dies":
            kill_the_attempt(drill_server, _schema)
    if first_attempt == "commits":
        wait_until(lambda: len(redemptions_of(voucher["id"])) == 1)
    else:
        time.sleep(0.5)
        assert redemptions_of(voucher["id"]) == []
    status, answer, _ = http.post("/api/v1/redemptions", body, token=shop.cashier, headers={"Idempotency-Key": key})
    recovered = time.monotonic() - started
    with capsys.disabled():
        print(f"\n[drill] sale, client timeout after {CLIENT_TIMEOUT} s, first attempt {first_attempt}: "
              f"retry answered {status} {recovered:.2f} s after the first try")
    assert status == 201, answer
    assert [r.id for r in redemptions_of(voucher["id"])] == [answer["id"]]  # one sale, and the answer names it
    assert db.session.scalar(select(func.count()).select_from(Redemption)
                             .where(Redemption.voucher_id == voucher["id"])) == 1
    assert check_ledger()[1] == []
