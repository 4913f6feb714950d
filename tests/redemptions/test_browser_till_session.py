"""Issue #20, item 1: the cashier's session ends while a sale is typed into the till (at a phone's 390×844).
Pressing 确认核销 then says "please sign in again" instead of a bare CSRF failure; signing in brings the
cashier back to the till with the code and the bill still there, and the sale goes through.

The till's form is refused by its CSRF check once the session cookie is gone, so this module runs its own
real server with CSRF on (the testing configuration turns it off)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.builders import PASSWORD
from tests.conftest import LiveServer
from tests.http_client import Http
from tests.redemptions.live_shop import LiveShop
from voucher_app.accounts.models import User
from voucher_app.core.extensions import db
from voucher_app.redemptions.models import Redemption

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def csrf_server(_schema, keys_dir):
    server = LiveServer(_schema, keys_dir, workers=1, threads=2, env={"VOUCHER_WTF_CSRF_ENABLED": "true"})
    yield server
    server.stop()


def typed_code(shop: LiveShop, resident: str, voucher: dict) -> str:
    """The code the resident's screen shows under the QR (good for this minute and the next)."""
    status, body, _ = shop.http.get(f"/api/v1/me/vouchers/{voucher['id']}/token", token=resident)
    assert status == 200, body
    return body["code"]


def sign_in(page, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_test_id("staff-sign-in").click()


def test_a_sale_typed_when_the_session_ended_survives_signing_in_again(browser, app, city, csrf_server, clock):
    shop = LiveShop.open(Http(csrf_server.url), clock)
    resident, voucher = shop.claim()
    cashier = db.session.get(User, shop.cashier_id).username
    code = typed_code(shop, resident, voucher)

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=csrf_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/staff/login")
    sign_in(page, cashier)
    page.get_by_test_id("who").wait_for()
    page.goto("/till")
    page.get_by_test_id("token").fill(code)
    page.get_by_test_id("bill").fill("88")

    context.clear_cookies()  # the session cookie is gone (expired, cleared) while the sale was typed
    page.get_by_test_id("redeem").click()
    expired = page.get_by_test_id("session-expired")
    assert "您的登录已过期，请重新登录" in expired.inner_text()
    assert expired.get_attribute("data-code") == "session_expired"

    page.get_by_test_id("sign-in-again").click()
    page.wait_for_url("**/staff/login?next=/till")
    sign_in(page, cashier)
    page.wait_for_url("**/till")
    page.wait_for_function("document.querySelector('[data-testid=token]').value.length > 0")
    assert page.get_by_test_id("token").input_value() == code
    assert page.get_by_test_id("bill").input_value() == "88"

    page.get_by_test_id("redeem").click()
    result = page.get_by_test_id("result").inner_text()
    assert "收款 ¥68" in result, result
    db.session.commit()  # end this test's read transaction: the sale was made by the server
    sale = db.session.scalar(select(Redemption).where(Redemption.voucher_id == voucher["id"]))
    assert sale is not None and (sale.bill_cents, sale.discount_cents) == (8_800, 2_000)
    # The sale went through: the fields are empty again and nothing is put back on the next visit.
    assert page.get_by_test_id("token").input_value() == ""
    page.goto("/till")
    page.wait_for_load_state("load")
    assert page.get_by_test_id("token").input_value() == "" and page.get_by_test_id("bill").input_value() == ""
    context.close()
