"""A resident files a complaint from the wallet about the shop where they used a voucher, naming that
purchase; they see its number and due date; the bureau's officer upholds it with an answer on the
bureau's page; the resident reads the answer in "My complaints"."""
from __future__ import annotations

import re

import pytest

from tests.builders import PASSWORD, make_staff, next_phone
from tests.http_client import Http
from tests.redemptions.live_shop import LiveShop
from tests.vouchers.test_browser_claim import sign_in
from voucher_app.core.roles import Role

pytestmark = pytest.mark.browser


def test_a_resident_complains_from_the_wallet_and_reads_the_bureaus_answer(phone_page, desk_page, server, clock):
    http = Http(server.url)
    shop = LiveShop.open(http, clock)
    phone = next_phone()
    resident = http.resident_token(phone)
    status, voucher, _ = http.post(f"/api/v1/campaigns/{shop.campaign['id']}/claims",
                                   {"tier_id": shop.campaign["tiers"][0]["id"]}, token=resident,
                                   headers={"Idempotency-Key": "browser-complaint-claim"})
    assert status == 201, voucher
    status, sale = shop.redeem(shop.qr(resident, voucher), 5_000)
    assert status == 201, sale
    admin = make_staff(Role.admin)

    page = phone_page
    sign_in(page, phone)
    page.goto("/wallet")
    card = page.get_by_test_id("voucher").first
    card.get_by_test_id("ask-refund").wait_for()  # within the seven days, a refund can be asked for too
    card.get_by_test_id("complain").click()
    page.get_by_test_id("complaint-form").wait_for()
    assert page.locator("select[name=redemption_id]").input_value() == sale["id"]
    page.get_by_test_id("kind-surcharge").click()
    page.locator("textarea[name=text]").fill("用券后收银员按原价加了十元")
    page.get_by_test_id("submit-complaint").click()
    page.wait_for_url("**/me/complaints**")
    flash = page.locator(".flash-success").inner_text()
    complaint_id = page.get_by_test_id("complaint-id").first.inner_text()
    assert complaint_id in flash and re.search(r"\d{4}-\d{2}-\d{2} 23:59", flash), flash
    assert re.search(r"\d{4}-\d{2}-\d{2} 23:59", page.get_by_test_id("due-at").first.inner_text())
    assert page.get_by_test_id("complaint-status").first.inner_text() == "处理中"

    bureau = desk_page
    bureau.goto("/staff/login")
    bureau.locator("[name=username]").fill(admin.username)
    bureau.locator("[name=password]").fill(PASSWORD)
    bureau.get_by_test_id("staff-sign-in").click()
    bureau.get_by_test_id("who").wait_for()
    bureau.locator(".topnav a[href='/bureau/complaints']").click()
    row = bureau.locator(f"[data-testid=complaint-row][data-complaint-id='{complaint_id}']")
    assert phone not in row.inner_text() and f"{phone[:3]}****{phone[-4:]}" in row.inner_text()
    row.get_by_test_id("open-complaint").click()
    bureau.get_by_test_id("assign-to-me").click()
    bureau.get_by_test_id("outcome-upheld").click()
    bureau.get_by_test_id("decision-text").fill("经核实，商户加价属实，已责令退还并整改。")
    bureau.get_by_test_id("submit-decision").click()
    bureau.get_by_test_id("bureau-answer").wait_for()
    assert bureau.get_by_test_id("complaint-status").inner_text() == "投诉成立"

    page.goto("/me/complaints")
    item = page.locator(f"[data-testid=complaint][data-complaint-id='{complaint_id}']")
    assert item.get_by_test_id("complaint-status").inner_text() == "投诉成立"
    assert "经核实，商户加价属实，已责令退还并整改。" in item.get_by_test_id("bureau-answer").inner_text()
