"""The bureau's editor and the campaign pages with the fair-allocation fields (issue #16): the allocation
switch and a lottery round's window, percent tiers, reserved quotas, who may claim and the daily limits.

The app's clock stands at 2026-12-01T12:00Z, which is 20:00 in the city (Asia/Shanghai, +08:00).
"""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from tests.app.test_pages import text
from tests.builders import bearer, make_staff, staff_token
from tests.campaign_data import lottery_body
from tests.campaigns.test_campaign_pages import (
    GOOD_FORM,
    draft,
    editor_post,
    messages_for,
    sign_in_staff,
    the_campaign,
    value_of,
)
from voucher_app.core.roles import Role

UTC = dt.timezone.utc


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def admin(client, city):
    sign_in_staff(client, Role.admin)
    return client


@pytest.fixture
def api_admin(client, city) -> dict:
    return bearer(staff_token(client, make_staff(Role.admin).username))


# GOOD_FORM (tier rows 0 and 2, round rows 0 and 4) as a lottery: tier row 2 becomes 15% off up to 12.50,
# tier row 0 keeps 50 vouchers for the elderly. The release times and the discount typed before the
# switches stay in the form, and are not read.
LOTTERY_FORM = {
    **GOOD_FORM, "allocation": "lottery", "resident_districts": ["lizhou"], "requires_profile": "1",
    "limit_per_day": "1", "limit_per_merchant_day": "2",
    "tiers-2-kind": "percent", "tiers-2-percent": "15", "tiers-2-cap": "12.5",
    "tiers-0-kind": "amount", "tiers-0-reserved-elderly-quantity": "50",
    "tiers-0-reserved-elderly-until": "2026-12-05T20:00",
    "tiers-0-reserved-low_income-quantity": "", "tiers-0-reserved-low_income-until": "",
    "rounds-0-entry_opens_at": "2026-12-01T22:00", "rounds-0-entry_closes_at": "2026-12-02T20:00",
    "rounds-0-draw_at": "2026-12-02T21:00",
    "rounds-4-entry_opens_at": "2026-12-07T20:00", "rounds-4-entry_closes_at": "2026-12-08T20:00",
    "rounds-4-draw_at": "2026-12-08T20:00:30",
}


def city(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(UTC)


def test_admin_drafts_a_lottery_with_a_percent_tier_and_a_reserved_quota_through_the_form(admin):
    response = editor_post(admin, "/bureau/campaigns/new", LOTTERY_FORM)
    assert response.status_code == 302, text(response)
    campaign = the_campaign(response.headers["Location"].rsplit("/", 1)[1])

    assert campaign.allocation == "lottery" and campaign.resident_districts == ["lizhou"]
    assert campaign.requires_profile is True
    assert (campaign.limit_per_day, campaign.limit_per_merchant_day) == (1, 2)
    amount, percent = campaign.tiers
    assert (amount.percent, amount.discount_cents) == (None, 2_999)
    assert amount.reserved == [{"group": "elderly", "quantity": 50, "until": "2026-12-05T12:00:00+00:00"}]
    assert (percent.percent, percent.cap_cents, percent.discount_cents, percent.reserved) == (15, 1_250, 1_250, [])
    assert [(r.entry_opens_at, r.entry_closes_at, r.draw_at, r.release_at) for r in campaign.rounds] == [
        (city(2026, 12, 1, 22), city(2026, 12, 2, 20), city(2026, 12, 2, 21), city(2026, 12, 2, 21)),
        (city(2026, 12, 7, 20), city(2026, 12, 8, 20), city(2026, 12, 8, 20, 0, 30), city(2026, 12, 8, 20, 0, 30))]
    assert [[r.quantity_of(t.id) for t in campaign.tiers] for r in campaign.rounds] == [[600, 500], [400, 0]]


def test_the_editor_shows_a_lottery_draft_as_it_was_saved(admin):
    response = editor_post(admin, "/bureau/campaigns/new", LOTTERY_FORM)
    page = text(admin.get(response.headers["Location"] + "/edit"))
    assert 'value="lottery" data-allocation-choice checked' in page and 'data-allocation="lottery"' in page
    assert re.search(r'id="tiers-1-kind"[^>]*>.*?<option value="percent" selected>', page, re.S)
    assert value_of(page, "tiers-1-percent") == "15" and value_of(page, "tiers-1-cap") == "12.50"
    assert value_of(page, "tiers-1-discount") == ""
    assert value_of(page, "tiers-0-reserved-elderly-quantity") == "50"
    assert value_of(page, "tiers-0-reserved-elderly-until") == "2026-12-05T20:00"
    assert value_of(page, "tiers-0-reserved-low_income-quantity") == ""
    assert value_of(page, "rounds-0-entry_opens_at") == "2026-12-01T22:00"
    assert value_of(page, "rounds-1-draw_at") == "2026-12-08T20:00:30"
    assert value_of(page, "rounds-0-release_at") == ""
    assert value_of(page, "limit_per_day") == "1" and value_of(page, "limit_per_merchant_day") == "2"
    assert 'name="resident_districts" value="lizhou" checked' in page
    assert 'name="requires_profile" value="1" checked' in page


def test_saving_a_lottery_draft_unchanged_changes_nothing(admin, api_admin):
    body = draft(admin, api_admin, **lottery_body(requires_profile=True, resident_districts=["zhaohua"],
                                                  limit_per_merchant_day=3))
    body = admin.patch(f"/api/v1/campaigns/{body['id']}", headers=api_admin, json={"tiers": [
        {"name": "8折券", "threshold_cents": 0, "percent": 20, "cap_cents": 5_000, "quantity": 1_000,
         "reserved": [{"group": "low_income", "quantity": 30, "until": "2026-12-05T20:00:00+08:00"}]},
        {"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": 500}]}).get_json()
    path = f"/bureau/campaigns/{body['id']}/edit"
    page = text(admin.get(path))
    fields = {k: html.unescape(v) for k, v in re.findall(r'<input id="([^"]+)" name="\1"[^>]*?value="([^"]*)"', page)}
    fields.update(dict(re.findall(r'<select id="(tiers-\d+-kind)"[^>]*>.*?<option value="(\w+)" selected>', page, re.S)))
    fields.update({"kind": "night_economy", "measure_codes": ["M12"], "merchant_categories": ["catering", "retail"],
                   "districts": ["lizhou", "zhaohua"], "valid_weekdays": [str(d) for d in range(1, 8)],
                   "allocation": "lottery", "resident_districts": ["zhaohua"], "requires_profile": "1"})
    response = editor_post(admin, path, fields)
    assert response.status_code == 302, text(response)
    after = admin.get(f"/api/v1/campaigns/{body['id']}", headers=api_admin).get_json()
    for key in ("allocation", "resident_districts", "requires_profile", "limit_per_day", "limit_per_merchant_day",
                "budget_cents", "starts_at", "ends_at"):
        assert after[key] == body[key], key
    tier_keys = ("name", "threshold_cents", "discount_cents", "percent", "cap_cents", "quantity", "reserved")
    assert [{k: t[k] for k in tier_keys} for t in after["tiers"]] == [{k: t[k] for k in tier_keys} for t in body["tiers"]]
    round_keys = ("release_at", "entry_opens_at", "entry_closes_at", "draw_at", "quantities")
    assert [{k: r[k] for k in round_keys} for r in after["rounds"]] == \
        [{k: r[k] for k in round_keys} for r in body["rounds"]]


def test_a_lottery_form_with_mistakes_puts_each_message_beside_its_input(admin):
    mistakes = {**LOTTERY_FORM, "tiers-2-cap": "", "rounds-4-draw_at": "", "limit_per_day": "0",
                "tiers-0-reserved-elderly-until": "tomorrow", "tiers-0-reserved-low_income-until": "2026-12-05T20:00"}
    response = editor_post(admin, "/bureau/campaigns/new", mistakes)
    page = text(response)
    assert response.status_code == 422
    # Posted rows 0, 2 (tiers) and 0, 1, 4 (rounds) come back as rows 0, 1 and 0, 1, 2.
    assert messages_for(page, "tiers-1-cap") == ["折扣券须设置封顶金额，即每张券最多可减的金额。"]
    assert messages_for(page, "rounds-2-draw_at") == ["此项为必填项。"]
    assert messages_for(page, "rounds-2-release_at") == []  # not read in a lottery
    assert messages_for(page, "limit_per_day") == ["不能小于 1。"]
    assert len(messages_for(page, "tiers-0-reserved-elderly-until")) == 1  # not a time
    assert messages_for(page, "tiers-0-reserved-low_income-quantity") == ["此项为必填项。"]
    assert value_of(page, "tiers-0-reserved-elderly-until") == "tomorrow"
    assert value_of(page, "tiers-1-percent") == "15"


def test_a_first_come_form_ignores_the_lottery_inputs(admin):
    form = {**GOOD_FORM, "allocation": "fcfs", "rounds-0-draw_at": "2026-12-02T21:00", "tiers-2-percent": "15"}
    response = editor_post(admin, "/bureau/campaigns/new", form)
    assert response.status_code == 302, text(response)
    campaign = the_campaign(response.headers["Location"].rsplit("/", 1)[1])
    assert campaign.allocation == "fcfs" and [r.draw_at for r in campaign.rounds] == [None, None]
    assert [t.percent for t in campaign.tiers] == [None, None]
    assert (campaign.limit_per_day, campaign.limit_per_merchant_day, campaign.requires_profile) == (None, None, False)


def test_the_editor_notes_what_blocks_publishing_a_lottery(admin, api_admin):
    body = lottery_body()
    body["rounds"][0]["draw_at"] = body["rounds"][0]["entry_opens_at"]  # drawn before entries close
    body["tiers"][0]["reserved"] = [{"group": "elderly", "quantity": 2_000, "until": "2026-12-05T20:00:00+08:00"}]
    created = draft(admin, api_admin, **body)
    page = text(admin.get(f"/bureau/campaigns/{created['id']}/edit"))
    assert messages_for(page, "rounds-0-draw_at") == ["开奖时间不能早于报名截止时间。"]
    assert messages_for(page, "tiers-0-reserved") == ["预留名额（2000 张）不能超过该券种的总量（1000 张）。"]
    detail = text(admin.get(f"/bureau/campaigns/{created['id']}"))
    assert f"/bureau/campaigns/{created['id']}/edit#rounds-0-draw_at" in detail
    assert f"/bureau/campaigns/{created['id']}/edit#tiers-0-reserved" in detail


# Reading ------------------------------------------------------------------------------------------------

def _fair_campaign(admin, api_admin) -> dict:
    body = lottery_body(budget_cents=7_000_000, resident_districts=["lizhou", "zhaohua"], requires_profile=True,
                        limit_per_day=1, limit_per_merchant_day=2)
    body["tiers"] = [
        {"name": "8折券", "threshold_cents": 0, "percent": 20, "cap_cents": 5_000, "quantity": 1_000,
         "reserved": [{"group": "elderly", "quantity": 50, "until": "2026-12-04T20:00:00+08:00"},
                      {"group": "low_income", "quantity": 20, "until": "2026-12-04T20:00:00+08:00"}]},
        {"name": "85折券", "threshold_cents": 10_000, "percent": 15, "cap_cents": 3_000, "quantity": 500}]
    return draft(admin, api_admin, **body)


def test_the_bureau_page_shows_the_rules_in_city_terms(admin, api_admin):
    campaign = _fair_campaign(admin, api_admin)
    page = html.unescape(text(admin.get(f"/bureau/campaigns/{campaign['id']}")))
    tiers = re.search(r'data-testid="tiers">(.*?)</table>', page, re.S).group(1)
    assert "8折，最高减50元" in tiers and "满100元享8.5折，最高减30元" in tiers
    assert "其中 50 张留给 60 岁以上老人，至 2026-12-04 20:00" in tiers
    assert "其中 20 张留给低收入居民，至 2026-12-04 20:00" in tiers
    assert re.search(r'data-testid="allocation">报名抽签<', page)
    assert "报名 2026-12-01 22:00 – 2026-12-02 20:00，2026-12-02 21:00 开奖" in page
    assert re.search(r'data-testid="resident-districts">利州区、昭化区<', page)
    assert "仅限已填写居住区县和身份证号的居民领取。" in page
    assert "每人每天限领 1 张" in page and "每人每天在同一商户限用 2 张" in page


def test_the_bureau_page_in_english(admin, api_admin):
    campaign = _fair_campaign(admin, api_admin)
    page = html.unescape(text(admin.get(f"/bureau/campaigns/{campaign['id']}?lang=en")))
    assert "20% off, up to ¥50" in page and "15% off a bill of ¥100 or more, up to ¥30" in page
    assert "50 of them kept for residents aged 60 or over, until 2026-12-04 20:00" in page
    assert "Lottery among entries" in page and "1 per person per day" in page


def test_a_first_come_campaign_page_says_so(admin, api_admin):
    campaign = draft(admin, api_admin)
    page = text(admin.get(f"/bureau/campaigns/{campaign['id']}"))
    assert re.search(r'data-testid="allocation">先到先得<', page)
    assert re.search(r'data-testid="resident-districts">不限居住区县<', page)
    assert "不限每日领取张数" in page and 'data-testid="requires-profile"' not in page


def test_residents_read_the_rules_the_lottery_and_who_may_claim(admin, api_admin, client):
    campaign = _fair_campaign(admin, api_admin)
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish", headers=api_admin).status_code == 200
    page = html.unescape(text(client.get(f"/campaigns/{campaign['id']}")))
    rules = re.findall(r'data-testid="tier-rule">([^<]*)<', page)
    assert rules == ["8折，最高减50元", "满100元享8.5折，最高减30元"]
    assert "其中 50 张留给 60 岁以上老人，至 2026-12-04 20:00" in page
    assert "仅限利州区、昭化区居民。" in page and "仅限已填写居住区县和身份证号的居民领取。" in page
    assert "报名 2026-12-01 22:00 – 2026-12-02 20:00，2026-12-02 21:00 开奖" in page
    assert "每人每天限领 1 张" in page and "每人每天在同一商户限用 2 张" in page
    listing = html.unescape(text(client.get("/campaigns")))
    assert "8折，最高减50元" in listing
