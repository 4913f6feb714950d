"""A viewer (责任单位) reads the reports in a real browser: the measures, then a campaign with its charts
and figures, then the live monitor, which counts a claim made meanwhile over HTTP without a reload.

The live server keeps the real wall clock, so the campaign opens "now" and the tally runs at "now".
"""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from merchants.models import Enrolment, EnrolmentStatus, MerchantStatus
from tests.builders import PASSWORD, make_account, make_merchant, make_staff, next_phone
from tests.http_client import Http
from tests.vouchers.test_claim_concurrency import claim, open_campaign
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.scheduler.runs import run_due

pytestmark = pytest.mark.browser


def a_sale(http: Http, campaign: dict, clock) -> None:
    """A resident claims a 满50减20 voucher and spends ¥88 with it at an enrolled shop."""
    shop, _owner = make_merchant(MerchantStatus.approved, name="报表测试小馆")
    db.session.add(Enrolment(campaign_id=campaign["id"], merchant_id=shop.id, status=EnrolmentStatus.approved,
                             created_at=clock.now()))
    db.session.commit()
    resident = http.resident_token(next_phone())
    status, voucher = claim(http, campaign, resident)
    assert status == 201, voucher
    _, token, _ = http.get(f"/api/v1/me/vouchers/{voucher['id']}/token", token=resident)
    _, cashier, _ = http.post("/api/v1/auth/token", {"username": make_account(Role.cashier, shop).username,
                                                     "password": PASSWORD})
    status, body, _ = http.post("/api/v1/redemptions", {"token": token["token"], "bill_cents": 8_800},
                                token=cashier["token"], headers={"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, body


def test_a_viewer_follows_the_reports_to_the_live_monitor(desk_page, server, clock):
    http = Http(server.url)
    campaign = open_campaign(http, 50)
    a_sale(http, campaign, clock)
    run_due(dt.datetime.now(dt.timezone.utc))  # the scheduler's tally, as its process would run it

    page = desk_page
    viewer = make_staff(Role.viewer)
    page.goto("/staff/login")
    page.locator("[name=username]").fill(viewer.username)
    page.locator("[name=password]").fill(PASSWORD)
    page.get_by_test_id("staff-sign-in").click()
    page.get_by_test_id("who").wait_for()

    page.locator(".topnav a[href='/bureau/reports']").click()
    page.get_by_test_id("measures").wait_for()
    assert "M19" in page.locator("[data-testid=measure-row][data-code=M19]").inner_text()
    page.locator("[data-testid=measure-row][data-code=M19] a").first.click()
    page.get_by_role("link", name=campaign["name"]).click()

    page.get_by_test_id("report-name").wait_for()
    assert page.get_by_test_id("report-name").inner_text() == campaign["name"]
    assert page.get_by_test_id("kpi-claimed").locator(".kpi-value").inner_text() == "1"
    assert page.get_by_test_id("kpi-subsidy").locator(".kpi-value").inner_text() == "20"
    assert page.get_by_test_id("kpi-consumption").locator(".kpi-value").inner_text() == "88"
    assert page.get_by_test_id("kpi-leverage").locator(".kpi-value").inner_text() == "4.40"
    day_chart = page.locator("[data-testid=chart-day] svg")
    assert day_chart.is_visible() and day_chart.bounding_box()["width"] > 300
    assert page.locator("[data-testid=chart-day] svg rect.chart-series-1").count() >= 2  # legend and a bar
    assert "报表测试小馆" in page.get_by_test_id("merchants").inner_text()

    page.get_by_test_id("live-link").click()
    claimed = page.get_by_test_id("live-claimed")
    claimed.wait_for()
    assert claimed.inner_text() == "1" and page.get_by_test_id("live-remaining").inner_text() == "49"
    status, _ = claim(http, campaign, http.resident_token(next_phone()))
    assert status == 201
    page.wait_for_function("document.querySelector('[data-testid=live-claimed]').textContent === '2'")
    assert page.get_by_test_id("live-remaining").inner_text() == "48"
    assert page.locator("[data-testid=live-tier] [data-field=claimed]").inner_text() == "2"
    page.wait_for_function("document.querySelector('[data-testid=live-rate]').textContent !== '—'")
    assert float(page.get_by_test_id("live-rate").inner_text()) >= 0
