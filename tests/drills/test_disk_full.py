"""Fault drill (issue #21): the disk under an embedded SQLite fills up in the middle of a claim rush.

The database lives on a small tmpfs, and a filler file takes all but a sliver of it, so the WAL runs
out of room while residents claim. Every refusal is a clear ``busy`` (503) — never a 500 — nothing
answered 201 is missing, no voucher is claimed without its ledger entry (or the reverse), and once
space is freed the WAL checkpoints and the same server sells again. PostgreSQL's disk is its own
server's business (its crash drills are in test_database_crash.py): there the drill does not apply.
"""
from __future__ import annotations

import sqlite3
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import flask_migrate
import pytest

from campaigns.service import city_data_file, load_city_data
from tests.conftest import LiveServer
from tests.drills.retrying import Figures
from tests.drills.test_web_tier import PARALLEL, report
from tests.http_client import Http
from tests.vouchers.test_claim_concurrency import open_campaign, residents
from voucher_app.app import create_app
from voucher_app.core.extensions import db

pytestmark = [pytest.mark.drills, pytest.mark.server]

DISK = "16m"
LEFT_FREE = 48 * 1024  # bytes the filler leaves: a few dozen claims' worth of WAL


@pytest.fixture
def small_disk(tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL's disk belongs to its server")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"the drill mounts a small tmpfs (needs root): {done.stderr}"
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(mount: Path, leave: int) -> Path:
    """Take all of the file system but ``leave`` bytes."""
    import os

    stats = os.statvfs(mount)
    free = stats.f_bavail * stats.f_frsize
    filler = mount / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


def claim(http: Http, campaign: dict, token: str, figures: Figures) -> tuple[int, dict]:
    figures.sent(False)
    status, body, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/claims", {"tier_id": campaign["tiers"][0]["id"]},
                                token=token, headers={"Idempotency-Key": uuid.uuid4().hex})
    figures.answered(status, 0)
    return status, body


def test_a_full_disk_refuses_claims_clearly_and_loses_nothing(small_disk, keys_dir, capsys):
    url = f"sqlite:///{small_disk / 'city.db'}"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        load_city_data(city_data_file())
        db.engine.dispose()
    server = LiveServer(url, keys_dir, workers=2, threads=4)
    try:
        http = Http(server.url)
        with app.app_context():
            campaign = open_campaign(http, 600, limit_per_resident=10, limit_per_round=10)
        tokens = residents(http, 60)  # ten claims each: nobody reaches a limit before the rush ends
        filler = fill(small_disk, LEFT_FREE)
        figures = Figures()
        with ThreadPoolExecutor(PARALLEL) as pool:
            results = list(pool.map(lambda i: claim(http, campaign, tokens[i % len(tokens)], figures), range(600)))
        report(capsys, figures, "SQLite's disk full during a claim rush")
        statuses = [status for status, _ in results]
        assert 503 in statuses, "the disk never filled: the drill did not happen"
        assert set(statuses) <= {201, 503}, statuses  # a clear busy, never a 500
        assert all(body["code"] == "busy" for status, body in results if status == 503)
        answered = {body["id"] for status, body in results if status == 201}

        filler.unlink()  # room again
        check = sqlite3.connect(small_disk / "city.db")
        busy, _log, _checkpointed = check.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0  # the WAL checkpoints after the disk was full
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        claimed = {row[0] for row in check.execute(
            "SELECT id FROM vouchers WHERE campaign_id = ? AND resident_id IS NOT NULL", (campaign["id"],))}
        reserved = check.execute(
            "SELECT COUNT(*) FROM ledger_entries WHERE campaign_id = ? AND from_account = 'available' "
            "AND to_account = 'reserved'", (campaign["id"],)).fetchone()[0]
        check.close()
        assert claimed == answered  # every 201 kept, nothing claimed without its answer
        assert reserved == len(claimed)  # each claimed voucher has its ledger entry, and only those

        status, _body = claim(http, campaign, tokens[0], figures)  # the same server sells again
        assert status == 201
        with app.app_context():
            from voucher_app.settlement.reconciliation import check_ledger

            assert check_ledger()[1] == []
            db.engine.dispose()
    finally:
        server.stop()
