"""``voucher doctor`` names every database setting that can lose acknowledged work (issue #21, item 2).

The durability rules are checked on the settings alone (both databases' rules, every value), and the
command itself runs as an operator would: against a new SQLite file, and against the suite's database —
on PostgreSQL the test cluster runs with ``fsync`` and ``synchronous_commit`` off, which must be named.
"""
from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import create_engine

from tests.conftest import ROOT
from voucher_app.core.durability import postgresql_findings, sqlite_findings
from voucher_app.core.extensions import db


def doctor(database_url: str, tmp_path, **settings: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_")}
    env.update(DATABASE_URL=database_url, VOUCHER_SIGNING_KEYS_DIR=str(tmp_path / "keys"), **settings)
    return subprocess.run([sys.executable, "-m", "voucher_app", "doctor"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def voucher(database_url: str, tmp_path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_")}
    env.update(DATABASE_URL=database_url, VOUCHER_SIGNING_KEYS_DIR=str(tmp_path / "keys"))
    subprocess.run([sys.executable, "-m", "voucher_app", *args], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)


def test_durable_postgresql_settings_give_no_finding():
    assert postgresql_findings({"fsync": "on", "full_page_writes": "on", "synchronous_commit": "on"}) == []
    assert postgresql_findings({"fsync": "on", "full_page_writes": "on", "synchronous_commit": "local"}) == []


def test_each_unsafe_postgresql_setting_is_named_with_its_fix():
    findings = postgresql_findings({"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"})
    assert [f.setting for f in findings] == ["fsync", "full_page_writes", "synchronous_commit"]
    assert all(f.fix for f in findings)
    assert "answered" in str(findings[2])


def test_sqlite_needs_wal_and_full_sync_to_keep_commits_through_a_power_cut():
    assert sqlite_findings({"journal_mode": "wal", "synchronous": "2"}) == []
    assert sqlite_findings({"journal_mode": "wal", "synchronous": "3"}) == []
    normal = sqlite_findings({"journal_mode": "wal", "synchronous": "1"})
    assert [(f.setting, f.value) for f in normal] == [("synchronous", "NORMAL")]
    assert "VOUCHER_SQLITE_SYNCHRONOUS=FULL" in normal[0].fix
    assert [f.setting for f in sqlite_findings({"journal_mode": "delete", "synchronous": "0"})] == [
        "journal_mode", "synchronous"]


def test_doctor_on_a_new_sqlite_file_says_what_to_run_and_exits_1(tmp_path):
    url = f"sqlite:///{tmp_path / 'city.db'}"
    result = doctor(url, tmp_path)
    assert result.returncode == 1
    assert "run `voucher db upgrade`" in result.stdout
    assert "synchronous = NORMAL" in result.stdout
    assert "run `voucher keys rotate`" in result.stdout


def test_doctor_is_clean_on_a_ready_sqlite_install_with_full_sync(tmp_path):
    url = f"sqlite:///{tmp_path / 'city.db'}"
    voucher(url, tmp_path, "db", "upgrade")
    voucher(url, tmp_path, "keys", "rotate")
    result = doctor(url, tmp_path, VOUCHER_SQLITE_SYNCHRONOUS="full")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARN" not in result.stdout
    assert "ok    schema at the newest migration" in result.stdout
    assert "keep every acknowledged commit" in result.stdout


def test_the_app_applies_the_configured_sqlite_sync_level(tmp_path):
    from voucher_app.app import create_app

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                                 "SQLITE_SYNCHRONOUS": "FULL"})
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        db.engine.dispose()


def test_doctor_names_exactly_the_unsafe_settings_of_the_suites_database(database_url, tmp_path):
    """On PostgreSQL the suite's cluster (scripts/test-postgres.sh) runs with fsync and synchronous_commit
    off — settings that lose answered claims — and the doctor must name each one that is off; on SQLite
    the suite's file runs with the default NORMAL."""
    result = doctor(database_url, tmp_path)
    assert result.returncode == 1
    if not database_url.startswith("postgresql"):
        assert "synchronous = NORMAL" in result.stdout
        return
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        off = set(connection.exec_driver_sql(
            "SELECT name FROM pg_settings WHERE setting = 'off' "
            "AND name IN ('fsync', 'full_page_writes', 'synchronous_commit')").scalars())
    engine.dispose()
    for name in ("fsync", "full_page_writes", "synchronous_commit"):
        assert (f"{name} = off" in result.stdout) == (name in off), result.stdout
