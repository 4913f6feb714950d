"""The composition root: ``create_app`` builds the app, and only this module wires the domains in —
their blueprints, CLI groups and scheduled jobs.

``create_app`` is the table of contents: each ``configure_*`` step wires one concern. It neither
touches the database nor starts background work (the scheduler runs in its own process).
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask
from flask.logging import default_handler
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

import campaigns.jobs
import campaigns.pages
import campaigns.views
import config as settings
import merchants.pages
import merchants.views
import voucher_app.accounts.pages
import voucher_app.accounts.views
import voucher_app.community.pages
import voucher_app.community.views
import voucher_app.complaints.jobs
import voucher_app.complaints.pages
import voucher_app.complaints.views
import voucher_app.disclosure.jobs
import voucher_app.disclosure.pages
import voucher_app.disclosure.views
import voucher_app.fraud.jobs
import voucher_app.fraud.pages
import voucher_app.fraud.views
import voucher_app.lottery.jobs
import voucher_app.lottery.pages
import voucher_app.lottery.views
import voucher_app.redemptions.jobs
import voucher_app.redemptions.pages
import voucher_app.redemptions.views
import voucher_app.reports.jobs
import voucher_app.reports.pages
import voucher_app.reports.views
import voucher_app.scheduler.jobs
import voucher_app.settlement.jobs
import voucher_app.settlement.pages
import voucher_app.settlement.views
import voucher_app.vouchers.jobs
import voucher_app.vouchers.pages
import voucher_app.vouchers.views
from campaigns.cli import city_cli
from voucher_app import models  # noqa: F401  (every table known before the first query or migration)
from voucher_app import pages as site_pages
from voucher_app.accounts.cli import create_admin, create_staff_command, totp_cli
from voucher_app.accounts.retention import purge_sign_in_records, sign_in_retention
from voucher_app.accounts.service import web_user
from voucher_app.accounts.sms import configure_sms
from voucher_app.core.clock import Clock, now
from voucher_app.core.database import configure_sqlite
from voucher_app.core.errors import ConfigurationError, keep_busy_retry_after, register_error_handlers
from voucher_app.core.extensions import babel, csrf, db, limiter, login_manager, migrate
from voucher_app.core.i18n import locale_selector
from voucher_app.core.logs import install_masking, mask_everywhere
from voucher_app.demo import demo_command
from voucher_app.doctor import doctor_command
from voucher_app.fraud.cli import fraud_cli
from voucher_app.lottery.cli import draw_cli
from voucher_app.scheduler.cli import jobs_cli, scheduler_command
from voucher_app.scheduler.schedule import JOBS_KEY, Daily, Job
from voucher_app.serving import serve_command
from voucher_app.settlement.cli import ledger_cli
from voucher_app.templating import configure_templates
from voucher_app.vouchers.cli import keys_cli

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# Each domain's JSON API (under /api/v1) and pages. The API authenticates by bearer token only, so it
# is exempt from CSRF (a forged cross-site request carries no bearer token).
API_BLUEPRINTS = (
    voucher_app.accounts.views.api, voucher_app.accounts.views.dev_api, campaigns.views.api,
    voucher_app.vouchers.views.api, merchants.views.api, voucher_app.redemptions.views.api,
    voucher_app.reports.views.api, voucher_app.settlement.views.api, voucher_app.lottery.views.api,
    voucher_app.community.views.api, voucher_app.fraud.views.api, voucher_app.complaints.views.api,
    voucher_app.disclosure.views.api,
)
PAGE_BLUEPRINTS = (
    site_pages.pages, voucher_app.accounts.pages.pages, voucher_app.accounts.pages.dev_pages,
    voucher_app.vouchers.pages.pages, voucher_app.redemptions.pages.pages, campaigns.pages.pages,
    merchants.pages.pages, voucher_app.settlement.pages.pages, voucher_app.reports.pages.pages,
    voucher_app.lottery.pages.pages, voucher_app.community.pages.pages, voucher_app.fraud.pages.pages,
    voucher_app.complaints.pages.pages, voucher_app.disclosure.pages.pages,
)
COMMANDS = (city_cli, keys_cli, jobs_cli, ledger_cli, draw_cli, fraud_cli, scheduler_command, create_admin, create_staff_command,
            totp_cli, demo_command, serve_command, doctor_command)


def accounts_jobs(config: Mapping) -> list[Job]:
    """The accounts' purge (``accounts/retention.py``). The accounts sit beside the scheduler in the
    layers and cannot name a job, so the root, which sees both, declares it for them."""
    return [Job("purge_sign_in_records", partial(purge_sign_in_records, **sign_in_retention(config)),
                Daily(dt.time.fromisoformat(config["SCHEDULE_PURGE_AT"])),
                "one-time codes, SMS outbox, ended sign-ins and idle runs of wrong passwords past their retention")]


# The order ``jobs run-due`` runs them in: state first, then money, then the figures, then the purges
# of what is past its retention (README, "Retention").
TIMETABLES = (campaigns.jobs.jobs, voucher_app.vouchers.jobs.jobs, voucher_app.lottery.jobs.jobs,
              voucher_app.fraud.jobs.jobs, voucher_app.complaints.jobs.jobs, voucher_app.disclosure.jobs.jobs,
              voucher_app.settlement.jobs.jobs,
              voucher_app.reports.jobs.jobs, accounts_jobs, voucher_app.redemptions.jobs.jobs,
              voucher_app.scheduler.jobs.jobs)


def create_app(env: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app for ``env`` (or ``VOUCHER_ENV``), then apply ``VOUCHER_*`` variables and ``overrides``."""
    app = Flask("voucher_app", instance_relative_config=True)  # the package: its templates, static files and logger
    app.json.ensure_ascii = False  # Chinese stays readable in JSON answers
    configure_settings(app, env, overrides or {})
    check_production_safety(app)
    configure_logging(app)
    configure_proxy(app)
    configure_database(app)
    configure_extensions(app)
    configure_locale(app)
    configure_auth(app)
    configure_services(app)
    configure_blueprints(app)
    configure_templates(app)
    register_error_handlers(app)
    configure_cli(app)
    configure_jobs(app)
    return app


def configure_settings(app: Flask, env: str | None, overrides: Mapping[str, Any]) -> None:
    app.config.from_object(settings.config_for(env))
    app.config.from_prefixed_env("VOUCHER")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config.update(overrides)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{Path(app.instance_path) / 'voucher.db'}"
    # One PostgreSQL driver for every spelling of the URL: psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            uri = "postgresql+psycopg://" + uri[len(prefix):]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["CITY_TIMEZONE"]


def check_production_safety(app: Flask) -> None:
    """Production refuses to start with a development secret, the SMS outbox, or debug on."""
    if app.config["ENV_NAME"] != "production":
        return
    key = str(app.config.get("SECRET_KEY") or "")
    if key in (settings.Config.SECRET_KEY, settings.TestingConfig.SECRET_KEY) or len(key) < 32:
        raise ConfigurationError("production needs a real secret: set VOUCHER_SECRET_KEY to 32+ random "
                                 "characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    id_key = str(app.config.get("ID_NUMBER_KEY") or "")
    if id_key == settings.Config.ID_NUMBER_KEY or len(id_key) < 32:
        raise ConfigurationError("production needs its own key for ID-number hashes: set VOUCHER_ID_NUMBER_KEY to "
                                 "32+ random characters once, and never change it (the hashes depend on it)")
    if app.config.get("SMS_SENDER") == "outbox":
        raise ConfigurationError("production cannot use the development SMS outbox: set VOUCHER_SMS_SENDER=http "
                                 "and VOUCHER_SMS_GATEWAY_URL")
    if app.config.get("DEBUG"):
        raise ConfigurationError("production cannot run with debug on: unset VOUCHER_DEBUG (or set it to false)")
    if float(app.config.get("CLOCK_OFFSET_SECONDS") or 0):
        raise ConfigurationError("production runs on the real clock: unset VOUCHER_CLOCK_OFFSET_SECONDS")
    storage = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory:") and not app.config.get("RATELIMIT_ALLOW_MEMORY"):
        # Each gunicorn worker would keep its own counters, so every limit would be multiplied by the
        # number of workers (and of hosts).
        raise ConfigurationError("production cannot keep rate-limit counters in process memory: set "
                                 "VOUCHER_RATELIMIT_STORAGE_URI=redis://host:6379/0 (Redis is the documented "
                                 "store), or VOUCHER_RATELIMIT_ALLOW_MEMORY=true for a single worker on one host")


def configure_logging(app: Flask) -> None:
    """Phone numbers and bearer tokens never reach a log, whoever writes it (``core/logs.py``)."""
    mask_everywhere(app.logger)
    install_masking([default_handler])


def configure_proxy(app: Flask) -> None:
    """Behind ``PROXY_TRUSTED_HOPS`` reverse proxies, the client's address, scheme and host are the ones
    the proxies forwarded (X-Forwarded-For/Proto/Host), so per-address limits count each client. With 0
    (not behind a proxy) those headers are ignored: anyone can send them."""
    hops = int(app.config["PROXY_TRUSTED_HOPS"])
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def configure_database(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {
            "pool_pre_ping": True, "pool_size": 10, "max_overflow": 10,
            "pool_timeout": app.config["DATABASE_POOL_TIMEOUT_SECONDS"],
            "connect_args": {"connect_timeout": app.config["DATABASE_CONNECT_TIMEOUT_SECONDS"]}})
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"], app.config["SQLITE_SYNCHRONOUS"])


def configure_extensions(app: Flask) -> None:
    csrf.init_app(app)
    keep_busy_retry_after(app)  # before the limiter: see its docstring
    limiter.init_app(app)


def configure_locale(app: Flask) -> None:
    babel.init_app(app, locale_selector=locale_selector(app.config["LANGUAGES"], app.config["BABEL_DEFAULT_LOCALE"]))


def configure_auth(app: Flask) -> None:
    app.session_interface = PageSessionInterface()
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(sign_in_id: str):
        return web_user(sign_in_id, now())


class PageSessionInterface(SecureCookieSessionInterface):
    """The signed session cookie, for the pages only. The API authenticates by bearer token alone
    (``accounts/guards.py``), so an API request gets an empty session without building the cookie's signer —
    a cost every claim in a rush would otherwise pay — and a cookie it carries is left untouched."""

    def open_session(self, app: Flask, request):
        if request.path.startswith("/api/"):
            return self.session_class()
        return super().open_session(app, request)


def configure_services(app: Flask) -> None:
    app.extensions["voucher.clock"] = Clock(dt.timedelta(seconds=float(app.config["CLOCK_OFFSET_SECONDS"])))
    configure_sms(app)


def configure_blueprints(app: Flask) -> None:
    for api in API_BLUEPRINTS:
        csrf.exempt(api)
        app.register_blueprint(api, url_prefix="/api/v1")
    for blueprint in PAGE_BLUEPRINTS:
        app.register_blueprint(blueprint)


def configure_cli(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def configure_jobs(app: Flask) -> None:
    """The scheduler and ``voucher jobs`` find every domain's jobs here; nothing starts them."""
    app.extensions[JOBS_KEY] = TIMETABLES
