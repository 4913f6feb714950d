"""The complaints pages: a signed-out visitor comes back to the form after signing in; the wallet offers
a complaint and a refund for a used voucher; the form shows the number and the due date; the owner
replies and answers refunds; the bureau's queue shows overdue complaints first and decides."""
from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from tests.builders import PASSWORD, latest_code
from tests.complaints.shop_world import ShopWorld
from voucher_app.complaints.models import Complaint, ComplaintStatus, ReturnRequest, ReturnStatus
from voucher_app.core.extensions import db


@pytest.fixture
def world(city, clock) -> ShopWorld:
    return ShopWorld(clock)


def sign_in_resident(client, phone: str) -> None:
    assert client.post("/login/code", data={"phone": phone}).status_code == 302
    assert client.post("/login", data={"phone": phone, "code": latest_code(client, phone)}).status_code == 302
    forget_flashes(client)


def sign_in_staff(client, username: str) -> None:
    client.post("/logout")
    assert client.post("/staff/login", data={"username": username, "password": PASSWORD}).status_code == 302
    forget_flashes(client)


def forget_flashes(client) -> None:
    """The sign-in's own messages (the code sent to 139****0001) are not what a test reads next."""
    with client.session_transaction() as session:
        session.pop("_flashes", None)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_visitor_signs_in_and_comes_back_to_the_form(client, world):
    path = f"/complaints/new?merchant_id={world.a.id}"
    sent = client.get(path)
    assert sent.status_code == 302 and urlparse(sent.location).path == "/login"
    assert parse_qs(urlparse(sent.location).query)["next"] == [path]
    resident, _ = world.sale()
    sign_in_resident(client, resident.phone)
    form = client.get(path)
    assert form.status_code == 200 and world.a.name in text(form) and "商户拒收消费券" in text(form)


def test_from_the_wallet_a_resident_complains_and_sees_the_number_and_due_date(client, world):
    resident, sale = world.sale()
    sign_in_resident(client, resident.phone)
    wallet = text(client.get("/wallet"))
    assert f"redemption_id={sale['id']}" in wallet and "投诉商户" in wallet and "申请退货退款" in wallet
    form = client.get(f"/complaints/new?merchant_id={world.a.id}&redemption_id={sale['id']}")
    assert f'value="{sale["id"]}" selected' in text(form) or f'selected value="{sale["id"]}"' in text(form)
    refused = client.post(f"/complaints/new?merchant_id={world.a.id}", data={"kind": "surcharge", "text": "贵"})
    assert refused.status_code == 422 and "长度不能少于 5" in text(refused)
    filed = client.post(f"/complaints/new?merchant_id={world.a.id}",
                        data={"kind": "surcharge", "text": "用券后比标价贵了二十元", "redemption_id": sale["id"]},
                        follow_redirects=True)
    complaint = db.session.scalars(select(Complaint)).one()
    page = text(filed)
    assert complaint.id in page and "2026-12-04 23:59" in page and complaint.redemption_id == sale["id"]


def test_the_wallet_asks_for_a_refund_and_shows_it_pending(client, world, clock):
    resident, sale = world.sale()
    sign_in_resident(client, resident.phone)
    asked = client.post(f"/me/return-requests/new?redemption_id={sale['id']}", data={"reason": ""})
    assert asked.status_code == 302
    request = db.session.scalars(select(ReturnRequest)).one()
    assert request.status is ReturnStatus.pending
    db.session.commit()
    wallet = text(client.get("/wallet"))
    assert "已申请退款" in wallet and f"/me/return-requests/new?redemption_id={sale['id']}" not in wallet
    assert request.id in text(client.get("/me/complaints"))
    client.post("/logout")
    later, _ = world.sale()
    clock.advance(days=7, minutes=1)  # past the window: no refund to ask for, a complaint still
    sign_in_resident(client, later.phone)
    wallet = text(client.get("/wallet"))
    assert "申请退货退款" not in wallet and "投诉商户" in wallet


def test_the_owner_replies_once_and_accepts_a_refund(client, world):
    resident, sale = world.sale()
    sign_in_resident(client, resident.phone)
    client.post(f"/complaints/new?merchant_id={world.a.id}", data={"kind": "quality", "text": "菜品不新鲜，有异味"})
    client.post(f"/me/return-requests/new?redemption_id={sale['id']}", data={"reason": "不新鲜"})
    client.post("/logout")
    sign_in_staff(client, world.owner_a.username)
    page = text(client.get("/merchant/complaints"))
    assert "菜品不新鲜" in page and resident.phone not in page and resident.phone[-4:] not in page
    complaint = db.session.scalars(select(Complaint)).one()
    db.session.commit()
    client.post(f"/merchant/complaints/{complaint.id}/reply", data={"text": "已联系顾客并道歉"})
    again = client.post(f"/merchant/complaints/{complaint.id}/reply", data={"text": "再回复"}, follow_redirects=True)
    assert "商户已回复过此投诉" in text(again)
    request = db.session.scalars(select(ReturnRequest)).one()
    db.session.commit()
    assert "不新鲜" in text(client.get("/merchant/returns"))
    accepted = client.post(f"/merchant/returns/{request.id}/accept", follow_redirects=True)
    assert "已退款" in text(accepted)
    db.session.commit()  # a fresh read: the requests wrote on other connections
    db.session.expire_all()
    assert db.session.get(ReturnRequest, request.id).status is ReturnStatus.accepted


def test_the_bureau_queue_puts_overdue_first_and_decides(client, world, clock):
    resident, _ = world.sale()
    sign_in_resident(client, resident.phone)
    client.post(f"/complaints/new?merchant_id={world.a.id}", data={"kind": "refused_voucher", "text": "收银员说不收券"})
    clock.set(dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.timezone.utc))  # Monday: the first is overdue
    sign_in_resident(client, resident.phone)
    client.post(f"/complaints/new?merchant_id={world.b.id}", data={"kind": "other", "text": "态度恶劣骂人"})
    client.post("/logout")
    sign_in_staff(client, world.viewer.username)
    queue = text(client.get("/bureau/complaints"))
    overdue, fresh = db.session.scalars(select(Complaint).order_by(Complaint.created_at)).all()
    db.session.commit()
    assert queue.index(overdue.id) < queue.index(fresh.id) and 'data-overdue="true"' in queue
    assert f"{resident.phone[:3]}****{resident.phone[-4:]}" in queue and resident.phone not in queue
    assert "1 件投诉已超期未办结" in queue
    assert "submit-decision" not in text(client.get(f"/bureau/complaints/{overdue.id}"))  # a viewer reads
    client.post("/logout")
    sign_in_staff(client, world.admin.username)
    client.post(f"/bureau/complaints/{overdue.id}/assign")
    refused = client.post(f"/bureau/complaints/{overdue.id}/decide", data={"outcome": "upheld", "text": ""})
    assert refused.status_code == 422
    decided = client.post(f"/bureau/complaints/{overdue.id}/decide",
                          data={"outcome": "upheld", "text": "经核实，商户拒收属实"}, follow_redirects=True)
    assert "经核实，商户拒收属实" in text(decided)
    db.session.commit()  # a fresh read: the requests wrote on other connections
    db.session.expire_all()
    stored = db.session.get(Complaint, overdue.id)
    assert (stored.status, stored.assigned_to) == (ComplaintStatus.upheld, world.admin.id)


def test_the_pages_speak_english_too(client, world):
    resident, _ = world.sale()
    client.set_cookie("lang", "en")
    sign_in_resident(client, resident.phone)
    page = text(client.get(f"/complaints/new?merchant_id={world.a.id}"))
    assert "The shop refused my voucher" in page and "Send the complaint" in page
