"""Every table on a phone (issue #20, item 4): at 390 px and at 200% zoom (195 CSS px, see
``test_browser_large_text.py``) the page never grows wider than the screen; each table scrolls sideways
in its own named, focusable region with its first column kept in view; no first column is squeezed to a
character or two; and every column has a header that says what it holds.

One browser, one context per person, each signed in once and walking its pages at both widths.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.builders import PASSWORD, make_staff
from tests.fraud.plant import EVALUATED_AT, Plant, city_time
from tests.http_client import Http
from tests.redemptions.live_shop import LiveShop
from tests.scenario import make_resident
from tests.settlement.test_settlements_api import owner_of, settled, world  # noqa: F401  (fixtures)
from voucher_app.accounts.models import User
from voucher_app.complaints.service import file_complaint
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.fraud import service as fraud
from voucher_app.fraud.models import Flag
from voucher_app.settlement.models import SettlementStatement

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ZOOMED = {"width": 195, "height": 422}  # the same phone at 200% browser zoom

# What a person would notice about the tables of the page on screen; the figures' ``<details>`` are
# opened first, as a reader would to see them.
TABLE_PROBLEMS = """() => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  const problems = [];
  // The layout viewport: a phone's innerWidth grows with a page that is too wide (it zooms out to fit).
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width) {
    const sticking = Array.from(document.body.querySelectorAll('*'))  // the outermost things that stick out
      .filter((el) => el.getBoundingClientRect().right > width + 1 && !el.closest('.table-scroll'))
      .filter((el, _, all) => !all.includes(el.parentElement))
      .map((el) => el.tagName.toLowerCase() + '.' + Array.from(el.classList).join('.') + ' "' + (el.innerText || '').trim().slice(0, 20) + '"');
    problems.push('the page is ' + document.documentElement.scrollWidth + ' px wide in a ' + width + ' px screen: ' +
      sticking.slice(0, 3).join(', '));
  }
  const tables = Array.from(document.querySelectorAll('table'));
  tables.forEach((table, n) => {
    const name = 'table ' + (table.dataset.testid || n + 1);
    const region = table.parentElement;
    if (!region.classList.contains('table-scroll')) {
      problems.push(name + ' does not sit in a .table-scroll region');
      return;
    }
    if (region.getAttribute('role') !== 'region' || !(region.getAttribute('aria-label') || '').trim()
        || region.tabIndex !== 0) {
      problems.push(name + "'s scrolling region is not a focusable, named region");
    }
    if (region.getBoundingClientRect().right > width + 1) {
      problems.push(name + "'s region runs off the screen to " + Math.round(region.getBoundingClientRect().right) + ' px');
    }
    table.querySelectorAll('th').forEach((th, i) => {
      if (!th.textContent.trim()) { problems.push(name + ': header ' + (i + 1) + ' has no text'); }
    });
    const em = parseFloat(getComputedStyle(table).fontSize);
    const firsts = Array.from(table.tBodies).flatMap((body) => Array.from(body.rows))
      .map((row) => row.cells[0]).filter((cell) => cell && cell.colSpan === 1);
    firsts.forEach((cell) => {
      const w = cell.getBoundingClientRect().width;
      if (w < 3.5 * em) {
        problems.push(name + ': first column only ' + Math.round(w) + ' px wide ("' + cell.innerText.trim().slice(0, 20) + '")');
      }
    });
    if (firsts.length && region.scrollWidth > region.clientWidth + 1) {  // scrolled to the far right
      region.scrollLeft = region.scrollWidth;
      const cell = firsts[0].getBoundingClientRect(), box = region.getBoundingClientRect();
      if (cell.left < box.left - 1) {
        problems.push(name + ': the first column scrolls out of sight (' + Math.round(cell.left) + ' < ' + Math.round(box.left) + ')');
      }
      region.scrollLeft = 0;
    }
  });
  return {tables: tables.length, problems: problems};
}"""


def signed_in(browser, server, username: str | None):
    context = browser.new_context(viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    if username:
        page.goto("/staff/login")
        page.locator("[name=username]").fill(username)
        page.locator("[name=password]").fill(PASSWORD)
        page.get_by_test_id("staff-sign-in").click()
        page.get_by_test_id("who").wait_for()
    return context, page


@pytest.fixture
def pages(settled, server, clock):  # noqa: F811  (the settled world is a fixture)
    """Each person and the pages with tables they open, in a world where every table has rows."""
    shop = LiveShop.open(Http(server.url), clock)  # a sale today, by the wall clock: the till's list
    resident, voucher = shop.claim()
    status, sale = shop.redeem(shop.qr(resident, voucher), 5_000)
    assert status == 201, sale

    plant = Plant()  # a fraud flag with its evidence
    night_shop, cashier = plant.shop(name="夜猫子烧烤", opening_hours="10:00-22:00")
    plant.sales(night_shop, cashier, [city_time(day, 3, 15) for day in range(2, 10)])
    fraud.evaluate(EVALUATED_AT.astimezone(dt.timezone.utc))
    flag_id = db.session.scalars(select(Flag.id)).first()

    file_complaint(make_resident(), settled.a.id, "surcharge", "用券后收银员按原价加了十元", None, clock.now())
    statement_id = db.session.scalars(select(SettlementStatement.id).where(
        SettlementStatement.merchant_id == settled.a.id).order_by(SettlementStatement.day)).first()
    campaign_id = settled.c.id
    return {
        make_staff(Role.viewer).username: [
            "/bureau/reports", "/bureau/reports/measures/M12", f"/bureau/reports/campaigns/{campaign_id}",
            f"/bureau/reports/campaigns/{shop.campaign['id']}/live", "/bureau/fraud-rules"],
        make_staff(Role.admin).username: [
            "/bureau/merchants?status=approved", f"/bureau/merchants/{settled.a.id}",
            "/bureau/enrolments?status=all", "/bureau/settlements", f"/bureau/settlements/{statement_id}",
            "/bureau/flags", f"/bureau/flags/{flag_id}", "/bureau/complaints", "/bureau/warnings",
            "/bureau/campaigns", f"/bureau/campaigns/{campaign_id}"],
        owner_of(settled.a).username: ["/shop/settlements", f"/shop/settlements/{statement_id}", "/shop"],
        db.session.get(User, shop.cashier_id).username: ["/till"],
        None: ["/shops", "/public/complaints"],
    }


def test_every_table_fits_a_phone_and_200_percent_zoom(browser, server, pages):
    problems, seen = [], 0
    for username, paths in pages.items():
        context, page = signed_in(browser, server, username)
        for viewport in (PHONE, ZOOMED):
            page.set_viewport_size(viewport)
            for path in paths:
                page.goto(path)
                found = page.evaluate(TABLE_PROBLEMS)
                if not found["tables"]:
                    problems.append(f"{path}: no table to check")
                seen += found["tables"]
                problems += [f"{viewport['width']} px {path}: {p}" for p in found["problems"]]
        context.close()
    assert not problems, "\n".join(problems)
    assert seen >= 60
