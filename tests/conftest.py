"""Fixtures: the app on a real database, a movable clock, the real server, and a real browser.

The suite runs on SQLite by default and on PostgreSQL when ``TEST_DATABASE_URL`` names one
(``make test`` does both). The schema is made once per run by the migrations, as in production;
every test starts from empty tables.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.append_only import rewritable
from tests.log_scan import LogScan
from voucher_app.app import create_app
from voucher_app.core.clock import MovableClock
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import release
from voucher_app.vouchers.claiming import memo

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LOG_SCAN = LogScan()


def pytest_collection_modifyitems(session, config, items):
    """The fault drills run last: one crashes the database server, which cuts the connections that the
    run's shared servers keep, and a test after it would meet that instead of what it tests."""
    items.sort(key=lambda item: item.get_closest_marker("drills") is not None)  # stable: order kept otherwise


# No personal data in any log of the run ---------------------------------------------------------------

def pytest_sessionstart(session):
    """Keep every log line of the run and every real server's output (``tests/log_scan.py``)."""
    LOG_SCAN.start()


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if any of them holds a mobile number or a bearer token; show those lines masked."""
    LOG_SCAN.stop()
    leaks = LOG_SCAN.leaks()
    if not leaks:
        return
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter else (lambda line: print(line, file=sys.stderr))
    if reporter:
        reporter.ensure_newline()
        reporter.write_sep("=", "personal data in the logs", red=True)
    write(f"{len(leaks)} log line(s) hold a mobile number or a bearer token (shown masked here); the run fails:")
    for source, line in leaks[:50]:
        write(f"  [{source}] {line}")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def _schema(database_url):
    """Build the schema with the migrations, once per run, on an empty database."""
    import flask_migrate

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        flask_migrate.upgrade()
        db.engine.dispose()
    return database_url


def _empty_tables() -> None:
    """Empty every table; the audit trail and the ledger refuse it (migration 0008), so their triggers
    are lifted for this one transaction (``tests/append_only.py``)."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn, rewritable(conn):
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def app_overrides() -> dict:
    """Settings a test module wants on top of the testing configuration (override the fixture)."""
    return {}


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory) -> Path:
    """Where this run keeps the keys that sign QR tokens (shared by the app and the real server)."""
    return tmp_path_factory.mktemp("keys")


@pytest.fixture
def app_settings(_schema, keys_dir, app_overrides) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": _schema, "SIGNING_KEYS_DIR": str(keys_dir), **app_overrides}


@pytest.fixture
def app(app_settings):
    app = create_app("testing", app_settings)
    app.extensions["voucher.clock"] = MovableClock(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc))
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        release(db.engine)
        db.engine.dispose()


@pytest.fixture
def clock(app) -> MovableClock:
    return app.extensions["voucher.clock"]


@pytest.fixture
def client(app, app_settings):
    """A client of a twin app on the same database and clock.

    The ``app`` fixture keeps an app context pushed (so tests can call services directly), and
    requests of its own client would all share that context's ``g``, where Flask-Babel and
    Flask-Login cache the locale and the signed-in user. The twin's requests each get a fresh
    context, as behind a real server, so only cookies and headers carry state between requests.
    """
    twin = create_app("testing", app_settings)
    twin.extensions["voucher.clock"] = app.extensions["voucher.clock"]
    yield twin.test_client()
    with twin.app_context():
        db.session.remove()
        release(db.engine)
        db.engine.dispose()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def city(app):
    """The city's plan (shipped data file) loaded."""
    from campaigns.service import city_data_file, load_city_data

    load_city_data(city_data_file())


# The real server -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``voucher serve`` in a subprocess, on a free loopback port."""

    def __init__(self, database_url: str, keys_dir: Path, workers: int = 2, threads: int = 1,
                 env: dict | None = None, port: int | None = None):
        self.port = port or free_port()  # a port: a drill restarts the server where its clients call
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix=f"voucher-serve-{self.port}-", suffix=".log")
        environment = {**os.environ, "VOUCHER_ENV": "testing", "DATABASE_URL": database_url,
                       "VOUCHER_SIGNING_KEYS_DIR": str(keys_dir), **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "voucher_app", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers), "--threads", str(threads)],
            env=environment, stdout=self.log, stderr=subprocess.STDOUT, text=True)
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("voucher serve exited:\n" + self.output())
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("voucher serve did not answer within %ss" % timeout)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        output = self.output()
        self.log.close()
        LOG_SCAN.add_output(f"voucher serve on port {self.port}", output)
        return output


@pytest.fixture(scope="session")
def live_server(_schema, keys_dir):
    """One real server for the run (two gunicorn workers, testing configuration)."""
    server = LiveServer(_schema, keys_dir)
    yield server
    server.stop()


@pytest.fixture
def server(app, city, live_server) -> LiveServer:
    """The real server, with the city's plan loaded; the tables are emptied after the test."""
    return live_server


@pytest.fixture(autouse=True)
def _fresh_memo():
    """Each test starts with no campaign snapshot or sold-out tier remembered from the one before."""
    memo.forget()
    yield
    memo.forget()


# The real browser ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


@pytest.fixture
def phone_page(browser, server):
    """A page on a phone-sized viewport, pointed at the live server."""
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", base_url=server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def desk_page(browser, server):
    """A page on a desktop-sized viewport: the bureau works on a PC."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", base_url=server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
