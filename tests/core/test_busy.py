"""A database that cannot serve right now is answered ``busy`` (503, Retry-After) at once — never a 500,
never a hang (issue #21): the wallet and the till resend after Retry-After with the same key.

Both cases build their own app, so they run the same whatever database the suite uses: a PostgreSQL
that refuses connections (nothing listens on the port), and a SQLite file whose write lock another
process holds past the busy timeout. The fault drills (tests/drills/) do the same over real HTTP
during a rush.
"""
from __future__ import annotations

import sqlite3
import time

import flask_migrate

from tests.conftest import free_port
from voucher_app.app import create_app
from voucher_app.core.extensions import db


def test_an_unreachable_postgresql_is_answered_busy_at_once_in_both_languages():
    url = f"postgresql://voucher@127.0.0.1:{free_port()}/gone"  # nothing listens there
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    started = time.monotonic()
    response = client.get("/api/v1/campaigns")
    assert time.monotonic() - started < 5
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert response.json["code"] == "busy" and response.json["title"] == "系统正忙，请稍候再试。"
    english = client.get("/api/v1/campaigns", headers={"Accept-Language": "en"})
    assert english.json["title"] == "The service is very busy right now. Please try again in a moment."
    page = client.get("/campaigns")
    assert page.status_code == 503 and page.headers["Retry-After"] == "2"
    assert "系统正忙" in page.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_a_sqlite_write_lock_held_past_the_busy_timeout_is_answered_busy(tmp_path):
    path = tmp_path / "city.db"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SQLITE_BUSY_TIMEOUT_MS": 300})
    with app.app_context():
        flask_migrate.upgrade()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing, for longer than the busy timeout
    try:
        client = app.test_client()
        response = client.post("/api/v1/auth/otp", json={"phone": "13912345678"})
        assert response.status_code == 503 and response.json["code"] == "busy", response.json
        assert response.headers["Retry-After"] == "2"
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert client.post("/api/v1/auth/otp", json={"phone": "13912345678"}).status_code == 202  # and then it works
    with app.app_context():
        db.engine.dispose()


def test_a_missing_table_is_a_fault_not_load(tmp_path):
    """Only the database being unavailable is ``busy``: a schema that was never made stays a 500."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}"})
    response = app.test_client().get("/api/v1/campaigns")
    assert response.status_code == 500 and response.json["code"] == "internal_error"
    with app.app_context():
        db.engine.dispose()
