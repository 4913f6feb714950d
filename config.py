"""Configuration classes, chosen by ``VOUCHER_ENV``.

Every setting can be overridden from the environment: ``create_app`` applies
``app.config.from_prefixed_env("VOUCHER")`` after the class, so ``VOUCHER_RATELIMIT_ENABLED=false``
turns rate limits off for a load test and ``VOUCHER_SECRET_KEY=...`` sets the key. ``DATABASE_URL``
selects the database; without it the embedded default is a SQLite file in the instance folder.
"""
from __future__ import annotations

import os


class Config:
    ENV_NAME = "base"
    DEBUG = False
    TESTING = False

    # Replaced in production (which refuses to start while it has this value).
    SECRET_KEY = "dev-insecure-secret-key"

    # None means "a SQLite file in the instance folder", resolved by the app factory.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLITE_BUSY_TIMEOUT_MS = 15000

    # The city: its data file (districts, measures, targets) and its time zone.
    CITY_DATA_FILE: str | None = None  # None = the file shipped with the project
    CITY_TIMEZONE = "Asia/Shanghai"

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh", "en")

    # Sign-in by SMS code.
    SMS_SENDER = "outbox"  # "outbox" (development only), "http" (a gateway at SMS_GATEWAY_URL)
    SMS_GATEWAY_URL: str | None = None
    SMS_GATEWAY_TOKEN: str | None = None
    OTP_TTL_SECONDS = 300
    OTP_MAX_ATTEMPTS = 5
    OTP_LIMIT_PER_PHONE = "1/minute;10/day"
    OTP_LIMIT_PER_IP = "60/hour"
    TOKEN_LIMIT_PER_IP = "60/minute"  # sign-in attempts, against password guessing
    REGISTRATION_LIMIT_PER_IP = "10/hour"  # shop registrations make accounts; anyone may send them
    CLAIM_LIMIT_PER_RESIDENT = "20/minute"  # one script cannot hammer the claim endpoint
    CLAIM_LIMIT_PER_IP = "600/minute"  # generous: many residents share a carrier's address
    CLOCK_OFFSET_SECONDS = 0  # development and testing only: shift "now" to try the nightly jobs end to end
    # The scheduler: how often the frequent sweeps run, when yesterday is settled (city time), and how
    # late a trigger may still fire (after that it is skipped; the next one sweeps up what it missed).
    SCHEDULE_LIFECYCLE_MINUTES = 1
    SCHEDULE_EXPIRY_MINUTES = 5
    SCHEDULE_TALLY_MINUTES = 5
    SCHEDULE_SETTLE_AT = "02:00"
    SCHEDULER_MISFIRE_GRACE_SECONDS = 300
    REDEMPTION_MAX_BILL_CENTS = 100_000_000  # one million yuan: a larger bill is a typing mistake

    # Bearer tokens of the API.
    RESIDENT_TOKEN_TTL_SECONDS = 30 * 24 * 3600
    STAFF_TOKEN_TTL_SECONDS = 12 * 3600
    API_USER_CACHE_SECONDS = 5  # a token's user is reloaded at most this often per worker

    # Ed25519 keys that sign voucher QR tokens; None = the "keys" folder in the instance folder.
    SIGNING_KEYS_DIR: str | None = None

    # Flask-Limiter; use a shared store (redis://…) when more than one worker serves.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True

    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    JSON_SORT_KEYS = False


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False  # `voucher serve` runs gunicorn; flip with VOUCHER_DEBUG=true for `flask run`


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    WTF_CSRF_ENABLED = False
    OTP_LIMIT_PER_PHONE = "1000/minute"
    OTP_LIMIT_PER_IP = "100000/hour"
    TOKEN_LIMIT_PER_IP = "100000/hour"
    API_USER_CACHE_SECONDS = 0  # tests disable accounts and expect it at once
    REGISTRATION_LIMIT_PER_IP = "100000/hour"
    CLAIM_LIMIT_PER_RESIDENT = "100000/hour"
    CLAIM_LIMIT_PER_IP = "100000/hour"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SMS_SENDER = "http"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    """The configuration class named by ``name`` or ``VOUCHER_ENV`` (development by default)."""
    name = (name or os.environ.get("VOUCHER_ENV") or "development").lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise SystemExit(f"VOUCHER_ENV={name!r} is unknown: use one of {', '.join(CONFIGS)}") from None
