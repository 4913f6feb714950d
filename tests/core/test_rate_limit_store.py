"""Production keeps its rate-limit counters in a store every worker shares (Redis): in process memory
each gunicorn worker would count on its own, and every limit would be multiplied by the workers. It
refuses to start with the in-memory store unless told explicitly."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, free_port
from voucher_app.app import create_app
from voucher_app.core.errors import ConfigurationError
from voucher_app.core.extensions import limiter

SAFE_BUT_THE_STORE = {
    "VOUCHER_ENV": "production",
    "VOUCHER_SECRET_KEY": "production-secret-" + "k3y" * 16,
    "VOUCHER_ID_NUMBER_KEY": "id-number-key-" + "x9" * 16,
    "VOUCHER_SMS_SENDER": "http",
    "VOUCHER_SMS_GATEWAY_URL": "http://127.0.0.1:9/sms",
}
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def production(monkeypatch, _schema):
    """The environment of a production host whose only unsafe setting could be the rate-limit store."""
    for name in list(os.environ):
        if name.startswith("VOUCHER_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    for name, value in {**SAFE_BUT_THE_STORE, "DATABASE_URL": _schema}.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.parametrize("store", [None, "memory://"], ids=["default", "explicit"])
def test_production_refuses_the_in_memory_store_and_names_redis(production, store):
    if store:
        production.setenv("VOUCHER_RATELIMIT_STORAGE_URI", store)
    with pytest.raises(ConfigurationError) as refusal:
        create_app()
    message = str(refusal.value)
    assert "VOUCHER_RATELIMIT_STORAGE_URI=redis://host:6379/0" in message and "Redis" in message
    assert "VOUCHER_RATELIMIT_ALLOW_MEMORY=true" in message


def test_production_keeps_counters_in_memory_only_when_told_explicitly(production):
    production.setenv("VOUCHER_RATELIMIT_ALLOW_MEMORY", "true")
    app = create_app()
    assert app.config["RATELIMIT_ALLOW_MEMORY"] is True and app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_production_starts_with_redis_without_reaching_it(production):
    """Starting opens no connection (a Redis briefly away does not stop a deploy); counting does."""
    production.setenv("VOUCHER_RATELIMIT_STORAGE_URI", REDIS)
    app = create_app()
    assert app.config["ENV_NAME"] == "production"
    assert type(limiter.storage).__name__ == "RedisStorage"


def test_development_and_testing_count_in_memory_as_before(production):
    production.delenv("VOUCHER_ENV")
    for env in ("development", "testing"):
        assert create_app(env).config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_voucher_serve_refuses_the_in_memory_store_in_one_line(tmp_path):
    """What an operator sees: a quick exit with one line naming Redis, and no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_")}
    env.update(SAFE_BUT_THE_STORE, DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}")
    result = subprocess.run([sys.executable, "-m", "voucher_app", "serve", "--port", str(free_port())],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "redis://host:6379/0" in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
