"""The voucher screen once the voucher is used (issue #20, item 5): no empty square where the QR was and
no stray "—" under the typed-code hint; the screen says plainly that the voucher is used, both when it
changes in front of the resident and when the resident opens it again later."""
from __future__ import annotations

import pytest

from tests.builders import next_phone
from tests.http_client import Http
from tests.redemptions.live_shop import LiveShop
from tests.vouchers.test_browser_claim import sign_in

pytestmark = pytest.mark.browser

LEFT_BEHIND = """() => {
  const screen = document.querySelector('[data-testid=voucher-screen]');
  const shown = (el) => { const box = el.getBoundingClientRect(); return box.width > 0 && box.height > 0; };
  return {
    qr: Array.from(screen.querySelectorAll('.qr-box, [data-testid=qr]')).filter(shown).length,
    typed: Array.from(screen.querySelectorAll('[data-testid=typed-code], .typed-label')).filter(shown).length,
    dashes: screen.innerText.split('\\n').filter((line) => line.trim() === '—').length,
  };
}"""


def test_a_used_voucher_shows_its_state_and_nothing_of_its_code(phone_page, server, clock):
    http = Http(server.url)
    shop = LiveShop.open(http, clock)
    page = phone_page
    sign_in(page, next_phone())
    page.goto(f"/campaigns/{shop.campaign['id']}")
    page.get_by_test_id("claim").first.click()
    page.wait_for_url("**/wallet")
    page.get_by_test_id("show-qr").first.click()
    page.wait_for_function("document.querySelector('[data-testid=typed-code]').textContent.length > 5")
    typed = page.get_by_test_id("typed-code").inner_text()
    assert page.evaluate(LEFT_BEHIND) == {"qr": 1, "typed": 2, "dashes": 0}

    status, sale = shop.redeem(typed, 5_000)
    assert status == 201, sale
    page.wait_for_function(
        "document.querySelector('[data-testid=voucher-screen]').getAttribute('data-status') === 'redeemed'",
        timeout=15_000)
    assert page.evaluate(LEFT_BEHIND) == {"qr": 0, "typed": 0, "dashes": 0}
    assert page.get_by_test_id("voucher-state").inner_text().startswith("已使用")

    page.reload()  # opened again later, as the server renders it
    assert page.evaluate(LEFT_BEHIND) == {"qr": 0, "typed": 0, "dashes": 0}
    assert page.get_by_test_id("voucher-state").inner_text() == "已使用"
