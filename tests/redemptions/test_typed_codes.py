"""Issue #15, item 2: a shop that has seen a voucher's id cannot try all 10,000 digit strings. Five
wrong typed codes lock that voucher's typed entry (its QR still works), a cashier who types too many
wrong codes is stopped, every refused attempt — a look at ``/till/check`` included — is recorded with
cashier, shop and reason, and the resident's wallet says so. Through the real server, with parallel
guesses, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from tests.builders import PASSWORD, make_staff
from tests.http_client import Http
from tests.redemptions.live_shop import LiveShop
from tests.redemptions.test_redemptions_api import code as code_of
from tests.redemptions.test_redemptions_api import redeem
from tests.scenario import enrol, make_resident, publish
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.redemptions.models import RedemptionAttempt
from voucher_app.vouchers import tokens
from voucher_app.vouchers.claiming import claim_voucher


@pytest.fixture
def shop(server, clock) -> LiveShop:
    return LiveShop.open(Http(server.url), clock, quantity=40)


def code_now(shop: LiveShop, resident: str, voucher: dict) -> str:
    status, body, _ = shop.http.get(f"/api/v1/me/vouchers/{voucher['id']}/token", token=resident)
    assert status == 200
    return body["code"]


def wrong(code: str, voucher_id: str, n: int = 1, now: dt.datetime | None = None) -> str:
    """``code`` with other digits, none of which the till would take in this or the last minute."""
    now = now or dt.datetime.now(dt.timezone.utc)
    taken = {tokens._digits(voucher_id, now + dt.timedelta(minutes=m)) for m in (-2, -1, 0, 1)}
    digits = int(code[-4:])
    while True:
        digits = (digits + 997 * n) % 10_000
        if f"{digits:04d}" not in taken:
            return f"{code[:-4]}{digits:04d}"


def attempts_for(voucher_id: str) -> list[RedemptionAttempt]:
    db.session.expire_all()
    return list(db.session.scalars(select(RedemptionAttempt).where(RedemptionAttempt.voucher_id == voucher_id)
                                   .order_by(RedemptionAttempt.at, RedemptionAttempt.id)))


def test_five_wrong_codes_lock_typed_entry_but_not_the_qr(shop):
    resident, voucher = shop.claim()
    code = code_now(shop, resident, voucher)
    for n in range(1, 6):
        status, body = shop.redeem(wrong(code, voucher["id"], n), 8_800)
        assert (status, body["code"]) == (422, "invalid_token")
    status, body = shop.redeem(code, 8_800)  # the right code, now too late
    assert (status, body["code"]) == (429, "code_locked")
    assert "二维码" in body["detail"]
    status, sale = shop.redeem(shop.qr(resident, voucher), 8_800)
    assert status == 201 and sale["voucher_id"] == voucher["id"]

    recorded = attempts_for(voucher["id"])
    refused = [a for a in recorded if a.outcome != "ok"]
    assert [a.outcome for a in refused] == ["invalid_token"] * 5 + ["code_locked"]
    assert {(a.cashier_id, a.merchant_id, a.via) for a in refused} == {(shop.cashier_id, shop.merchant_id, "typed")}
    assert [(a.outcome, a.via) for a in recorded if a.outcome == "ok"] == [("ok", "qr")]


def test_parallel_guesses_cannot_slip_past_the_lock(shop):
    resident, voucher = shop.claim()
    code = code_now(shop, resident, voucher)
    guesses = [wrong(code, voucher["id"], n) for n in range(1, 31)]
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda guess: shop.redeem(guess, 8_800), guesses))
    codes = sorted(body["code"] for _, body in answers)
    assert codes == ["code_locked"] * 25 + ["invalid_token"] * 5
    assert shop.redeem(code, 8_800)[1]["code"] == "code_locked"


def test_a_typed_code_still_works_below_the_limit_and_is_recorded_as_typed(shop):
    resident, voucher = shop.claim()
    code = code_now(shop, resident, voucher)
    for n in range(1, 5):
        shop.redeem(wrong(code, voucher["id"], n), 8_800)
    status, sale = shop.redeem(code, 8_800)
    assert status == 201, sale
    assert [a.via for a in attempts_for(voucher["id"]) if a.outcome == "ok"] == ["typed"]


def test_a_cashier_who_types_too_many_wrong_codes_is_stopped(shop):
    held = [shop.claim() for _ in range(5)]
    codes = [(code_now(shop, resident, voucher), voucher) for resident, voucher in held]
    for i in range(20):  # four wrong codes on each of five vouchers: no voucher locked
        code, voucher = codes[i % 5]
        assert shop.redeem(wrong(code, voucher["id"], i + 1), 8_800)[1]["code"] == "invalid_token"
    resident, voucher = shop.claim()
    status, body = shop.redeem(code_now(shop, resident, voucher), 8_800)
    assert (status, body["code"]) == (429, "rate_limited")
    status, _ = shop.redeem(shop.qr(resident, voucher), 8_800)  # scanning still works
    assert status == 201


def test_the_resident_is_told_in_the_wallet(shop):
    resident, voucher = shop.claim()
    code = code_now(shop, resident, voucher)
    _, wallet, _ = shop.http.get("/api/v1/me/vouchers", token=resident)
    assert wallet["items"][0]["wrong_codes"] is None
    for n in range(1, 3):
        shop.redeem(wrong(code, voucher["id"], n), 8_800)
    _, wallet, _ = shop.http.get("/api/v1/me/vouchers", token=resident)
    assert wallet["items"][0]["wrong_codes"]["count"] == 2


def test_the_lock_lifts_after_fifteen_minutes(client, clock, city):
    """With the movable clock, through the twin app: five wrong codes, then the right one is refused
    for fifteen minutes and taken after."""
    admin = make_staff(Role.admin)
    campaign = publish(admin, clock)
    _shop, cashier = enrol(campaign, clock)
    clock.advance(hours=1)  # 21:00, inside the campaign's hours
    voucher, _ = claim_voucher(campaign.id, campaign.tiers[0].id, make_resident(), clock.now(), uuid.uuid4().hex)
    right = tokens.typed_code(voucher["id"], clock.now())
    for n in range(1, 6):
        assert code_of(redeem(client, cashier, wrong(right, voucher["id"], n, clock.now()))) == "invalid_token"
    assert code_of(redeem(client, cashier, right)) == "code_locked"
    clock.advance(minutes=15, seconds=1)
    assert redeem(client, cashier, tokens.typed_code(voucher["id"], clock.now())).status_code == 201


def test_a_look_at_the_till_is_recorded_when_refused(client, clock, city):
    campaign = publish(make_staff(Role.admin), clock)
    _shop, cashier = enrol(campaign, clock)
    assert client.post("/staff/login", data={"username": cashier.username, "password": PASSWORD}).status_code == 302
    answer = client.post("/till/check", json={"token": "NOT-A-VOUCHER"}).get_json()
    assert answer["ok"] is False and answer["code"] == "invalid_token"
    db.session.expire_all()
    looked = db.session.scalars(select(RedemptionAttempt).where(RedemptionAttempt.cashier_id == cashier.id)).all()
    assert [(a.action, a.outcome, a.merchant_id) for a in looked] == [("check", "invalid_token", cashier.merchant_id)]
