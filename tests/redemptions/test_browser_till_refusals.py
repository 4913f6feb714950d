"""Issue #20, item 2 (and item 5's empty scan), at a phone's width: the till speaks of the bill in yuan, as
its field does (the API keeps its ``bill_cents`` wording); after a refusal the code and the bill stay in
their fields so the cashier corrects one of them; pressing 确认核销 with no code says nothing was scanned
(``token_missing``), not "invalid QR"."""
from __future__ import annotations

import pytest

from tests.http_client import Http
from tests.redemptions.live_shop import LiveShop, till_page

pytestmark = pytest.mark.browser


@pytest.fixture
def till(browser, server, clock):
    """A cashier signed in at the till of a shop open for business, and a resident's typed code."""
    shop = LiveShop.open(Http(server.url), clock)
    resident, voucher = shop.claim()
    status, body, _ = shop.http.get(f"/api/v1/me/vouchers/{voucher['id']}/token", token=resident)
    assert status == 200, body
    context, page = till_page(browser, server.url, shop)
    yield page, body["code"]
    context.close()


def press(page, code: str, bill: str) -> tuple[str | None, str]:
    page.get_by_test_id("token").fill(code)
    page.get_by_test_id("bill").fill(bill)
    page.evaluate("document.body.dataset.pressed = '1'")  # the page is sent in the background (resend.js):
    page.get_by_test_id("redeem").click()
    page.wait_for_function("!document.body.dataset.pressed")  # read the answer's page, not this one
    result = page.get_by_test_id("result")
    return result.get_attribute("data-code"), result.inner_text()


def kept(page) -> tuple[str, str]:
    return page.get_by_test_id("token").input_value(), page.get_by_test_id("bill").input_value()


def test_refusals_speak_yuan_and_keep_what_was_typed(till):
    page, code = till

    refused, text = press(page, code, "88.123")
    assert refused == "validation_error"
    assert "请填写消费金额（元）" in text and "最多两位小数" in text and "分" not in text, text
    assert kept(page) == (code, "88.123")
    page.wait_for_url("**/till")  # a reload shows the till; it does not send the sale again

    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    refused, text = press(page, wrong, "88")
    assert refused == "invalid_token" and "不能核销" in text
    assert kept(page) == (wrong, "88")

    refused, text = press(page, "", "88")
    assert refused == "token_missing"
    assert "没有扫到券码" in text and "不是有效" not in text, text
    assert kept(page) == ("", "88")

    page.context.add_cookies([{"name": "lang", "value": "en", "url": page.url}])  # the footer's English
    refused, text = press(page, code, "0")
    assert refused == "validation_error" and "Enter the bill in yuan" in text and "fen" not in text, text
    assert kept(page) == (code, "0")
    refused, text = press(page, "  ", "88")
    assert refused == "token_missing" and "Nothing was scanned" in text, text

    refused, text = press(page, code, "88")  # corrected: the sale goes through
    assert refused is None and "Collect ¥68" in text, text
