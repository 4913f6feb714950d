"""Fault drill (issue #21): PostgreSQL crashes (``pg_ctl restart -m immediate``: no shutdown checkpoint,
every connection cut) in the middle of a claim rush and of a run of sales, while clients retry like
the wallet and the till.

The server's connections ask for ``synchronous_commit = on``, the setting the guarantees need (README,
"Durability settings"): the suite's cluster runs with it off for speed, and with it off the same crash
lost claims the server had already answered. SQLite has no server to crash: there the drill does not
apply (its own failures — a worker killed, the disk full — have their drills).
"""
from __future__ import annotations

import glob
import os
import shlex
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.conftest import LiveServer
from tests.drills.retrying import Figures, RetryingClient
from tests.drills.test_web_tier import (
    RESIDENTS,
    Q,
    assert_claims_hold,
    assert_sales_hold,
    break_when,
    claim_rush,
    report,
    sales_rush,
    sold_vouchers,
)
from tests.http_client import Http
from tests.vouchers.test_claim_concurrency import open_campaign, residents
from voucher_app.core.extensions import db

pytestmark = [pytest.mark.drills, pytest.mark.server]

DURABLE = "options=-c%20synchronous_commit%3Don"


@pytest.fixture
def crash_server(app, city, database_url, keys_dir):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: an embedded SQLite has no database server to crash")
    durable = database_url + ("&" if "?" in database_url else "?") + DURABLE
    server = LiveServer(durable, keys_dir, workers=2, threads=4)
    yield server
    server.stop()


def pg_ctl(database_url: str, *args: str) -> None:
    """Run pg_ctl on the suite's database server (as the postgres user when we are root)."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        data_dir = connection.exec_driver_sql("SHOW data_directory").scalar()
    engine.dispose()
    PG_DATA[database_url] = data_dir
    run_pg_ctl(data_dir, *args)


PG_DATA: dict[str, str] = {}


def run_pg_ctl(data_dir: str, *args: str, check: bool = True) -> int:
    binary = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    command = [binary, "-D", data_dir, "-l", os.path.join(data_dir, "server.log"), "-w", "-t", "60", *args]
    if os.getuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0 or not check, f"pg_ctl {' '.join(args)} failed: {result.stderr}"
    return result.returncode


def crash_then_start(database_url: str, figures: Figures, down_for: float = 0.0) -> None:
    """Crash the database server (no checkpoint, every connection cut, as a power cut would), keep it
    down ``down_for`` seconds, and start it again with the options it ran with."""
    pg_ctl(database_url, "-m", "immediate", "stop")
    figures.mark_break()
    time.sleep(down_for)
    start(PG_DATA[database_url])


def start(data_dir: str) -> None:
    """Start the server with the options it last ran with (``postmaster.opts``: port, socket, settings)."""
    options = shlex.split(Path(data_dir, "postmaster.opts").read_text())[1:]
    options = options[2:] if options[:1] == ["-D"] else options
    run_pg_ctl(data_dir, "-o", " ".join(shlex.quote(option) for option in options), "start")


@pytest.fixture(autouse=True)
def _database_back_up(database_url):
    """Whatever happens in a drill, the database is running for the tests after it."""
    yield
    data_dir = PG_DATA.get(database_url)
    if data_dir and run_pg_ctl(data_dir, "status", check=False) != 0:
        start(data_dir)


def test_postgresql_crashing_during_a_claim_rush_loses_no_answered_claim(crash_server, database_url, capsys):
    http = Http(crash_server.url)
    campaign = open_campaign(http, Q)
    tokens = residents(http, RESIDENTS)
    figures, done = Figures(), [0]

    breaker = break_when(done, RESIDENTS // 4, lambda: crash_then_start(database_url, figures))
    results = claim_rush(RetryingClient(crash_server.url, figures), campaign, tokens, done)
    breaker.join(timeout=90)
    report(capsys, figures, "PostgreSQL crash-restart during a claim rush")
    assert figures.retries > 0 and 500 not in figures.answers  # the crash met claims under way: busy, never a 500
    db.session.rollback()
    assert_claims_hold(http, campaign, results)


def test_the_database_unreachable_for_ten_seconds_is_answered_busy_at_once_and_recovers(
        crash_server, database_url, capsys):
    """While the database is down nothing hangs: each attempt is answered 503 ``busy`` with Retry-After
    within a moment, and once it is back the pools reconnect by themselves and the rush completes."""
    http = Http(crash_server.url)
    campaign = open_campaign(http, Q)
    tokens = residents(http, RESIDENTS)
    figures, done = Figures(), [0]
    breaker = break_when(done, RESIDENTS // 4, lambda: crash_then_start(database_url, figures, down_for=10))
    results = claim_rush(RetryingClient(crash_server.url, figures, deadline=120), campaign, tokens, done)
    breaker.join(timeout=90)
    report(capsys, figures, "PostgreSQL unreachable for 10 s during a claim rush")
    assert figures.answers[503] > 0 and 500 not in figures.answers
    assert figures.slowest < 3, "an attempt waited for the database instead of being answered busy"
    assert figures.recovery_seconds() < 10 + 5  # back within seconds of the database
    db.session.rollback()
    assert_claims_hold(http, campaign, results)


def test_postgresql_crashing_during_sales_makes_each_sale_once(crash_server, database_url, clock, capsys):
    shop, qrs = sold_vouchers(Http(crash_server.url), clock)
    figures, done = Figures(), [0]
    breaker = break_when(done, 10, lambda: crash_then_start(database_url, figures))
    results = sales_rush(RetryingClient(crash_server.url, figures), shop, qrs, done)
    breaker.join(timeout=90)
    report(capsys, figures, "PostgreSQL crash-restart during sales")
    assert figures.retries > 0 and 500 not in figures.answers  # the crash met sales under way: busy, then done
    assert_sales_hold(qrs, results)
