"""A resident on a phone signs in, claims on the campaign page and shows the QR from the wallet."""
from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image

from tests.builders import next_phone
from tests.http_client import Http
from tests.vouchers.test_claim_concurrency import open_campaign
from voucher_app.vouchers import tokens

pytestmark = pytest.mark.browser


def sign_in(page, phone: str) -> None:
    page.goto("/login")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_test_id("send-code").click()
    page.get_by_label("短信验证码").wait_for()
    outbox = page.context.new_page()
    outbox.goto(f"/dev/outbox?phone={phone}")
    code = re.search(r"(?<!\d)\d{6}(?!\d)", outbox.locator(".sms-text").first.inner_text()).group(0)
    outbox.close()
    page.get_by_label("短信验证码").fill(code)
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("who").wait_for()


def test_resident_claims_and_shows_the_qr(phone_page, server, app, clock):
    campaign = open_campaign(Http(server.url), 5, limit_per_resident=1, limit_per_round=1)
    page = phone_page
    sign_in(page, next_phone())

    page.goto(f"/campaigns/{campaign['id']}")
    assert page.get_by_test_id("campaign-status").inner_text() == "进行中"
    page.get_by_test_id("claim").first.click()
    page.wait_for_url("**/wallet")
    card = page.get_by_test_id("voucher").first
    assert "满50减20" in card.inner_text()
    assert card.get_by_test_id("voucher-status").inner_text() == "可使用"

    card.get_by_test_id("show-qr").click()
    page.locator("[data-testid=qr] svg").wait_for()
    page.wait_for_function("document.querySelector('[data-testid=typed-code]').textContent.length > 5")
    typed = page.get_by_test_id("typed-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}-\d{4}", typed)

    shot = page.get_by_test_id("qr").screenshot()
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert decoded, "the QR on screen could not be read"
    voucher_id = tokens.verify(decoded[0].text, tokens_now())
    assert voucher_id.upper().endswith(typed[:5] + typed[6:11])

    page.goto(f"/campaigns/{campaign['id']}")  # the limit is one: the page still offers, the server refuses
    page.get_by_test_id("claim").first.click()
    assert "最多" in page.locator(".flash-error").inner_text()


def tokens_now():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)
