"""The merchant pages as a browser meets them, with CSRF on: registration, the shop's page, the bureau's queues."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from merchants.models import Enrolment, EnrolmentStatus, Merchant, MerchantStatus
from tests.app.test_pages import csrf_token, form_token, sign_in_resident, sign_in_staff, text
from tests.builders import PASSWORD, make_account, make_campaign, make_merchant, merchant_body, next_phone
from voucher_app.accounts.models import User
from voucher_app.core.audit import AuditRecord
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


def field_errors(page: str) -> dict[str, list[str]]:
    """The errors shown under each field of a form, by field name."""
    found = {}
    for name, body in re.findall(r'<div class="field has-error" data-field="(\w+)">(.*?)</div>', page, re.S):
        found[name] = [html.unescape(e) for e in re.findall(r'<p class="field-error" role="alert">(.*?)</p>', body)]
    return found


def post_form(client, page_path: str, action: str, data: dict):
    """Post ``data`` to ``action`` with the CSRF token of the page at ``page_path``, as its form would."""
    return client.post(action, data={**data, "csrf_token": form_token(client, page_path)})


def refresh(instance):
    db.session.commit()  # ends the test's read transaction, so the next read sees the pages' writes
    return db.session.scalars(select(type(instance)).where(type(instance).id == instance.id)
                              .execution_options(populate_existing=True)).one()


def flashes(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<div class="flash flash-\w+" role="status">(.*?)</div>', page)]


# Registration ------------------------------------------------------------------------------------------

def test_the_registration_page_is_public_and_in_chinese(client, city):
    page = text(client.get("/merchants/register"))
    assert '<html lang="zh-CN">' in page and 'name="csrf_token"' in page
    for name in ("name", "uscc", "category", "district", "address", "contact_phone", "owner_username",
                 "owner_password"):
        assert f'name="{name}"' in page
    assert "利州区" in page and "餐饮" in page  # districts and categories named in Chinese


def test_a_registration_without_its_csrf_token_is_refused(client, city):
    response = client.post("/merchants/register", data=merchant_body())
    assert response.status_code == 400
    assert db.session.scalar(select(Merchant.id)) is None


def test_every_field_error_is_shown_next_to_its_field(client, city):
    response = post_form(client, "/merchants/register", "/merchants/register", {
        "name": "", "uscc": "", "category": "", "district": "", "address": "", "contact_phone": "",
        "owner_username": "", "owner_password": ""})
    assert response.status_code == 422
    errors = field_errors(text(response))
    assert set(errors) == {"name", "uscc", "category", "district", "address", "contact_phone", "owner_username",
                           "owner_password"}
    assert all(messages == ["此项为必填项。"] for messages in errors.values())
    assert db.session.scalar(select(Merchant.id)) is None


def test_a_wrong_check_character_is_explained_beside_the_code(client, city):
    body = merchant_body(uscc="91440300192203821X", contact_phone="12345")
    client.get("/lang/en")
    response = post_form(client, "/merchants/register", "/merchants/register", body)
    errors = field_errors(text(response))
    assert set(errors) == {"uscc", "contact_phone"}
    assert 'should be "6"' in errors["uscc"][0]
    page = text(response)
    assert body["name"] in page and body["owner_username"] in page  # what was typed stays
    assert PASSWORD not in page


def test_a_shop_registers_and_its_owner_lands_on_its_page(client, city):
    body = merchant_body()
    response = post_form(client, "/merchants/register", "/merchants/register", body)
    assert response.status_code == 302 and response.headers["Location"] == "/shop"
    merchant = db.session.scalars(select(Merchant).where(Merchant.uscc == body["uscc"])).one()
    assert merchant.status is MerchantStatus.pending
    page = text(client.get("/shop"))
    assert body["name"] in page and 'data-status="pending"' in page and 'data-testid="status-note"' in page
    assert body["contact_phone"] in page  # the owner sees the shop's phone whole


def test_a_taken_username_is_shown_beside_it(client, city):
    taken = make_account(Role.viewer)
    response = post_form(client, "/merchants/register", "/merchants/register",
                         merchant_body(owner_username=taken.username))
    assert response.status_code == 409
    assert list(field_errors(text(response))) == ["owner_username"]


# The shop's own page ----------------------------------------------------------------------------------

def sign_in(client, user):
    response = sign_in_staff(client, user.username, PASSWORD)
    assert response.status_code == 302, text(response)


def test_the_owner_adds_disables_and_enables_a_cashier(client, city):
    shop, owner = make_merchant(MerchantStatus.approved)
    sign_in(client, owner)
    response = post_form(client, "/shop", "/shop/cashiers", {"username": "cashier-7", "password": PASSWORD})
    assert response.status_code == 302
    cashier = db.session.scalars(select(User).where(User.username == "cashier-7")).one()
    assert (cashier.role, cashier.merchant_id) == (Role.cashier, shop.id)
    page = text(client.get("/shop"))
    assert 'data-username="cashier-7"' in page
    post_form(client, "/shop", f"/shop/cashiers/{cashier.id}/disable", {})
    assert refresh(cashier).is_active is False
    post_form(client, "/shop", f"/shop/cashiers/{cashier.id}/enable", {})
    assert refresh(cashier).is_active is True


def test_a_bad_cashier_shows_its_errors_beside_the_fields(client, city):
    _, owner = make_merchant(MerchantStatus.approved)
    sign_in(client, owner)
    response = post_form(client, "/shop", "/shop/cashiers", {"username": owner.username, "password": "short"})
    assert response.status_code == 422
    assert set(field_errors(text(response))) == {"password"}
    response = post_form(client, "/shop", "/shop/cashiers", {"username": owner.username, "password": PASSWORD})
    assert response.status_code == 409 and set(field_errors(text(response))) == {"username"}


def test_the_owner_applies_to_an_eligible_campaign_and_sees_why_not_for_the_others(client, city):
    shop, owner = make_merchant(MerchantStatus.approved, category="catering", district="lizhou")
    open_to_us = make_campaign(name="夜间消费券", categories=["catering"])
    elsewhere = make_campaign(name="剑阁旅游券", districts=["jiange"])
    sign_in(client, owner)
    page = text(client.get("/shop"))
    ours = page.split(f'data-campaign-id="{open_to_us.id}"')[1].split('data-testid="campaign-option"')[0]
    theirs = page.split(f'data-campaign-id="{elsewhere.id}"')[1].split("</section>")[0]
    assert 'data-testid="apply"' in ours
    assert 'data-testid="apply"' not in theirs and "剑阁" in theirs and "m-muted" in page
    response = post_form(client, "/shop", "/shop/enrolments", {"campaign_id": open_to_us.id})
    assert response.status_code == 302
    enrolment = db.session.scalars(select(Enrolment).where(Enrolment.merchant_id == shop.id)).one()
    assert (enrolment.campaign_id, enrolment.status) == (open_to_us.id, EnrolmentStatus.pending)
    page = text(client.get("/shop"))
    assert any("夜间消费券" in message for message in flashes(page)) and 'data-status="pending"' in page
    # Applying to the other one anyway is refused with the reason.
    refused = client.get(post_form(client, "/shop", "/shop/enrolments", {"campaign_id": elsewhere.id})
                         .headers["Location"])
    assert any("剑阁" in message for message in flashes(text(refused)))


def test_a_suspended_shop_shows_why_and_offers_nothing_to_do(client, city):
    shop, owner = make_merchant(MerchantStatus.suspended, reason="多次被投诉")
    cashier = make_account(Role.cashier, shop)
    make_campaign()
    sign_in(client, owner)
    page = text(client.get("/shop"))
    assert "多次被投诉" in page
    assert 'data-testid="apply"' not in page and 'data-testid="add-cashier"' not in page
    assert 'data-testid="disable-cashier"' not in page
    response = client.get(post_form(client, "/shop", f"/shop/cashiers/{cashier.id}/disable", {}).headers["Location"])
    assert any("多次被投诉" in message for message in flashes(text(response)))
    assert refresh(cashier).is_active is True


def test_a_rejected_owner_reads_the_reason(client, city):
    _, owner = make_merchant(MerchantStatus.rejected, reason="营业执照照片不清晰")
    sign_in(client, owner)
    assert "营业执照照片不清晰" in text(client.get("/shop"))


def test_a_cashier_sees_the_shop_masked_and_without_staff_management(client, city):
    shop, _ = make_merchant(MerchantStatus.approved, contact_phone="13800138000")
    cashier = make_account(Role.cashier, shop)
    sign_in(client, cashier)
    page = text(client.get("/shop"))
    assert shop.name in page and "138****8000" in page and "13800138000" not in page
    assert 'data-testid="cashiers"' not in page
    assert client.post("/shop/cashiers", data={"username": "x-cashier", "password": PASSWORD,
                                               "csrf_token": csrf_token(page)}).status_code == 403


def test_the_shop_page_needs_a_shop_account(client, city):
    assert client.get("/shop").headers["Location"].startswith("/staff/login")
    sign_in_resident(client, next_phone())
    assert client.get("/shop").status_code == 403


# The bureau's pages ------------------------------------------------------------------------------------

def test_the_admin_approves_from_the_queue_in_one_click(client, city):
    waiting, _ = make_merchant(contact_phone="13800138000")
    admin = make_account(Role.admin)
    sign_in(client, admin)
    queue = text(client.get("/bureau/merchants"))
    assert waiting.name in queue and "138****8000" in queue and "13800138000" not in queue
    assert f'action="/bureau/merchants/{waiting.id}/approve"' in queue
    response = client.post(f"/bureau/merchants/{waiting.id}/approve",
                           data={"csrf_token": csrf_token(queue), "next": "/bureau/merchants?status=pending"})
    assert response.status_code == 302 and response.headers["Location"] == "/bureau/merchants?status=pending"
    assert refresh(waiting).status is MerchantStatus.approved
    after = text(client.get(response.headers["Location"]))
    assert any(waiting.name in message for message in flashes(after))
    assert 'data-testid="empty-queue"' in after
    record = db.session.scalars(select(AuditRecord).where(AuditRecord.target_id == waiting.id)).one()
    assert (record.action, record.outcome, record.actor_id) == ("merchant.approve", "ok", admin.id)


def test_rejecting_from_the_queue_needs_a_reason(client, city):
    waiting, _ = make_merchant()
    sign_in(client, make_account(Role.admin))
    token = csrf_token(text(client.get("/bureau/merchants")))
    refused = client.post(f"/bureau/merchants/{waiting.id}/reject", data={"csrf_token": token, "reason": " "})
    assert refresh(waiting).status is MerchantStatus.pending
    assert any("reason" in m.lower() or "原因" in m for m in flashes(text(client.get(refused.headers["Location"]))))
    client.post(f"/bureau/merchants/{waiting.id}/reject", data={"csrf_token": token, "reason": "材料不全"})
    rejected = refresh(waiting)
    assert (rejected.status, rejected.status_reason) == (MerchantStatus.rejected, "材料不全")
    outcomes = [r.outcome for r in db.session.scalars(select(AuditRecord).order_by(AuditRecord.id))]
    assert outcomes == ["validation_error", "ok"]


def test_a_queue_button_without_its_csrf_token_is_refused(client, city):
    waiting, _ = make_merchant()
    sign_in(client, make_account(Role.admin))
    assert client.post(f"/bureau/merchants/{waiting.id}/approve").status_code == 400
    assert refresh(waiting).status is MerchantStatus.pending


def test_a_viewer_sees_the_queues_without_buttons_and_cannot_decide(client, city):
    waiting, _ = make_merchant(MerchantStatus.approved, contact_phone="13800138000")
    make_account(Role.admin)
    campaign = make_campaign()
    db.session.add(Enrolment(campaign_id=campaign.id, merchant_id=waiting.id, status=EnrolmentStatus.pending,
                             created_at=campaign.created_at))
    db.session.commit()
    sign_in(client, make_account(Role.viewer))
    merchants = text(client.get("/bureau/merchants?status=all"))
    enrolments = text(client.get("/bureau/enrolments"))
    detail = text(client.get(f"/bureau/merchants/{waiting.id}"))
    assert waiting.name in merchants and waiting.name in enrolments and waiting.name in detail
    assert "138****8000" in merchants and "13800138000" not in merchants + detail
    for page in (merchants, enrolments, detail):
        assert 'data-testid="approve"' not in page and 'data-testid="suspend"' not in page
    response = client.post(f"/bureau/merchants/{waiting.id}/suspend",
                           data={"csrf_token": csrf_token(merchants), "reason": "x"})
    assert response.status_code == 403 and refresh(waiting).status is MerchantStatus.approved


def test_the_detail_page_suspends_reinstates_and_shows_the_history(client, city):
    shop, _ = make_merchant(MerchantStatus.approved)
    admin = make_account(Role.admin, username="officer-li")
    sign_in(client, admin)
    page = text(client.get(f"/bureau/merchants/{shop.id}"))
    assert 'data-testid="suspend"' in page and 'data-testid="reinstate"' not in page
    token = csrf_token(page)
    client.post(f"/bureau/merchants/{shop.id}/reinstate", data={"csrf_token": token})  # refused: not suspended
    client.post(f"/bureau/merchants/{shop.id}/suspend", data={"csrf_token": token, "reason": "多次被投诉"})
    page = text(client.get(f"/bureau/merchants/{shop.id}"))
    assert 'data-status="suspended"' in page and "多次被投诉" in page and 'data-testid="reinstate"' in page
    client.post(f"/bureau/merchants/{shop.id}/reinstate", data={"csrf_token": token, "reason": "整改完成"})
    assert refresh(shop).status is MerchantStatus.approved
    history = re.findall(r'data-testid="history-row" data-action="([\w.]+)" data-outcome="(\w+)"',
                         text(client.get(f"/bureau/merchants/{shop.id}")))
    assert sorted(history) == sorted([("merchant.reinstate", "conflict"), ("merchant.suspend", "ok"),
                                      ("merchant.reinstate", "ok")])
    assert "officer-li" in page


def test_the_admin_decides_applications_from_their_queue(client, city):
    shop, owner = make_merchant(MerchantStatus.approved)
    campaigns = [make_campaign(name=f"消费券{i}") for i in range(2)]
    for campaign in campaigns:
        db.session.add(Enrolment(campaign_id=campaign.id, merchant_id=shop.id, status=EnrolmentStatus.pending,
                                 applied_by=owner.id, created_at=campaign.created_at))
    db.session.commit()
    first, second = db.session.scalars(select(Enrolment).order_by(Enrolment.id)).all()
    sign_in(client, make_account(Role.admin))
    queue = text(client.get("/bureau/enrolments"))
    assert queue.count('data-testid="enrolment-row"') == 2
    token = csrf_token(queue)
    response = client.post(f"/bureau/enrolments/{first.id}/approve",
                           data={"csrf_token": token, "next": "/bureau/enrolments?status=pending"})
    assert response.headers["Location"] == "/bureau/enrolments?status=pending"
    client.post(f"/bureau/enrolments/{second.id}/reject", data={"csrf_token": token, "reason": "名额已满"})
    assert refresh(first).status is EnrolmentStatus.approved
    assert (refresh(second).status, refresh(second).reason) == (EnrolmentStatus.rejected, "名额已满")
    assert 'data-testid="empty-queue"' in text(client.get("/bureau/enrolments"))


def test_an_off_site_next_is_ignored(client, city):
    waiting, _ = make_merchant()
    sign_in(client, make_account(Role.admin))
    token = csrf_token(text(client.get("/bureau/merchants")))
    response = client.post(f"/bureau/merchants/{waiting.id}/approve",
                           data={"csrf_token": token, "next": "//evil.example/"})
    assert response.headers["Location"] == f"/bureau/merchants/{waiting.id}"


def test_bureau_pages_are_for_the_bureau(client, city):
    _, owner = make_merchant(MerchantStatus.approved)
    assert client.get("/bureau/merchants").headers["Location"].startswith("/staff/login")
    sign_in(client, owner)
    assert client.get("/bureau/merchants").status_code == 403
    assert client.get("/bureau/enrolments").status_code == 403

