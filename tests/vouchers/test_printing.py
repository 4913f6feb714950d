"""Issue #16, item 8: printed vouchers. The sheet is rendered to a PDF, its page rasterised by a real
renderer (PDFium) and its QR read by a real decoder (zxing-cpp); what the decoder reads is redeemed at
the till through the API. A revoked or reprinted sheet is refused with ``voucher_revoked``, its typed
code too; another resident cannot print or revoke the voucher."""
from __future__ import annotations

import datetime as dt
import uuid

import pypdfium2 as pdfium
import pytest
import zxingcpp
from sqlalchemy import select

from merchants.models import Enrolment, EnrolmentStatus, MerchantStatus
from tests.app.test_pages import csrf_token, sign_in_resident, text
from tests.builders import bearer, make_account, make_merchant, make_staff, next_phone, resident_token, staff_token
from tests.campaign_data import campaign_body
from voucher_app.core.audit import AuditRecord
from voucher_app.core.errors import InvalidToken, TokenExpired
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.redemptions.models import RedemptionAttempt
from voucher_app.vouchers import printing, tokens
from voucher_app.vouchers.models import Voucher


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}  # the wallet page's forms, as a browser posts them


@pytest.fixture
def shop(client, city, clock):
    """An open campaign (valid 18:00–02:00), an enrolled shop with a cashier, a resident's voucher."""
    admin = bearer(staff_token(client, make_staff(Role.admin).username))
    campaign = client.post("/api/v1/campaigns", json=campaign_body(), headers=admin).get_json()
    client.post(f"/api/v1/campaigns/{campaign['id']}/publish", headers=admin)
    merchant, owner = make_merchant(MerchantStatus.approved)
    db.session.add(Enrolment(campaign_id=campaign["id"], merchant_id=merchant.id, status=EnrolmentStatus.approved,
                             created_at=clock.now()))
    db.session.commit()
    cashier = make_account(Role.cashier, merchant)
    clock.advance(hours=1)  # 21:00 in the city, inside the window
    phone = next_phone()
    resident = bearer(resident_token(client, phone))
    voucher = client.post(f"/api/v1/campaigns/{campaign['id']}/claims", json={"tier_id": campaign["tiers"][0]["id"]},
                          headers={**resident, "Idempotency-Key": uuid.uuid4().hex}).get_json()
    return {"campaign": campaign, "cashier": cashier, "resident": resident, "phone": phone, "voucher": voucher}


def print_sheet(client, shop, headers=None):
    return client.post(f"/api/v1/me/vouchers/{shop['voucher']['id']}/print", headers=headers or shop["resident"])


def revoke(client, shop, headers=None):
    return client.post(f"/api/v1/me/vouchers/{shop['voucher']['id']}/print/revoke",
                       headers=headers or shop["resident"])


def redeem(client, shop, token, bill=12_800):
    headers = {**bearer(staff_token(client, shop["cashier"].username)), "Idempotency-Key": uuid.uuid4().hex}
    return client.post("/api/v1/redemptions", json={"token": token, "bill_cents": bill}, headers=headers)


def page_of(pdf: bytes):
    document = pdfium.PdfDocument(pdf)
    assert len(document) == 1
    return document[0]


def qr_on(pdf: bytes) -> str:
    """The QR's text, as a camera would read the printed page: rendered at 150 dpi, decoded by zxing."""
    image = page_of(pdf).render(scale=150 / 72).to_pil()
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    return found[0].text


def text_of(pdf: bytes) -> str:
    page = page_of(pdf)
    return page.get_textpage().get_text_range()


def fresh():
    """The test's session, reading what the server committed since (a new read transaction)."""
    db.session.rollback()
    return db.session


def generation(voucher_id: str) -> int:
    return fresh().get(Voucher, voucher_id).print_generation


def test_a_printed_sheet_is_a_pdf_whose_qr_pays_at_the_till(client, shop):
    response = print_sheet(client, shop)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store, private"
    token = qr_on(response.data)
    assert generation(shop["voucher"]["id"]) == 1

    sale = redeem(client, shop, token)
    assert sale.status_code == 201, sale.get_json()
    assert (sale.get_json()["voucher_id"], sale.get_json()["discount_cents"]) == (shop["voucher"]["id"], 3_000)
    via = fresh().scalars(select(RedemptionAttempt.via).where(RedemptionAttempt.outcome == "ok")).all()
    assert via == ["printed"]
    again = print_sheet(client, shop)  # a used voucher is not printed again
    assert (again.status_code, again.get_json()["code"]) == (409, "already_redeemed")


def test_the_sheet_reads_the_rule_the_code_and_where_it_can_be_used(client, shop, clock):
    pdf = print_sheet(client, shop).data
    words = text_of(pdf).replace("\r\n", "\n")
    wallet = client.get("/api/v1/me/vouchers", headers=shop["resident"]).get_json()["items"][0]
    assert wallet["rule"] == "满100减30" and wallet["rule"] in words
    assert tokens.printed_code(shop["voucher"]["id"], 1) in words
    assert shop["campaign"]["name"] in words
    assert "18:00" in words and "02:00" in words and "2026-12-08" in words  # hours, and claimed + 7 days

    english = client.post(f"/api/v1/me/vouchers/{shop['voucher']['id']}/print",
                          headers={**shop["resident"], "Accept-Language": "en"})
    words = text_of(english.data)
    assert "30 off a bill of 100" in words and "Catering" in words
    assert tokens.printed_code(shop["voucher"]["id"], 2) in words


def test_a_revoked_sheet_is_refused_and_a_reprint_works(client, shop):
    lost = qr_on(print_sheet(client, shop).data)
    response = revoke(client, shop)
    assert response.status_code == 204 and generation(shop["voucher"]["id"]) == 2
    refused = redeem(client, shop, lost)
    assert (refused.status_code, refused.get_json()["code"]) == (409, "voucher_revoked")

    new = qr_on(print_sheet(client, shop).data)
    assert new != lost
    assert redeem(client, shop, lost).get_json()["code"] == "voucher_revoked"
    assert redeem(client, shop, new).status_code == 201

    actions = fresh().scalars(select(AuditRecord.action).where(AuditRecord.target_id == shop["voucher"]["id"])
                                 .order_by(AuditRecord.at, AuditRecord.id)).all()
    assert actions == ["voucher.print", "voucher.print_revoke", "voucher.print"]


def test_printing_again_replaces_the_earlier_sheet(client, shop):
    first = qr_on(print_sheet(client, shop).data)
    second = qr_on(print_sheet(client, shop).data)
    assert redeem(client, shop, first).get_json()["code"] == "voucher_revoked"
    assert redeem(client, shop, second).status_code == 201


def test_the_printed_code_is_typed_at_the_till_and_refused_after_revoke(client, shop):
    print_sheet(client, shop)
    code = tokens.printed_code(shop["voucher"]["id"], 1)
    assert len(code.replace("-", "")) == 18
    revoke(client, shop)
    refused = redeem(client, shop, code)
    assert (refused.status_code, refused.get_json()["code"]) == (409, "voucher_revoked")

    print_sheet(client, shop)
    code = tokens.printed_code(shop["voucher"]["id"], 3)
    typed_badly = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")  # as read off paper
    sale = redeem(client, shop, typed_badly)
    assert sale.status_code == 201, sale.get_json()
    attempts = fresh().scalars(select(RedemptionAttempt.outcome).where(RedemptionAttempt.via == "typed")
                                  .order_by(RedemptionAttempt.at, RedemptionAttempt.id)).all()
    assert attempts == ["voucher_revoked", "ok"]


def test_wrong_printed_codes_count_towards_the_typed_code_lock(client, shop):
    print_sheet(client, shop)
    code = tokens.printed_code(shop["voucher"]["id"], 1)
    wrong = code[:-1] + ("X" if code[-1] != "X" else "Y")
    for _ in range(5):
        assert redeem(client, shop, wrong).get_json()["code"] == "invalid_token"
    locked = redeem(client, shop, code)
    assert (locked.status_code, locked.get_json()["code"]) == (429, "code_locked")


def test_another_resident_cannot_print_or_revoke(client, shop):
    print_sheet(client, shop)
    other = bearer(resident_token(client))
    for response in (print_sheet(client, shop, other), revoke(client, shop, other)):
        assert (response.status_code, response.get_json()["code"]) == (404, "not_found")
    assert generation(shop["voucher"]["id"]) == 1
    refused = fresh().scalars(select(AuditRecord.outcome).where(AuditRecord.target_id == shop["voucher"]["id"],
                                                                   AuditRecord.outcome != "ok")).all()
    assert refused == ["not_found", "not_found"]


def test_a_printed_token_is_not_a_phone_token_and_ends_with_the_voucher(app, shop, clock):
    voucher = db.session.get(Voucher, shop["voucher"]["id"])
    token = tokens.sign_printed(voucher.id, 1, clock.now(), voucher.expires_at)
    with pytest.raises(InvalidToken):
        tokens.verify(token, clock.now())  # what names a voucher from the phone never takes a sheet
    assert tokens.read(token, clock.now() + dt.timedelta(days=6)) == tokens.Named(voucher.id, 1)
    with pytest.raises(TokenExpired):
        tokens.read(token, voucher.expires_at)
    phone, _ = tokens.sign(voucher.id, clock.now())
    assert tokens.read(phone, clock.now()) == tokens.Named(voucher.id, None)


def test_the_wallet_page_prints_and_revokes(client, shop):
    sign_in_resident(client, shop["phone"])
    page = text(client.get("/wallet"))
    assert "打印" in page and "作废已打印的券" not in page
    sheet = client.post(f"/wallet/{shop['voucher']['id']}/print", data={"csrf_token": csrf_token(page)})
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    assert "满100减30" in text_of(sheet.data)
    page = text(client.get("/wallet"))
    assert "作废已打印的券" in page
    assert client.get("/api/v1/me/vouchers", headers=shop["resident"]).get_json()["items"][0]["printed"]["in_force"]

    done = client.post(f"/wallet/{shop['voucher']['id']}/print/revoke", data={"csrf_token": csrf_token(page)})
    assert done.status_code == 302
    page = text(client.get("/wallet"))
    assert "作废已打印的券" not in page and generation(shop["voucher"]["id"]) == 2
    english = text(client.get("/wallet?lang=en"))
    assert "Print" in english and "No smartphone at the till?" in english


def test_the_community_worker_who_claimed_it_may_print_it(client, shop):
    worker = make_staff(Role.community_worker)
    voucher = fresh().get(Voucher, shop["voucher"]["id"])
    voucher.proxy_id = worker.id
    db.session.commit()
    response = print_sheet(client, shop, bearer(staff_token(client, worker.username)))
    assert response.status_code == 200, response.get_json()
    assert redeem(client, shop, qr_on(response.data)).status_code == 201
    record = fresh().scalars(select(AuditRecord).where(AuditRecord.action == "voucher.print")).one()
    assert (record.actor_id, record.detail["resident_id"]) == (worker.id, voucher.resident_id)
    other_worker = make_staff(Role.community_worker)
    refused = revoke(client, shop, bearer(staff_token(client, other_worker.username)))
    assert refused.get_json()["code"] == "not_found"


def test_without_a_cjk_font_printing_says_so_and_changes_nothing(client, shop, monkeypatch):
    monkeypatch.setattr(printing, "_FONTS", (("/nonexistent/font.ttc", None, 0),))
    response = print_sheet(client, shop)
    assert (response.status_code, response.get_json()["code"]) == (503, "printing_unavailable")
    assert generation(shop["voucher"]["id"]) == 0
