"""Issue #21, item 3: the wallet's claim and the till's sale resend themselves after a network error or a
busy server, with the same key, and say so — at a phone's width, in a real browser.

The network is broken in the browser (Playwright's routing): a request that reached the server and
committed but whose answer was lost, a request that never left, a 503 ``busy`` with Retry-After. The
resident and the cashier see "retrying…", then the normal result page; the database holds one voucher
and one sale, and every attempt carried the same idempotency key.
"""
from __future__ import annotations

import urllib.parse

import pytest
from sqlalchemy import func, select

from tests.builders import next_phone
from tests.http_client import Http
from tests.redemptions.live_shop import LiveShop, till_page
from tests.vouchers.test_browser_claim import sign_in
from tests.vouchers.test_claim_concurrency import open_campaign
from voucher_app.core.extensions import db
from voucher_app.redemptions.models import Redemption
from voucher_app.vouchers.models import Voucher

pytestmark = pytest.mark.browser

WATCH_STATUS = """() => {
  window.__seen = [];
  new MutationObserver(() => {
    const line = document.querySelector('[data-testid=resend-status]');
    if (line && line.textContent) { window.__seen.push(line.textContent); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def flaky(page, pattern: str, script: list[str]) -> list[dict]:
    """Route POSTs to ``pattern`` through ``script``: "lost" (sent to the server, answer dropped),
    "down" (never sent), "busy" (503 with Retry-After: 1), then the real thing. Returns their forms."""
    sent: list[dict] = []

    def handle(route, request):
        if request.method != "POST":
            return route.continue_()
        sent.append(dict(urllib.parse.parse_qsl(request.post_data or "")))
        step = script[len(sent) - 1] if len(sent) <= len(script) else "through"
        if step == "lost":
            route.fetch()  # the server does it …
            return route.abort("connectionreset")  # … and the answer never arrives
        if step == "down":
            return route.abort("internetdisconnected")
        if step == "busy":
            return route.fulfill(status=503, headers={"Retry-After": "1"}, body="busy")
        return route.continue_()

    page.route(pattern, handle)
    return sent


def test_a_claim_whose_answer_was_lost_is_resent_with_its_key_and_counts_once(phone_page, server, app):
    campaign = open_campaign(Http(server.url), 5, limit_per_resident=1, limit_per_round=1)
    page = phone_page
    sign_in(page, next_phone())
    page.goto(f"/campaigns/{campaign['id']}")
    sent = flaky(page, "**/claim*", ["lost", "busy"])
    page.evaluate(WATCH_STATUS)
    page.get_by_test_id("claim").first.click()
    page.wait_for_url("**/wallet")
    page.get_by_test_id("voucher").first.wait_for()

    assert len(sent) == 3 and len({form["claim_key"] for form in sent}) == 1  # one key, three attempts
    assert any("网络较慢，正在重试" in line for line in page.evaluate("window.__seen"))
    assert "领取成功" in page.locator(".flash-success").inner_text()  # the first answer, not "limit reached"
    assert page.get_by_test_id("voucher").count() == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Voucher).where(
        Voucher.campaign_id == campaign["id"], Voucher.resident_id.is_not(None))) == 1


def test_the_till_resends_a_sale_after_a_network_error_and_says_so(browser, server, clock):
    shop = LiveShop.open(Http(server.url), clock)
    resident, voucher = shop.claim()
    _, qr, _ = shop.http.get(f"/api/v1/me/vouchers/{voucher['id']}/token", token=resident)
    context, page = till_page(browser, server.url, shop, timeout_ms=15_000)
    sent = flaky(page, "**/till/redeem", ["down", "lost", "busy"])
    page.evaluate(WATCH_STATUS)
    page.get_by_test_id("token").fill(qr["code"])
    page.get_by_test_id("bill").fill("88")
    page.get_by_test_id("redeem").click()
    result = page.get_by_test_id("result")
    result.wait_for()

    assert "result-ok" in result.get_attribute("class"), result.inner_text()  # a sale, not a refusal
    assert any("网络较慢，正在重试" in line for line in page.evaluate("window.__seen"))
    assert len(sent) == 4 and len({form["key"] for form in sent}) == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Redemption)
                             .where(Redemption.voucher_id == voucher["id"])) == 1
    context.close()
