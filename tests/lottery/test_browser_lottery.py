"""On a phone: a resident enters a draw, checks it, and finds the result in the wallet; a community
worker registers a resident without a smartphone and enters and claims for them."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from tests.builders import PASSWORD, id_number, make_staff, next_phone
from tests.http_client import Http
from tests.vouchers.test_browser_claim import sign_in
from tests.vouchers.test_claim_concurrency import open_campaign
from voucher_app.core.roles import Role

pytestmark = pytest.mark.browser


def lottery_closing_soon(http: Http, seconds: int) -> tuple[dict, dict]:
    """A lottery open for entries now (wall clock) whose window closes in ``seconds``; the admin's token."""
    admin = make_staff(Role.admin)
    _, token, _ = http.post("/api/v1/auth/token", {"username": admin.username, "password": PASSWORD})
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    body = {"name": "夜市摇号券", "kind": "general", "measure_codes": ["M19"], "budget_cents": 2 * 1_000,
            "allocation": "lottery", "starts_at": (now - dt.timedelta(minutes=2)).isoformat(),
            "ends_at": (now + dt.timedelta(days=2)).isoformat(), "limit_per_resident": 1, "limit_per_round": 1,
            "valid_days": 3,
            "tiers": [{"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": 2}],
            "rounds": [{"entry_opens_at": (now - dt.timedelta(minutes=1)).isoformat(),
                        "entry_closes_at": (now + dt.timedelta(seconds=seconds)).isoformat(),
                        "draw_at": (now + dt.timedelta(hours=1)).isoformat(), "quantities": [2]}]}
    status, campaign, _ = http.post("/api/v1/campaigns", body, token=token["token"])
    assert status == 201, campaign
    status, campaign, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/publish", {}, token=token["token"])
    assert status == 200, campaign
    return campaign, token


def test_a_resident_enters_a_draw_checks_it_and_finds_the_voucher(phone_page, server, app):
    http = Http(server.url)
    campaign, admin = lottery_closing_soon(http, seconds=20)
    page = phone_page
    sign_in(page, next_phone())
    page.goto(f"/campaigns/{campaign['id']}")
    page.get_by_test_id("enter").first.click()
    page.wait_for_url("**/wallet")
    assert "报名成功" in page.locator(".flash-success").inner_text()
    entry = page.get_by_test_id("entry").first
    assert entry.get_attribute("data-entry-status") == "entered"
    entry.get_by_role("link", name="核验抽签").click()
    commitment = page.get_by_test_id("commitment").inner_text()
    assert len(commitment) == 64 and "开奖时公开" in page.get_by_test_id("seed").inner_text()
    assert "等待开奖" in page.get_by_test_id("my-entry").inner_text()

    closes = dt.datetime.fromisoformat(campaign["rounds"][0]["entry_closes_at"])
    time.sleep(max(0.0, (closes - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 1)
    status, document, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/rounds/{campaign['rounds'][0]['id']}/draw",
                                    {}, token=admin["token"])
    assert status == 200, document
    page.reload()
    assert "您已中签" in page.get_by_test_id("my-entry").inner_text()
    assert page.get_by_test_id("seed").inner_text() == document["seed"]
    page.goto("/wallet")
    assert page.get_by_test_id("entry").first.get_attribute("data-entry-status") == "won"
    assert page.get_by_test_id("voucher").count() == 1


def test_a_community_worker_registers_a_resident_and_claims_for_them(phone_page, server, app):
    campaign = open_campaign(Http(server.url), 3)
    worker = make_staff(Role.community_worker, district="lizhou")
    page = phone_page
    page.goto("/staff/login")
    page.get_by_label("用户名").fill(worker.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_test_id("staff-sign-in").click()
    page.wait_for_url("**/community")

    page.get_by_label("居民姓名").fill("王大爷")
    page.get_by_label("身份证号").fill(id_number("51080219450607321"))
    page.get_by_test_id("register-resident").click()
    assert page.locator(".field-error").count() >= 1  # no consent yet: refused, what was typed kept
    assert page.get_by_label("居民姓名").input_value() == "王大爷"
    page.get_by_test_id("register-form").locator("input[type=checkbox]").check()
    page.get_by_test_id("register-resident").click()
    page.wait_for_url("**/community/residents/*")  # straight to the resident's page
    assert "王大爷" in page.get_by_test_id("resident").inner_text()
    card = page.locator(f"[data-testid=campaign][data-campaign-id='{campaign['id']}']")
    card.get_by_test_id("claim").first.click()
    page.get_by_test_id("voucher").first.wait_for()
    assert page.get_by_test_id("voucher").first.get_by_test_id("print").is_visible()
