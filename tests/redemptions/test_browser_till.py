"""At the till: the cashier types the code shown on the resident's phone, enters the bill and sees the
discount; the resident's screen then shows the voucher used, without a reload."""
from __future__ import annotations

import pytest

from merchants.models import Enrolment, EnrolmentStatus, MerchantStatus
from tests.builders import PASSWORD, make_account, make_merchant, next_phone
from tests.http_client import Http
from tests.vouchers.test_browser_claim import sign_in
from tests.vouchers.test_claim_concurrency import open_campaign
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role

pytestmark = pytest.mark.browser


def test_cashier_types_the_code_and_the_wallet_shows_it_used(browser, phone_page, server, clock):
    http = Http(server.url)
    campaign = open_campaign(http, 5)
    merchant, _owner = make_merchant(MerchantStatus.approved, name="凤街测试小吃")
    db.session.add(Enrolment(campaign_id=campaign["id"], merchant_id=merchant.id, status=EnrolmentStatus.approved,
                             created_at=clock.now()))
    db.session.commit()
    cashier = make_account(Role.cashier, merchant)

    resident = phone_page
    sign_in(resident, next_phone())
    resident.goto(f"/campaigns/{campaign['id']}")
    resident.get_by_test_id("claim").first.click()
    resident.wait_for_url("**/wallet")
    resident.get_by_test_id("show-qr").first.click()
    resident.wait_for_function("document.querySelector('[data-testid=typed-code]').textContent.length > 5")
    typed = resident.get_by_test_id("typed-code").inner_text()

    till_context = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN", base_url=server.url)
    till = till_context.new_page()
    till.set_default_timeout(10_000)
    till.goto("/staff/login")
    till.get_by_label("用户名").fill(cashier.username)
    till.get_by_label("密码").fill(PASSWORD)
    till.get_by_test_id("staff-sign-in").click()
    till.get_by_test_id("who").wait_for()
    till.goto("/till")
    till.get_by_test_id("token").fill(typed)
    till.wait_for_function("document.querySelector('[data-testid=voucher-info]').textContent.length > 0")
    assert "满50减20" in till.get_by_test_id("voucher-info").inner_text(), till.get_by_test_id("voucher-info").inner_text()
    till.get_by_test_id("bill").fill("88")
    till.get_by_test_id("redeem").click()
    result = till.get_by_test_id("result").inner_text()
    assert "收款 ¥68" in result and "优惠 ¥20" in result, result
    assert "¥20" in till.get_by_test_id("totals").inner_text()
    till_context.close()

    resident.wait_for_function(
        "document.querySelector('[data-testid=voucher-screen]').getAttribute('data-status') === 'redeemed'",
        timeout=15_000)
    state = resident.get_by_test_id("voucher-state").inner_text()
    assert "已使用" in state and "凤街测试小吃" in state and "20" in state
    resident.goto("/wallet")
    assert "凤街测试小吃" in resident.get_by_test_id("used").inner_text()
