"""The voucher platform's Flask application.

``create_app`` is the table of contents: each ``configure_*`` step wires one concern. It neither
touches the database nor starts background work (the scheduler runs in its own process).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel import Locale
from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

import config as settings

from .accounts.phones import MaskPhonesFilter
from .clock import Clock
from .errors import ConfigurationError, register_error_handlers
from .extensions import babel, csrf, db, limiter, login_manager, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(env: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app for ``env`` (or ``VOUCHER_ENV``), then apply ``VOUCHER_*`` variables and ``overrides``."""
    app = Flask(__name__, instance_relative_config=True)
    app.json.ensure_ascii = False  # Chinese stays readable in JSON answers
    configure_settings(app, env, overrides or {})
    check_production_safety(app)
    configure_logging(app)
    configure_database(app)
    configure_extensions(app)
    configure_locale(app)
    configure_auth(app)
    configure_services(app)
    configure_blueprints(app)
    configure_templates(app)
    register_error_handlers(app)
    configure_cli(app)
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
    if app.config.get("SMS_SENDER") == "outbox":
        raise ConfigurationError("production cannot use the development SMS outbox: set VOUCHER_SMS_SENDER=http "
                                 "and VOUCHER_SMS_GATEWAY_URL")
    if app.config.get("DEBUG"):
        raise ConfigurationError("production cannot run with debug on: unset VOUCHER_DEBUG (or set it to false)")
    if float(app.config.get("CLOCK_OFFSET_SECONDS") or 0):
        raise ConfigurationError("production runs on the real clock: unset VOUCHER_CLOCK_OFFSET_SECONDS")


def configure_logging(app: Flask) -> None:
    """Phone numbers never reach a log, whoever writes it."""
    from flask.logging import default_handler

    handlers = [*logging.getLogger().handlers, *app.logger.handlers, default_handler]
    for handler in handlers:
        if not any(isinstance(f, MaskPhonesFilter) for f in handler.filters):
            handler.addFilter(MaskPhonesFilter())


def configure_database(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True, "pool_size": 10,
                                                             "max_overflow": 10})
    from . import models  # noqa: F401  (every table known before the first query or migration)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            from .database import configure_sqlite

            configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def configure_extensions(app: Flask) -> None:
    csrf.init_app(app)
    limiter.init_app(app)


def configure_locale(app: Flask) -> None:
    # Parsed once: Flask-Babel would parse the chosen name into a Locale again on every request.
    locales = {code: Locale.parse(code) for code in app.config["LANGUAGES"]}
    default = locales.get(app.config["BABEL_DEFAULT_LOCALE"]) or Locale.parse(app.config["BABEL_DEFAULT_LOCALE"])

    def select_locale() -> Locale:
        if not request:
            return default
        # Most requests name no language: parsing their query string and cookies into dictionaries
        # just to find that out was a tenth of a refused claim's time in a rush.
        environ = request.environ
        if "lang=" in environ.get("QUERY_STRING", "") or "lang=" in environ.get("HTTP_COOKIE", ""):
            choice = request.args.get("lang") or request.cookies.get("lang")
            if choice in locales:
                return locales[choice]
        if "HTTP_ACCEPT_LANGUAGE" in environ and request.path.startswith("/api/"):
            return locales.get(request.accept_languages.best_match(locales)) or default
        return default

    babel.init_app(app, locale_selector=select_locale)


def configure_auth(app: Flask) -> None:
    from .accounts.models import User

    app.session_interface = PageSessionInterface()
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.get(User, user_id)
        return user if user is not None and user.is_active else None


class PageSessionInterface(SecureCookieSessionInterface):
    """The signed session cookie, for the pages only. The API authenticates by bearer token alone
    (``api.py``), so an API request gets an empty session without building the cookie's signer —
    a cost every claim in a rush would otherwise pay — and a cookie it carries is left untouched."""

    def open_session(self, app: Flask, request):
        if request.path.startswith("/api/"):
            return self.session_class()
        return super().open_session(app, request)


def configure_services(app: Flask) -> None:
    from .accounts.sms import configure_sms

    app.extensions["voucher.clock"] = Clock(dt.timedelta(seconds=float(app.config["CLOCK_OFFSET_SECONDS"])))
    configure_sms(app)


def configure_blueprints(app: Flask) -> None:
    from campaigns import views as campaign_views
    from merchants import settlement_views
    from merchants import views as merchant_views

    from . import pages
    from .accounts import views as account_views
    from .redemptions import views as redemption_views
    from .reports import pages as report_pages
    from .reports import views as report_views
    from .vouchers import views as voucher_views

    for api in (account_views.api, account_views.dev_api, campaign_views.api, voucher_views.api,
                merchant_views.api, redemption_views.api, report_views.api, settlement_views.api):
        csrf.exempt(api)
        app.register_blueprint(api, url_prefix="/api/v1")
    for blueprint in (pages.pages, account_views.pages, account_views.dev_pages, voucher_views.pages,
                      redemption_views.pages, campaign_views.pages, merchant_views.pages, settlement_views.pages,
                      report_pages.pages):
        app.register_blueprint(blueprint)


def configure_templates(app: Flask) -> None:
    from .templating import configure_templates as configure

    configure(app)


def configure_cli(app: Flask) -> None:
    from campaigns.cli import city_cli

    from .cli import register_commands

    from .scheduler.cli import jobs_cli, ledger_cli, scheduler_command
    from .vouchers.cli import keys_cli

    app.cli.add_command(city_cli)
    app.cli.add_command(keys_cli)
    for command in (jobs_cli, ledger_cli, scheduler_command):
        app.cli.add_command(command)
    register_commands(app)
