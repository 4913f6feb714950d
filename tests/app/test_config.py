"""Configuration: chosen by VOUCHER_ENV, overridden by VOUCHER_* and DATABASE_URL, and production refuses
to start while anything in it is unsafe."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port
from voucher_app.app import create_app
from voucher_app.core.errors import ConfigurationError

REAL_SECRET = "production-secret-" + "k3y" * 16  # not JSON, so VOUCHER_SECRET_KEY stays a string

SAFE_PRODUCTION = {
    "VOUCHER_ENV": "production",
    "VOUCHER_SECRET_KEY": REAL_SECRET,
    "VOUCHER_ID_NUMBER_KEY": "id-number-key-" + "x9" * 16,
    "VOUCHER_SMS_SENDER": "http",
    "VOUCHER_SMS_GATEWAY_URL": "http://127.0.0.1:9/sms",
    "VOUCHER_DEBUG": "false",
    "VOUCHER_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",  # no Redis is needed to start
}

# Each unsafe production setting, the one change that makes it so, and what the refusal tells to set.
UNSAFE_PRODUCTION = {
    "development secret key": ("VOUCHER_SECRET_KEY", None, "VOUCHER_SECRET_KEY"),
    "short secret key": ("VOUCHER_SECRET_KEY", "only-twenty-chars-ok", "VOUCHER_SECRET_KEY"),
    "development ID-number key": ("VOUCHER_ID_NUMBER_KEY", None, "VOUCHER_ID_NUMBER_KEY"),
    "sms outbox": ("VOUCHER_SMS_SENDER", "outbox", "VOUCHER_SMS_SENDER"),
    "debug on": ("VOUCHER_DEBUG", "true", "VOUCHER_DEBUG"),
    "http sms without a gateway": ("VOUCHER_SMS_GATEWAY_URL", None, "VOUCHER_SMS_GATEWAY_URL"),
    "a shifted clock": ("VOUCHER_CLOCK_OFFSET_SECONDS", "-86400", "VOUCHER_CLOCK_OFFSET_SECONDS"),
    "rate limits counted per process": ("VOUCHER_RATELIMIT_STORAGE_URI", None, "VOUCHER_RATELIMIT_STORAGE_URI"),
}


@pytest.fixture
def environment(monkeypatch):
    """The process environment with no VOUCHER_* or DATABASE_URL setting left from the caller's shell."""
    for name in list(os.environ):
        if name.startswith("VOUCHER_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    return monkeypatch


def production_environment(environment, database_url: str, **changes: str | None):
    for name, value in {**SAFE_PRODUCTION, "DATABASE_URL": database_url, **changes}.items():
        if value is None:
            environment.delenv(name, raising=False)
        else:
            environment.setenv(name, value)


# Choosing and overriding ---------------------------------------------------------------------------

def test_development_is_the_default(environment):
    app = create_app()
    assert app.config["ENV_NAME"] == "development"
    assert app.config["TESTING"] is False and app.config["DEBUG"] is False


def test_voucher_env_chooses_the_configuration(environment):
    environment.setenv("VOUCHER_ENV", "testing")
    assert create_app().config["ENV_NAME"] == "testing"


def test_an_unknown_environment_name_is_refused_with_the_choices():
    from config import config_for

    with pytest.raises(SystemExit, match="development, testing, production"):
        config_for("staging")


def test_voucher_variables_override_settings(environment):
    environment.setenv("VOUCHER_RATELIMIT_ENABLED", "false")
    environment.setenv("VOUCHER_OTP_TTL_SECONDS", "120")
    environment.setenv("VOUCHER_CITY_TIMEZONE", "Asia/Urumqi")
    app = create_app("testing")
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["OTP_TTL_SECONDS"] == 120
    assert app.config["CITY_TIMEZONE"] == app.config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Urumqi"


def test_the_default_database_is_a_sqlite_file_in_the_instance_folder(environment):
    app = create_app("development")
    expected = Path(app.instance_path) / "voucher.db"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{expected}"
    assert Path(app.instance_path).is_dir()


def test_database_url_selects_the_database(environment, tmp_path):
    environment.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'city.db'}")
    assert create_app("development").config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'city.db'}"


@pytest.mark.parametrize("url", ["postgresql://voucher:pw@db.internal:5432/vouchers",
                                 "postgres://voucher:pw@db.internal:5432/vouchers"])
def test_postgresql_urls_use_the_psycopg_driver(environment, url):
    environment.setenv("DATABASE_URL", url)
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://voucher:pw@db.internal:5432/vouchers"


# Production ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("unsafe", UNSAFE_PRODUCTION.values(), ids=UNSAFE_PRODUCTION.keys())
def test_production_refuses_an_unsafe_setting_and_says_what_to_set(environment, _schema, unsafe):
    variable, value, to_set = unsafe
    production_environment(environment, _schema, **{variable: value})
    with pytest.raises(ConfigurationError) as refusal:
        create_app()
    assert to_set in str(refusal.value)


def test_production_starts_when_everything_is_safe(environment, _schema):
    production_environment(environment, _schema)
    app = create_app()
    assert app.config["ENV_NAME"] == "production" and app.debug is False
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_has_no_dev_outbox(environment, _schema):
    production_environment(environment, _schema)
    client = create_app().test_client()
    response = client.get("/api/v1/dev/outbox")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    assert client.get("/dev/outbox").status_code == 404


def test_development_has_the_dev_outbox(environment, _schema):
    client = create_app("development", {"SQLALCHEMY_DATABASE_URI": _schema}).test_client()
    assert client.get("/api/v1/dev/outbox").get_json() == {"items": [], "next": None}


@pytest.mark.parametrize("unsafe", [UNSAFE_PRODUCTION[k] for k in ("development secret key", "sms outbox", "debug on")],
                         ids=["secret key", "sms outbox", "debug"])
def test_voucher_serve_refuses_to_start_in_unsafe_production(tmp_path, unsafe):
    """What an operator sees: a quick exit with one line naming the setting, and no traceback."""
    variable, value, to_set = unsafe
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_")}
    env.update(SAFE_PRODUCTION, DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}")
    if value is None:
        del env[variable]
    else:
        env[variable] = value
    result = subprocess.run([sys.executable, "-m", "voucher_app", "serve", "--port", str(free_port())],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and to_set in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
