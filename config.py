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
    # Keys the hash of residents' ID numbers (身份证号), the only form they are kept in. Separate from
    # SECRET_KEY and never rotated: a new key would make every stored hash unmatchable, so the same
    # person on a second phone would no longer be recognised. Production refuses this value.
    ID_NUMBER_KEY = "dev-insecure-id-number-key"
    ELDERLY_AGE = 60  # the ``elderly`` group of reserved quotas: this old or older this year (by birth year)

    # None means "a SQLite file in the instance folder", resolved by the app factory.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLITE_BUSY_TIMEOUT_MS = 15000
    # NORMAL survives the process dying, not a power cut; production keeps commits through that too.
    SQLITE_SYNCHRONOUS = "NORMAL"
    # A request the database cannot serve now (unreachable, restarting, locked, pool exhausted) is answered
    # 503 ``busy`` with this Retry-After at once; a new connection gives up after DATABASE_CONNECT_TIMEOUT
    # and a request waits at most DATABASE_POOL_TIMEOUT for a pooled one, so nothing hangs.
    BUSY_RETRY_AFTER_SECONDS = 2
    DATABASE_CONNECT_TIMEOUT_SECONDS = 5
    DATABASE_POOL_TIMEOUT_SECONDS = 10

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
    # The fraud rules (fraud/rules.py) run every SCHEDULE_FRAUD_MINUTES over the redemptions of the last
    # FRAUD_LOOKBACK_DAYS (a rule's history, such as a shop's usual day, may look further back).
    SCHEDULE_FRAUD_MINUTES = 10
    FRAUD_LOOKBACK_DAYS = 30
    # Settlement reads a day only this long after it ended: a sale's time is taken before its
    # transaction commits, so the margin must outlast any write transaction (keep SCHEDULE_SETTLE_AT
    # later than it). Each run also reads this many settled days again for sales or refunds that
    # committed later still, and adds them to their day's statement (settlement/service.py).
    SETTLEMENT_HORIZON_SECONDS = 600
    SETTLEMENT_RECHECK_DAYS = 7
    # A shop with an open fraud flag scoring at least this (0–100) has its statements held until every
    # such flag is resolved (settlement/service.py); a confirmed flag claws back its sales' subsidy.
    FRAUD_HOLD_SCORE = 70
    # Complaints and seven-day return requests (voucher_app/complaints/service.py): the bureau answers a
    # complaint by the end of the N-th working day after it is filed, a shop a resident's return request by
    # the end of the next working day (then the request becomes a complaint, while the seven-day refund
    # window is mostly still open). Working days are Monday to Friday in city time, except PUBLIC_HOLIDAYS
    # (ISO dates; from the environment as JSON: VOUCHER_PUBLIC_HOLIDAYS='["2027-01-01"]').
    COMPLAINT_DUE_WORKING_DAYS = 3
    RETURN_REQUEST_DUE_WORKING_DAYS = 1
    COMPLAINT_LIMIT_PER_RESIDENT = "10/day"  # complaints, and return requests (a bucket of their own), per resident
    PUBLIC_HOLIDAYS = (
        # 2026, the State Council's arrangement: New Year, Spring Festival, Qingming, Labour Day, Dragon Boat,
        # Mid-Autumn, National Day.
        "2026-01-01", "2026-01-02", "2026-01-03",
        "2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21",
        "2026-02-22", "2026-02-23",
        "2026-04-04", "2026-04-05", "2026-04-06",
        "2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05",
        "2026-06-19", "2026-06-20", "2026-06-21",
        "2026-09-25", "2026-09-26", "2026-09-27",
        "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07",
        # 2027, the statutory days until the year's arrangement is published (replace them then).
        "2027-01-01",
        "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09",
        "2027-04-05",
        "2027-05-01", "2027-05-02",
        "2027-06-09",
        "2027-09-15",
        "2027-10-01", "2027-10-02", "2027-10-03",
    )
    REDEMPTION_MAX_BILL_CENTS = 100_000_000  # one million yuan: a larger bill is a typing mistake
    # Typed codes at the till (redemptions/typed.py): five wrong codes for one voucher in fifteen minutes
    # lock its typed entry (its QR still works); twenty wrong codes in an hour stop one cashier typing.
    TYPED_CODE_LOCK_AFTER = 5
    TYPED_CODE_LOCK_MINUTES = 15
    TYPED_CODE_WRONG_PER_CASHIER = 20

    # Sign-ins (bearer tokens and web sessions), each revocable (accounts/sign_ins.py). Residents stay
    # signed in two weeks on their phone; staff for a working day, and a till left alone for half an
    # hour signs out. Wrong staff passwords: ten in a row lock the username for fifteen minutes.
    RESIDENT_TOKEN_TTL_SECONDS = 14 * 24 * 3600
    STAFF_TOKEN_TTL_SECONDS = 12 * 3600
    STAFF_IDLE_SECONDS = 30 * 60
    SIGN_IN_TOUCH_SECONDS = 60  # how stale a staff sign-in's "last seen" may get before it is written
    REMEMBER_COOKIE_DURATION = RESIDENT_TOKEN_TTL_SECONDS
    SIGN_IN_LOCK_AFTER = 10
    SIGN_IN_LOCK_MINUTES = 15
    TOTP_REQUIRED_FOR_ADMINS = False  # on in production: administrators sign in with an authenticator code

    # Retention (README, "Retention"): rows purged daily at SCHEDULE_PURGE_AT (city time), each kept for
    # a while after the last moment it could change an answer. The audit trail, the ledger and accepted
    # redemptions are never purged.
    SCHEDULE_PURGE_AT = "03:30"  # the quietest hour: after settlement, before the shops open
    RETENTION_OTP_CODES_DAYS = 1  # after expiry (5 minutes after sending): support can see a code went out
    RETENTION_SMS_OUTBOX_DAYS = 7  # the development outbox: a week of messages to read back
    RETENTION_SIGN_INS_DAYS = 30  # after expiry or revocation: when a token stopped working, for support
    RETENTION_SIGN_IN_FAILURES_HOURS = 24  # since the last wrong password, once no lock is running
    # A key's first answer is promised for 24 hours (clients retry within minutes); records are kept
    # twice that, and the purge refuses a retention shorter than the promise.
    IDEMPOTENCY_KEYS_HONOURED_HOURS = 24
    RETENTION_IDEMPOTENCY_RECORDS_DAYS = 2
    RETENTION_REFUSED_ATTEMPTS_DAYS = 180  # the bureau's fraud review: longer than a campaign and its review

    # Ed25519 keys that sign voucher QR tokens; None = the "keys" folder in the instance folder.
    SIGNING_KEYS_DIR: str | None = None

    # Flask-Limiter. Its counters live in RATELIMIT_STORAGE_URI; "memory://" is one set per process, so
    # production refuses it (gunicorn runs several workers) unless RATELIMIT_ALLOW_MEMORY says a single
    # worker serves. The documented store is Redis: redis://host:6379/0.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ALLOW_MEMORY = False
    RATELIMIT_HEADERS_ENABLED = True

    # How long a worker trusts its copy of the data versions (voucher_app/core/versions.py): a change
    # committed by another worker or host reaches its public reads within this many seconds.
    DATA_VERSIONS_SECONDS = 1.0

    # How many reverse proxies in front of the app set X-Forwarded-For/Proto/Host (0: none, and those
    # headers are ignored, since a client can send them). Per-address limits count the client's address.
    PROXY_TRUSTED_HOPS = 0

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
    REGISTRATION_LIMIT_PER_IP = "100000/hour"
    # Tests move the clock by hours within one staff sign-in; the idle limit has its own tests.
    STAFF_IDLE_SECONDS = 7 * 24 * 3600
    CLAIM_LIMIT_PER_RESIDENT = "100000/hour"
    CLAIM_LIMIT_PER_IP = "100000/hour"
    DATA_VERSIONS_SECONDS = 0  # tests read the versions on every request: each change is seen at once


class ProductionConfig(Config):
    ENV_NAME = "production"
    SMS_SENDER = "http"
    TOTP_REQUIRED_FOR_ADMINS = True
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SQLITE_SYNCHRONOUS = "FULL"


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
