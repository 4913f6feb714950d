"""The bureau's campaign pages, as a browser meets them with CSRF on: the list, the one-form editor,
the campaign page with its publish and cancel buttons, and who may do what.

The app's clock stands at 2026-12-01T12:00Z, which is 20:00 in the city (Asia/Shanghai, +08:00).
"""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from campaigns.models import Campaign, CampaignStatus
from tests.app.test_pages import csrf_token, form_token, text
from tests.builders import PASSWORD, bearer, latest_code, make_staff, next_phone, staff_token
from tests.campaign_data import campaign_body
from voucher_app.core.audit import AuditRecord
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role

UTC = dt.timezone.utc


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


def sign_in_staff(client, role: Role) -> None:
    user = make_staff(role)
    token = form_token(client, "/staff/login")
    response = client.post("/staff/login", data={"username": user.username, "password": PASSWORD,
                                                 "csrf_token": token})
    assert response.status_code == 302


def sign_in_resident(client) -> None:
    phone = next_phone()
    sent = client.post("/login/code", data={"phone": phone, "csrf_token": form_token(client, "/login")})
    token = form_token(client, sent.headers["Location"])
    response = client.post("/login", data={"phone": phone, "code": latest_code(client, phone), "csrf_token": token})
    assert response.status_code == 302


def messages_for(page: str, name: str) -> list[str]:
    """The messages the editor shows beside the input called ``name``."""
    return [html.unescape(m) for m in re.findall(rf'data-for="{re.escape(name)}">([^<]*)</p>', page)]


def value_of(page: str, name: str) -> str:
    match = re.search(rf'<input id="{re.escape(name)}" name="{re.escape(name)}"[^>]*?value="([^"]*)"', page)
    assert match, f"no input {name} on the page"
    return html.unescape(match.group(1))


def status_on(page: str) -> str:
    return re.search(r'data-testid="campaign-status" data-status="(\w+)"', page).group(1)


@pytest.fixture
def admin(client, city):
    sign_in_staff(client, Role.admin)
    return client


@pytest.fixture
def api_admin(client, city) -> dict:
    """A bearer token for drafting campaigns through the API, beside the signed-in page session."""
    return bearer(staff_token(client, make_staff(Role.admin).username))


def draft(client, api_admin, **changes) -> dict:
    response = client.post("/api/v1/campaigns", json=campaign_body(**changes), headers=api_admin)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def the_campaign(campaign_id: str) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id)


def editor_post(client, path: str, fields: dict):
    return client.post(path, data={**fields, "csrf_token": form_token(client, path)})


GOOD_FORM = {
    "name": "广元夜间消费券·第二期", "kind": "night_economy", "description": "凭券在夜间街区消费",
    "measure_codes": ["M12", "M13"],
    "budget": "50,000.10",
    "starts_at": "2026-12-01T21:00", "ends_at": "2026-12-31T23:59:59",
    "merchant_categories": ["catering", "retail"], "districts": ["lizhou", "zhaohua"],
    "limit_per_resident": "2", "limit_per_round": "1", "valid_days": "7",
    "valid_from": "18:00", "valid_to": "02:00", "valid_weekdays": ["5", "6", "7"], "recycle_expired": "1",
    # Rows are numbered with a gap (a row removed without the script), and end in the spare empty row.
    "tiers-0-name": "满100减29.99", "tiers-0-threshold": "100", "tiers-0-discount": "29.99", "tiers-0-quantity": "1000",
    "tiers-2-name": "10元券", "tiers-2-threshold": "", "tiers-2-discount": "10", "tiers-2-quantity": "500",
    "tiers-3-name": "", "tiers-3-threshold": "", "tiers-3-discount": "", "tiers-3-quantity": "",
    "rounds-0-release_at": "2026-12-01T21:00", "rounds-0-q-0": "600", "rounds-0-q-2": "500", "rounds-0-q-3": "",
    "rounds-1-release_at": "", "rounds-1-q-0": "", "rounds-1-q-2": "", "rounds-1-q-3": "",
    "rounds-4-release_at": "2026-12-08T20:00:30", "rounds-4-q-0": "400", "rounds-4-q-2": "", "rounds-4-q-3": "",
}


# Creating through the form ---------------------------------------------------------------------------

def test_admin_creates_a_campaign_through_the_form(admin):
    response = editor_post(admin, "/bureau/campaigns/new", GOOD_FORM)
    assert response.status_code == 302, text(response)
    campaign_id = response.headers["Location"].rsplit("/", 1)[1]
    campaign = the_campaign(campaign_id)

    assert campaign.status is CampaignStatus.draft and campaign.name == "广元夜间消费券·第二期"
    assert campaign.kind.value == "night_economy" and campaign.measure_codes == ["M12", "M13"]
    assert campaign.description == "凭券在夜间街区消费"
    assert campaign.budget_cents == 5_000_010  # yuan → fen exactly
    assert campaign.starts_at == dt.datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # 21:00 city time
    assert campaign.ends_at == dt.datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)
    assert campaign.merchant_categories == ["catering", "retail"] and campaign.districts == ["lizhou", "zhaohua"]
    assert (campaign.limit_per_resident, campaign.limit_per_round, campaign.valid_days) == (2, 1, 7)
    assert (campaign.valid_from, campaign.valid_to, campaign.valid_weekdays) == ("18:00", "02:00", [5, 6, 7])
    assert campaign.recycle_expired is True
    assert [(t.name, t.threshold_cents, t.discount_cents, t.quantity) for t in campaign.tiers] == [
        ("满100减29.99", 10_000, 2_999, 1000), ("10元券", 0, 1_000, 500)]
    assert [r.release_at for r in campaign.rounds] == [dt.datetime(2026, 12, 1, 13, 0, tzinfo=UTC),
                                                       dt.datetime(2026, 12, 8, 12, 0, 30, tzinfo=UTC)]
    assert [[r.quantity_of(t.id) for t in campaign.tiers] for r in campaign.rounds] == [[600, 500], [400, 0]]

    page = text(admin.get(response.headers["Location"]))
    assert "保存为草稿" in page or "Saved as a draft" in page
    assert status_on(page) == "draft" and 'data-testid="ready"' in page


def test_the_audit_trail_records_who_created_it(admin):
    response = editor_post(admin, "/bureau/campaigns/new", GOOD_FORM)
    campaign_id = response.headers["Location"].rsplit("/", 1)[1]
    record = db.session.scalars(select(AuditRecord).where(AuditRecord.target_id == campaign_id)).one()
    assert (record.action, record.outcome) == ("campaign.create", "ok")


def test_a_new_form_offers_the_plan_and_the_city(admin):
    page = text(admin.get("/bureau/campaigns/new"))
    assert 'name="csrf_token"' in page
    assert "丰富夜间消费场景" in page and 'value="M12"' in page  # measures with their titles
    assert "利州区" in page and "餐饮" in page and "夜间经济" in page  # districts, categories, kinds in Chinese
    assert value_of(page, "limit_per_resident") == "1" and value_of(page, "valid_days") == "7"
    # Without the script, one empty tier row and one empty round row are there to fill in.
    assert value_of(page, "tiers-0-name") == "" and value_of(page, "rounds-0-release_at") == ""
    assert 'name="rounds-0-q-0"' in page and 'name="tiers-1-name"' not in page


@pytest.mark.parametrize("typed, fen", [("0.1", 10), ("0.29", 29), ("1234.56", 123_456), ("1,000", 100_000),
                                        ("12.50", 1_250), ("19.990", 1_999)])
def test_yuan_become_fen_exactly(admin, typed, fen):
    response = editor_post(admin, "/bureau/campaigns/new", {**GOOD_FORM, "budget": typed})
    assert response.status_code == 302, messages_for(text(response), "budget")
    assert the_campaign(response.headers["Location"].rsplit("/", 1)[1]).budget_cents == fen


# Mistakes -------------------------------------------------------------------------------------------------

def test_a_form_with_mistakes_comes_back_with_every_error_beside_its_input_and_the_input_kept(admin):
    mistakes = {**GOOD_FORM, "name": "", "budget": "12.345", "kind": "",
                "tiers-0-discount": "abc", "tiers-2-quantity": "0", "tiers-2-name": "",
                "rounds-4-release_at": "", "rounds-4-q-0": "四百", "valid_to": ""}
    response = editor_post(admin, "/bureau/campaigns/new", mistakes)
    page = text(response)
    assert response.status_code == 422
    assert 'data-testid="error-summary"' in page and "部分信息填写有误" in page

    assert messages_for(page, "name") == ["此项为必填项。"]
    assert messages_for(page, "kind") == ["此项为必填项。"]
    assert len(messages_for(page, "budget")) == 1  # at most 2 decimals
    assert len(messages_for(page, "tiers-0-discount")) == 1  # not an amount
    # Rows come back numbered from 0 (posted rows 0, 2 and 0, 1, 4), each message on the row it is about.
    assert messages_for(page, "tiers-1-quantity") == ["不能小于 1。"]  # the API's own rule, mapped to the row
    assert messages_for(page, "tiers-1-name") == ["此项为必填项。"]
    assert messages_for(page, "rounds-2-release_at") == ["此项为必填项。"]
    assert messages_for(page, "rounds-2-q-0") == ["请输入整数。"]
    assert messages_for(page, "valid_to") == ["请填写可用时段的开始和结束时间，且两者不能相同。"]
    assert messages_for(page, "tiers-0-name") == [] and messages_for(page, "starts_at") == []

    # Nothing typed is lost, and each round's quantities stay under their tier.
    assert value_of(page, "budget") == "12.345" and value_of(page, "tiers-0-discount") == "abc"
    assert value_of(page, "tiers-0-name") == "满100减29.99" and value_of(page, "tiers-1-quantity") == "0"
    assert value_of(page, "rounds-2-q-0") == "四百" and value_of(page, "rounds-0-q-1") == "500"
    assert value_of(page, "valid_from") == "18:00"
    assert "凭券在夜间街区消费</textarea>" in page
    assert 'value="M13" checked' in page and 'value="zhaohua" checked' in page and 'value="6" checked' in page
    assert 'name="recycle_expired" value="1" checked' in page
    assert db.session.scalar(select(Campaign.id)) is None


def test_an_error_in_a_row_after_a_blank_row_points_at_that_row(admin):
    form = {**GOOD_FORM, "tiers-2-discount": "", "rounds-4-q-2": "-3"}
    page = text(editor_post(admin, "/bureau/campaigns/new", form))
    # Row 2 is the API's tier 1 and row 4 its round 1: the messages land on the rows the user filled.
    assert messages_for(page, "tiers-1-discount") == ["此项为必填项。"]
    assert messages_for(page, "rounds-2-q-1") == ["请输入整数。"]


def test_no_measure_and_a_blank_limit_are_explained(admin):
    form = {key: value for key, value in GOOD_FORM.items() if key != "measure_codes"}
    page = text(editor_post(admin, "/bureau/campaigns/new", {**form, "limit_per_round": " "}))
    assert messages_for(page, "measure_codes") == ["请至少选择一项本活动支持的方案举措。"]
    assert messages_for(page, "limit_per_round") == ["此项为必填项。"]


def test_a_form_without_its_csrf_token_is_refused(admin):
    response = admin.post("/bureau/campaigns/new", data=GOOD_FORM)
    assert response.status_code == 400
    assert db.session.scalar(select(Campaign.id)) is None


# Editing ----------------------------------------------------------------------------------------------------

def test_the_editor_shows_a_draft_as_it_was_saved(admin, api_admin):
    body = draft(admin, api_admin, budget_cents=5_000_050,
                 ends_at="2026-12-31T23:59:59+08:00", valid_weekdays=[6, 7])
    page = text(admin.get(f"/bureau/campaigns/{body['id']}/edit"))
    assert value_of(page, "budget") == "50000.50"
    assert value_of(page, "starts_at") == "2026-12-01T21:00"  # city time
    assert value_of(page, "ends_at") == "2026-12-31T23:59:59"  # seconds kept, so saving changes nothing
    assert value_of(page, "tiers-0-threshold") == "100.00" and value_of(page, "tiers-0-discount") == "30.00"
    assert value_of(page, "tiers-1-name") == "10元券" and value_of(page, "rounds-1-q-1") == "250"
    assert value_of(page, "rounds-1-release_at") == "2026-12-08T20:00"
    assert value_of(page, "valid_from") == "18:00" and value_of(page, "valid_to") == "02:00"
    assert 'value="6" checked' in page and 'value="5" checked' not in page
    # The spare rows for adding one without the script.
    assert value_of(page, "tiers-2-name") == "" and value_of(page, "rounds-2-q-2") == ""


def test_saving_the_editor_unchanged_changes_nothing(admin, api_admin):
    body = draft(admin, api_admin, ends_at="2026-12-31T23:59:59+08:00")
    path = f"/bureau/campaigns/{body['id']}/edit"
    page = text(admin.get(path))
    fields = dict(re.findall(r'<input id="([^"]+)" name="\1"[^>]*?value="([^"]*)"', page))
    fields.update({"kind": "night_economy", "measure_codes": ["M12"], "merchant_categories": ["catering", "retail"],
                   "districts": ["lizhou", "zhaohua"], "valid_weekdays": [str(d) for d in range(1, 8)]})
    response = editor_post(admin, path, fields)
    assert response.status_code == 302, text(response)
    after = admin.get(f"/api/v1/campaigns/{body['id']}", headers=api_admin).get_json()
    keep = ("name", "budget_cents", "starts_at", "ends_at", "valid_hours", "valid_weekdays", "tiers", "measure_codes")
    for key in keep:
        if key == "tiers":
            assert [{k: t[k] for k in ("name", "threshold_cents", "discount_cents", "quantity")} for t in after[key]] \
                == [{k: t[k] for k in ("name", "threshold_cents", "discount_cents", "quantity")} for t in body[key]]
        else:
            assert after[key] == body[key], key
    assert [r["release_at"] for r in after["rounds"]] == [r["release_at"] for r in body["rounds"]]
    assert [r["quantities"] for r in after["rounds"]] == [r["quantities"] for r in body["rounds"]]


def test_an_edit_replaces_the_tiers_and_rounds_and_clears_the_hours(admin, api_admin):
    body = draft(admin, api_admin)
    form = {**GOOD_FORM, "valid_from": "", "valid_to": "", "valid_weekdays": []}
    response = editor_post(admin, f"/bureau/campaigns/{body['id']}/edit", form)
    assert response.status_code == 302 and response.headers["Location"].endswith(body["id"])
    campaign = the_campaign(body["id"])
    assert campaign.name == "广元夜间消费券·第二期" and campaign.budget_cents == 5_000_010
    assert [t.name for t in campaign.tiers] == ["满100减29.99", "10元券"]
    assert (campaign.valid_from, campaign.valid_to, campaign.valid_weekdays) == (None, None, None)


def test_the_editor_of_a_draft_notes_what_blocks_publication(admin, api_admin):
    body = draft(admin, api_admin, budget_cents=100_000)
    page = text(admin.get(f"/bureau/campaigns/{body['id']}/edit"))
    assert "预算（1,000.00 元）不足以覆盖全部消费券" in "".join(messages_for(page, "budget"))


def test_a_published_campaign_cannot_be_edited_and_the_page_says_why(admin, api_admin):
    body = draft(admin, api_admin)
    assert admin.post(f"/api/v1/campaigns/{body['id']}/publish", headers=api_admin).status_code == 200
    path = f"/bureau/campaigns/{body['id']}/edit"
    response = admin.get(path)
    assert response.status_code == 302 and response.headers["Location"] == f"/bureau/campaigns/{body['id']}"
    page = text(admin.get(response.headers["Location"]))
    assert "只有草稿可以修改；该活动当前状态为“未开始”。" in page
    assert 'data-testid="edit-campaign"' not in page

    token = form_token(admin, f"/bureau/campaigns/{body['id']}")
    response = admin.post(path, data={**GOOD_FORM, "csrf_token": token})
    assert response.status_code == 302
    assert the_campaign(body["id"]).name == body["name"]


# Publishing and cancelling ------------------------------------------------------------------------------

def test_publishing_a_draft_with_problems_shows_them_and_keeps_it_draft(admin, api_admin):
    body = draft(admin, api_admin, budget_cents=100_000)
    path = f"/bureau/campaigns/{body['id']}"
    page = text(admin.get(path))
    assert 'data-testid="problems"' in page and 'data-testid="publish"' in page

    response = admin.post(f"{path}/publish", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"] == path
    page = text(admin.get(path))
    assert "活动暂不能发布" in page
    problems = re.search(r'data-testid="problems">(.*?)</ul>', page, re.S).group(1)
    assert "预算（1,000.00 元）不足以覆盖全部消费券（35,000.00 元" in problems
    assert f'href="/bureau/campaigns/{body["id"]}/edit#budget"' in problems
    assert status_on(page) == "draft" and the_campaign(body["id"]).status is CampaignStatus.draft


def test_publishing_a_good_draft_schedules_it(admin, api_admin, clock):
    body = draft(admin, api_admin)  # starts an hour after the clock
    path = f"/bureau/campaigns/{body['id']}"
    response = admin.post(f"{path}/publish", data={"csrf_token": form_token(admin, path)})
    assert response.status_code == 302
    page = text(admin.get(path))
    assert status_on(page) == "scheduled"
    assert 'data-testid="publish"' not in page and 'data-testid="edit-campaign"' not in page
    clock.advance(hours=2)
    assert status_on(text(admin.get(path))) == "open"


def test_publishing_a_draft_whose_start_has_passed_opens_it(admin, api_admin, clock):
    body = draft(admin, api_admin)
    clock.advance(hours=2)
    path = f"/bureau/campaigns/{body['id']}"
    admin.post(f"{path}/publish", data={"csrf_token": form_token(admin, path)})
    page = text(admin.get(path))
    assert status_on(page) == "open"
    rounds = re.search(r'data-testid="rounds">(.*?)</table>', page, re.S).group(1)
    assert "round-released" in rounds and "round-upcoming" in rounds


def test_cancel_with_a_reason(admin, api_admin):
    body = draft(admin, api_admin)
    path = f"/bureau/campaigns/{body['id']}"
    admin.post(f"{path}/publish", data={"csrf_token": form_token(admin, path)})
    response = admin.post(f"{path}/cancel", data={"reason": "资金未到位", "csrf_token": form_token(admin, path)})
    assert response.status_code == 302
    page = text(admin.get(path))
    assert status_on(page) == "cancelled" and "资金未到位" in page
    assert 'data-testid="cancel"' not in page
    campaign = the_campaign(body["id"])
    assert campaign.status is CampaignStatus.cancelled and campaign.cancel_reason == "资金未到位"


def test_cancel_needs_a_reason(admin, api_admin):
    body = draft(admin, api_admin)
    path = f"/bureau/campaigns/{body['id']}"
    response = admin.post(f"{path}/cancel", data={"reason": "  ", "csrf_token": form_token(admin, path)})
    assert response.status_code == 302
    assert status_on(text(admin.get(path))) == "draft"


# Reading -------------------------------------------------------------------------------------------------------

def test_the_campaign_page_shows_rounds_tiers_and_rules_in_city_terms(admin, api_admin):
    body = draft(admin, api_admin)
    page = text(admin.get(f"/bureau/campaigns/{body['id']}"))
    assert "广元夜间消费券·第一期" in page and "夜间经济" in page
    assert "2026-12-01 21:00 – 2026-12-31 20:00" in page  # the period in city time
    assert "M12</span> 丰富夜间消费场景" in page
    assert "餐饮、零售" in page and "利州区、昭化区" in page
    assert "18:00 至次日 02:00" in page
    assert "每人限领 2 张，每场限领 1 张" in page and "领取后 7 天内有效" in page
    tiers = re.search(r'data-testid="tiers">(.*?)</table>', page, re.S).group(1)
    assert "满100减30" in tiers and "10元无门槛" in tiers
    rounds = re.search(r'data-testid="rounds">(.*?)</table>', page, re.S).group(1)
    assert "2026-12-01 21:00" in rounds and "2026-12-08 20:00" in rounds and "250" in rounds
    assert "¥50,000.00" in page and "¥35,000.00" in page  # budget and exposure, in yuan


def test_every_eligible_place_when_none_is_chosen(admin, api_admin):
    body = draft(admin, api_admin, merchant_categories=[], districts=[], valid_hours=None, valid_weekdays=None)
    page = text(admin.get(f"/bureau/campaigns/{body['id']}"))
    assert "全部类别商户" in page and "全市" in page and "全天" in page


def test_the_list_shows_every_campaign_and_filters_by_status(admin, api_admin):
    kept = draft(admin, api_admin, name="草稿活动")
    published = draft(admin, api_admin, name="已发布活动")
    admin.post(f"/api/v1/campaigns/{published['id']}/publish", headers=api_admin)
    page = text(admin.get("/bureau/campaigns"))
    assert "草稿活动" in page and "已发布活动" in page and 'data-testid="new-campaign"' in page
    assert "50,000.00" in page and "35,000.00" in page
    drafts = text(admin.get("/bureau/campaigns?status=draft"))
    assert "草稿活动" in drafts and "已发布活动" not in drafts
    scheduled = text(admin.get("/bureau/campaigns?status=scheduled"))
    assert "已发布活动" in scheduled and kept["id"] not in scheduled
    assert admin.get("/bureau/campaigns?status=nonsense").status_code == 200


# Who may do what ------------------------------------------------------------------------------------------------

def test_the_viewer_reads_everything_without_buttons(client, city, api_admin):
    body = draft(client, api_admin)
    sign_in_staff(client, Role.viewer)
    listing = text(client.get("/bureau/campaigns"))
    assert body["name"] in listing and 'data-testid="new-campaign"' not in listing
    detail = client.get(f"/bureau/campaigns/{body['id']}")
    page = text(detail)
    assert detail.status_code == 200 and 'data-testid="ready"' in page
    for button in ("publish", "cancel", "edit-campaign"):
        assert f'data-testid="{button}"' not in page
    assert "满100减30" in page

    assert client.get("/bureau/campaigns/new").status_code == 403
    assert client.get(f"/bureau/campaigns/{body['id']}/edit").status_code == 403
    token = csrf_token(page)
    for path, data in [("/bureau/campaigns/new", GOOD_FORM), (f"/bureau/campaigns/{body['id']}/edit", GOOD_FORM),
                       (f"/bureau/campaigns/{body['id']}/publish", {}),
                       (f"/bureau/campaigns/{body['id']}/cancel", {"reason": "x"})]:
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    assert the_campaign(body["id"]).status is CampaignStatus.draft


def test_anonymous_visitors_are_sent_to_the_staff_sign_in(client, city, api_admin):
    body = draft(client, api_admin)
    for path in ("/bureau/campaigns", f"/bureau/campaigns/{body['id']}", "/bureau/campaigns/new"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login?next=")
    token = form_token(client, "/staff/login")
    response = client.post(f"/bureau/campaigns/{body['id']}/publish", data={"csrf_token": token})
    assert response.status_code == 302 and the_campaign(body["id"]).status is CampaignStatus.draft


def test_residents_are_refused(client, city, api_admin):
    body = draft(client, api_admin)
    sign_in_resident(client)
    assert client.get("/bureau/campaigns").status_code == 403
    assert client.get(f"/bureau/campaigns/{body['id']}").status_code == 403
    token = form_token(client, "/")
    assert client.post(f"/bureau/campaigns/{body['id']}/publish", data={"csrf_token": token}).status_code == 403
    assert the_campaign(body["id"]).status is CampaignStatus.draft


def test_an_unknown_campaign_is_not_found(admin):
    assert admin.get("/bureau/campaigns/01nosuchcampaign0000000000").status_code == 404
