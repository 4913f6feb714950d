"""The ``voucher`` command: making the schema, the demo, bureau accounts and the city's data."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

from sqlalchemy import func, select

from campaigns.models import District, Measure
from tests.conftest import ROOT
from voucher_app.accounts.models import User
from voucher_app.app import create_app
from voucher_app.core.extensions import db

PASSWORD = "Boss-Password-2026"


def voucher(*args: str, database_url: str) -> subprocess.CompletedProcess:
    """Run ``voucher ARGS`` as an operator would, in development, against ``database_url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_")}
    env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "voucher_app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def usernames() -> list[str]:
    return sorted(db.session.scalars(select(User.username)))


# A new installation, through the real command --------------------------------------------------------

def test_upgrade_then_demo_sets_up_a_new_sqlite_database(tmp_path):
    path = tmp_path / "new-city.db"
    url = f"sqlite:///{path}"

    upgrade = voucher("db", "upgrade", database_url=url)
    assert upgrade.returncode == 0, upgrade.stderr
    with sqlite3.connect(path) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(db.metadata.tables) | {"alembic_version"} <= tables

    first = voucher("demo", database_url=url)
    assert first.returncode == 0, first.stderr
    assert "/staff/login" in first.stdout and "admin" in first.stdout and "/dev/outbox" in first.stdout
    counts_after_first = _row_counts(path)
    # admin, viewer and a community worker, an owner and a cashier for each demo shop, and the demo residents
    from merchants.demo import DEMO_MERCHANTS
    from voucher_app.redemptions.demo import DEMO_RESIDENTS

    assert counts_after_first["measures"] == 22
    assert counts_after_first["users"] == 3 + 2 * len(DEMO_MERCHANTS) + DEMO_RESIDENTS
    assert counts_after_first["merchants"] == len(DEMO_MERCHANTS)
    assert counts_after_first["campaigns"] == 5 and counts_after_first["enrolments"] > 0  # four and the lottery
    assert counts_after_first["entries"] > 0  # demo residents entered the lottery's first round
    assert counts_after_first["vouchers"] > 0  # minted when the demo campaigns were published
    assert counts_after_first["redemptions"] > 0 and counts_after_first["redemption_attempts"] > 0

    second = voucher("demo", database_url=url)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert _row_counts(path) == counts_after_first


def _row_counts(path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                for table in ("users", "districts", "actions", "measures", "plan_targets", "city_settings",
                              "merchants", "campaigns", "enrolments", "vouchers", "ledger_entries", "audit_records",
                              "redemptions", "redemption_attempts", "entries")}


# Bureau accounts ---------------------------------------------------------------------------------------

def test_create_admin_makes_an_account_that_signs_in_as_admin(runner, client):
    result = runner.invoke(args=["create-admin", "boss", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert "boss" in result.output
    response = client.post("/api/v1/auth/token", json={"username": "boss", "password": PASSWORD})
    assert response.status_code == 200 and response.get_json()["role"] == "admin"


def test_create_staff_makes_a_read_only_viewer(runner, client):
    result = runner.invoke(args=["create-staff", "auditor", "--role", "viewer", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    response = client.post("/api/v1/auth/token", json={"username": "auditor", "password": PASSWORD})
    assert response.get_json()["role"] == "viewer"


def test_create_admin_with_a_short_password_fails_and_creates_nothing(runner):
    result = runner.invoke(args=["create-admin", "boss", "--password", "short"])
    assert result.exit_code != 0
    assert "password" in result.output and "8" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert usernames() == []


def test_create_admin_with_a_taken_username_fails_clearly(runner):
    assert runner.invoke(args=["create-admin", "boss", "--password", PASSWORD]).exit_code == 0
    result = runner.invoke(args=["create-admin", "boss", "--password", "Another-Password-1"])
    assert result.exit_code != 0
    assert "boss" in result.output and "Traceback" not in result.output
    assert usernames() == ["boss"]


# The city's data -----------------------------------------------------------------------------------------

def test_city_load_loads_the_plan_and_is_idempotent(runner):
    first = runner.invoke(args=["city", "load"])
    assert first.exit_code == 0, first.output
    assert "22 measures" in first.output and "8 districts" in first.output
    assert (count(Measure), count(District)) == (22, 8)

    second = runner.invoke(args=["city", "load"])
    assert second.exit_code == 0 and second.output == first.output
    assert (count(Measure), count(District)) == (22, 8)


def test_city_load_of_a_malformed_file_says_so_without_a_traceback(runner, tmp_path):
    bad = tmp_path / "broken-city.json"
    bad.write_text(json.dumps({"districts": [], "actions": []}), encoding="utf-8")
    result = runner.invoke(args=["city", "load", str(bad)])
    assert result.exit_code != 0
    assert "broken-city.json" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert count(Measure) == 0


# Production ------------------------------------------------------------------------------------------------

def test_demo_refuses_in_production(app, _schema):
    production = create_app("production", {
        "SQLALCHEMY_DATABASE_URI": _schema, "SECRET_KEY": "production-secret-" + "x" * 32, "ID_NUMBER_KEY": "id-number-key-" + "y" * 32,
        "SMS_SENDER": "http", "SMS_GATEWAY_URL": "http://127.0.0.1:9/sms", "DEBUG": False,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"})
    with production.app_context():  # the testing app's context is pushed by the fixture
        result = production.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0 and "production" in result.output
    assert usernames() == [] and count(Measure) == 0
