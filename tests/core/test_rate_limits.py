"""Sign-in codes are rate limited per phone and per address, so nobody can flood a phone or the SMS bill."""
from __future__ import annotations

import time

import pytest

from tests.builders import next_phone

PER_PHONE = {"OTP_LIMIT_PER_PHONE": "2/minute", "OTP_LIMIT_PER_IP": "1000/minute"}
PER_IP = {"OTP_LIMIT_PER_PHONE": "1000/minute", "OTP_LIMIT_PER_IP": "3/minute"}
OTHER_ADDRESS = {"REMOTE_ADDR": "10.0.0.9"}


@pytest.fixture
def app_overrides(request) -> dict:
    """Tight limits per phone unless a test asks for others (``indirect`` parametrisation)."""
    return getattr(request, "param", PER_PHONE)


def ask_code(client, phone, **kw):
    return client.post("/api/v1/auth/otp", json={"phone": phone}, **kw)


def outbox_size(client) -> int:
    return len(client.get("/api/v1/dev/outbox").get_json()["items"])


def assert_rate_limited(response):
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "rate_limited" and body["status"] == 429 and body["title"]
    assert int(response.headers["Retry-After"]) > 0


def test_the_third_code_for_one_phone_in_a_minute_is_refused(client):
    phone = next_phone()
    assert [ask_code(client, phone).status_code for _ in range(2)] == [202, 202]
    assert_rate_limited(ask_code(client, phone))


def test_another_phone_is_not_held_back_by_a_limited_one(client):
    phone = next_phone()
    for _ in range(3):
        ask_code(client, phone)
    assert ask_code(client, next_phone()).status_code == 202


def test_the_same_phone_written_differently_counts_as_one(client):
    phone = next_phone()
    ask_code(client, phone)
    ask_code(client, f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}")
    assert_rate_limited(ask_code(client, phone))


def test_a_refused_request_sends_no_sms(client):
    phone = next_phone()
    ask_code(client, phone)
    ask_code(client, phone)
    sent = outbox_size(client)
    assert ask_code(client, phone).status_code == 429
    assert outbox_size(client) == sent


@pytest.mark.parametrize("app_overrides", [{**PER_PHONE, "OTP_LIMIT_PER_PHONE": "1/second"}], indirect=True)
def test_the_limit_is_lifted_after_its_window(client):
    """The limiter counts in real time, not by the app's clock; a one-second window keeps this fast."""
    phone = next_phone()
    assert ask_code(client, phone).status_code == 202
    assert ask_code(client, phone).status_code == 429
    time.sleep(1.1)
    assert ask_code(client, phone).status_code == 202


def test_the_sign_in_page_shares_the_phone_limit_with_the_api(client):
    phone = next_phone()
    ask_code(client, phone)
    ask_code(client, phone)
    response = client.post("/login/code", data={"phone": phone})
    assert response.status_code == 429
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("app_overrides", [PER_IP], indirect=True)
def test_the_fourth_code_from_one_address_is_refused(client):
    assert [ask_code(client, next_phone()).status_code for _ in range(3)] == [202, 202, 202]
    assert_rate_limited(ask_code(client, next_phone()))


@pytest.mark.parametrize("app_overrides", [PER_IP], indirect=True)
def test_another_address_is_not_held_back_by_a_limited_one(client):
    for _ in range(4):
        ask_code(client, next_phone())
    assert ask_code(client, next_phone(), environ_base=OTHER_ADDRESS).status_code == 202


@pytest.mark.parametrize("app_overrides", [{**PER_PHONE, **PER_IP, "RATELIMIT_ENABLED": False}], indirect=True)
def test_limits_can_be_switched_off_for_a_load_test(client):
    phone = next_phone()
    assert {ask_code(client, phone).status_code for _ in range(6)} == {202}
