"""A bureau officer drafts a campaign in the one-form editor, in a real browser, watching the live
totals, then publishes it from the campaign page.

The live server keeps the real wall clock, so the campaign's dates are set from the real "now".
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from tests.builders import PASSWORD, make_staff
from voucher_app.core.roles import Role

pytestmark = pytest.mark.browser

CITY = ZoneInfo("Asia/Shanghai")


def local(when: dt.datetime) -> str:
    """A time as a datetime-local input takes it, in the city's zone."""
    return when.astimezone(CITY).strftime("%Y-%m-%dT%H:%M")


def test_admin_drafts_a_campaign_with_live_totals_and_publishes_it(desk_page, server):
    page = desk_page
    admin = make_staff(Role.admin)
    start = (dt.datetime.now(CITY) + dt.timedelta(hours=2)).replace(second=0, microsecond=0)

    page.goto("/staff/login")
    page.locator("[name=username]").fill(admin.username)
    page.locator("[name=password]").fill(PASSWORD)
    page.get_by_test_id("staff-sign-in").click()
    page.get_by_test_id("who").wait_for()

    page.goto("/bureau/campaigns")
    page.get_by_test_id("new-campaign").click()
    editor = page.get_by_test_id("campaign-editor")
    editor.wait_for()
    exposure = page.get_by_test_id("exposure")
    balance = page.get_by_test_id("balance")

    page.locator("[name=name]").fill("浏览器测试·夜间消费券")
    page.locator("[name=kind]").select_option("night_economy")
    page.locator("input[name=measure_codes][value=M12]").check()
    page.locator("[name=budget]").fill("3000")
    page.locator("[name=starts_at]").fill(local(start))
    page.locator("[name=ends_at]").fill(local(start + dt.timedelta(days=30)))

    page.locator("[name=tiers-0-name]").fill("满100减30")
    page.locator("[name=tiers-0-threshold]").fill("100")
    page.locator("[name=tiers-0-discount]").fill("30")
    page.locator("[name=tiers-0-quantity]").fill("100")
    assert exposure.inner_text() == "3,000.00"
    assert "short" not in balance.get_attribute("class")

    page.get_by_test_id("add-tier").click()
    page.locator("[name=tiers-1-name]").fill("10元券")
    page.locator("[name=tiers-1-discount]").fill("10")
    page.locator("[name=tiers-1-quantity]").fill("50")
    assert exposure.inner_text() == "3,500.00"
    assert "short" in balance.get_attribute("class")  # 3,500 of vouchers on a 3,000 budget
    assert balance.locator("[data-balance-amount]").inner_text() == "500.00"
    page.locator("[name=budget]").fill("5000.50")
    assert "short" not in balance.get_attribute("class")
    assert balance.locator("[data-balance-amount]").inner_text() == "1,500.50"

    # The new tier got its column in the rounds table.
    page.locator("[name=rounds-0-release_at]").fill(local(start))
    page.locator("[name=rounds-0-q-0]").fill("60")
    page.locator("[name=rounds-0-q-1]").fill("50")
    tier_rows = page.locator("[data-tier-row]")
    assert "mismatch" in tier_rows.nth(0).locator("[data-released]").get_attribute("class")  # 60 of 100
    assert "mismatch" not in tier_rows.nth(1).locator("[data-released]").get_attribute("class")

    page.get_by_test_id("add-round").click()
    page.locator("[name=rounds-1-release_at]").fill(local(start + dt.timedelta(days=7)))
    page.locator("[name=rounds-1-q-0]").fill("40")
    assert "mismatch" not in tier_rows.nth(0).locator("[data-released]").get_attribute("class")
    assert page.locator("[data-q-head]").nth(1).inner_text() == "10元券"

    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(r"/bureau/campaigns/[0-9a-z]{26}$"))
    assert page.get_by_test_id("campaign-name").inner_text() == "浏览器测试·夜间消费券"
    assert page.get_by_test_id("campaign-status").get_attribute("data-status") == "draft"
    assert page.get_by_test_id("exposure").inner_text().startswith("¥3,500.00")
    page.get_by_test_id("ready").wait_for()

    page.get_by_test_id("publish").click()
    page.get_by_test_id("publish").wait_for(state="detached")
    assert page.get_by_test_id("campaign-status").get_attribute("data-status") in ("scheduled", "open")
    rules = page.get_by_test_id("tier-rule").all_inner_texts()
    assert rules == ["满100减30", "10元无门槛"]


def test_admin_switches_to_a_lottery_and_a_percent_tier(desk_page, server):
    page = desk_page
    admin = make_staff(Role.admin)
    start = (dt.datetime.now(CITY) + dt.timedelta(hours=2)).replace(second=0, microsecond=0)

    page.goto("/staff/login")
    page.locator("[name=username]").fill(admin.username)
    page.locator("[name=password]").fill(PASSWORD)
    page.get_by_test_id("staff-sign-in").click()
    page.get_by_test_id("who").wait_for()
    page.goto("/bureau/campaigns/new")
    page.get_by_test_id("campaign-editor").wait_for()

    page.locator("[name=name]").fill("浏览器测试·抽签消费券")
    page.locator("[name=kind]").select_option("night_economy")
    page.locator("input[name=measure_codes][value=M12]").check()
    page.locator("[name=budget]").fill("5000")
    page.locator("[name=starts_at]").fill(local(start))
    page.locator("[name=ends_at]").fill(local(start + dt.timedelta(days=30)))

    # First come: the round's release time shows, the lottery window does not.
    assert page.locator("[name=rounds-0-release_at]").is_visible()
    assert not page.locator("[name=rounds-0-draw_at]").is_visible()
    page.locator("input[name=allocation][value=lottery]").check()
    assert not page.locator("[name=rounds-0-release_at]").is_visible()
    assert page.locator("[name=rounds-0-draw_at]").is_visible()

    # A percent tier counts its cap against the budget.
    page.locator("[name=tiers-0-name]").fill("8折券")
    page.locator("[name=tiers-0-kind]").select_option("percent")
    page.locator("[name=tiers-0-percent]").fill("20")
    page.locator("[name=tiers-0-cap]").fill("50")
    page.locator("[name=tiers-0-quantity]").fill("60")
    assert page.get_by_test_id("exposure").inner_text() == "3,000.00"

    page.get_by_test_id("add-round").click()  # the new row's inputs are numbered and shown as a lottery's
    assert page.locator("[name=rounds-1-entry_opens_at]").is_visible()
    page.locator("[data-round-row]").nth(1).locator("[data-remove-round]").click()

    page.locator("[name=rounds-0-entry_opens_at]").fill(local(start))
    page.locator("[name=rounds-0-entry_closes_at]").fill(local(start + dt.timedelta(days=1)))
    page.locator("[name=rounds-0-draw_at]").fill(local(start + dt.timedelta(days=1, hours=1)))
    page.locator("[name=rounds-0-q-0]").fill("60")
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(r"/bureau/campaigns/[0-9a-z]{26}$"))
    page.get_by_test_id("ready").wait_for()
    assert page.get_by_test_id("allocation").inner_text() == "报名抽签"
    assert page.get_by_test_id("tier-rule").all_inner_texts() == ["8折，最高减50元"]
