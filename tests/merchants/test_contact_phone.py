"""A shop's contact phone is personal data: the bureau sees it masked in every list and page, and an
admin who needs the whole number asks for it — an explicit action, audited with who asked."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from merchants.models import MerchantStatus
from tests.app.test_pages import csrf_token, sign_in_staff, text
from tests.builders import PASSWORD, bearer, make_account, make_merchant, resident_token, token_for
from voucher_app.core.audit import AuditRecord
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role

PHONE, MASKED = "13800138000", "138****8000"


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def shop(city):
    merchant, _owner = make_merchant(MerchantStatus.approved, contact_phone=PHONE)
    return merchant


def reveals(merchant_id: str) -> list[tuple[str, str | None]]:
    """(outcome, who) of every reveal of the shop's phone recorded so far."""
    db.session.commit()  # ends the test's read transaction, so the next read sees the requests' writes
    records = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "merchant.phone_revealed",
                                                           AuditRecord.target_id == merchant_id)
                                 .order_by(AuditRecord.id)).all()
    return [(r.outcome, r.actor_id) for r in records]


# The API ----------------------------------------------------------------------------------------------

def test_the_bureau_reads_the_phone_masked_in_the_list_and_the_merchant(client, shop):
    for role in (Role.admin, Role.viewer):
        headers = token_for(make_account(role))
        listed = client.get("/api/v1/merchants", headers=headers).get_json()["items"]
        one = client.get(f"/api/v1/merchants/{shop.id}", headers=headers).get_json()
        assert [m["contact_phone"] for m in listed] == [MASKED] and one["contact_phone"] == MASKED
    assert reveals(shop.id) == []


def test_an_admin_asks_for_the_whole_number_and_the_reveal_is_audited(client, shop, clock):
    admin = make_account(Role.admin)
    response = client.post(f"/api/v1/merchants/{shop.id}/contact-phone", headers=token_for(admin))
    assert response.status_code == 200 and response.get_json() == {"phone": PHONE}
    assert response.headers["Cache-Control"] == "no-store"
    assert reveals(shop.id) == [("ok", admin.id)]
    record = db.session.scalars(select(AuditRecord).where(AuditRecord.target_id == shop.id)).one()
    assert (record.target_type, record.at) == ("merchant", clock.now())


@pytest.mark.parametrize("role", [Role.viewer, Role.cashier, Role.merchant_owner, Role.resident])
def test_nobody_else_may_ask_for_it(client, shop, role):
    if role is Role.resident:
        headers = bearer(resident_token(client))
    else:
        headers = token_for(make_account(role, shop if role in (Role.cashier, Role.merchant_owner) else None))
    response = client.post(f"/api/v1/merchants/{shop.id}/contact-phone", headers=headers)
    assert (response.status_code, response.get_json()["code"]) == (403, "forbidden")
    assert PHONE not in response.get_data(as_text=True)
    assert client.post(f"/api/v1/merchants/{shop.id}/contact-phone").status_code == 401


def test_an_unknown_merchants_phone_is_not_found(client, city):
    admin = token_for(make_account(Role.admin))
    for merchant_id in ("01jz0000000000000000000000", "x" * 300):
        response = client.post(f"/api/v1/merchants/{merchant_id}/contact-phone", headers=admin)
        assert (response.status_code, response.get_json()["code"]) == (404, "not_found")


def test_the_owner_still_sees_the_shops_own_number(client, city):
    merchant, owner = make_merchant(contact_phone=PHONE)
    mine = client.get(f"/api/v1/merchants/{merchant.id}", headers=token_for(owner)).get_json()
    assert mine["contact_phone"] == PHONE


# The pages --------------------------------------------------------------------------------------------

def sign_in(client, role: Role):
    user = make_account(role)
    assert sign_in_staff(client, user.username, PASSWORD).status_code == 302
    return user


def test_the_admins_list_shows_phones_masked_with_a_button_to_show_one(client, shop):
    sign_in(client, Role.admin)
    page = text(client.get("/bureau/merchants?status=all"))
    assert MASKED in page and PHONE not in page
    assert f'action="/bureau/merchants/{shop.id}/contact-phone"' in page and "显示完整号码" in page
    assert "Show full number" in text(client.get("/bureau/merchants?status=all&lang=en"))


def test_showing_the_whole_number_on_the_page_is_audited_and_in_the_history(client, shop):
    admin = sign_in(client, Role.admin)
    detail = text(client.get(f"/bureau/merchants/{shop.id}"))
    assert MASKED in detail and PHONE not in detail and 'data-testid="reveal-phone"' in detail

    response = client.post(f"/bureau/merchants/{shop.id}/contact-phone", data={"csrf_token": csrf_token(detail)})
    page = text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert f'<span data-testid="contact-phone">{PHONE}</span>' in page and 'data-testid="phone-revealed"' in page
    assert 'data-action="merchant.phone_revealed"' in page and admin.username in page
    assert reveals(shop.id) == [("ok", admin.id)]
    assert PHONE not in text(client.get(f"/bureau/merchants/{shop.id}"))  # shown once, not from then on


def test_the_button_without_its_csrf_token_is_refused_and_shows_nothing(client, shop):
    sign_in(client, Role.admin)
    response = client.post(f"/bureau/merchants/{shop.id}/contact-phone")
    assert response.status_code == 400 and PHONE not in text(response)
    assert reveals(shop.id) == []


def test_a_viewer_has_no_button_and_cannot_show_the_number(client, shop):
    sign_in(client, Role.viewer)
    listed = text(client.get("/bureau/merchants?status=all"))
    detail = text(client.get(f"/bureau/merchants/{shop.id}"))
    assert MASKED in listed and 'data-testid="reveal-phone"' not in listed + detail
    response = client.post(f"/bureau/merchants/{shop.id}/contact-phone", data={"csrf_token": csrf_token(detail)})
    assert response.status_code == 403 and PHONE not in text(response)
    assert reveals(shop.id) == []
