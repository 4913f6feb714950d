"""Sign-ins remember where they came from — the client's address and a keyed hash of its device id —
for the rule that sees many residents behind one device; the id itself is never stored."""
from __future__ import annotations

from sqlalchemy import select

from tests.builders import PASSWORD, latest_code, make_staff, next_phone
from voucher_app.accounts.models import SignIn, User
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role


def sign_ins_of(user_id: str) -> list[SignIn]:
    db.session.expire_all()
    return list(db.session.scalars(select(SignIn).where(SignIn.user_id == user_id).order_by(SignIn.created_at)))


def resident_sign_in(client, phone: str, device: str | None) -> None:
    client.post("/api/v1/auth/otp", json={"phone": phone})
    headers = {"X-Device-Id": device} if device else {}
    answer = client.post("/api/v1/auth/token", json={"phone": phone, "code": latest_code(client, phone)},
                         headers=headers)
    assert answer.status_code == 200


def test_the_app_s_device_id_is_kept_as_a_keyed_hash_with_the_address(app, client):
    phone, other = next_phone(), next_phone()
    resident_sign_in(client, phone, "device-1234")
    resident_sign_in(client, phone, "device-1234")
    resident_sign_in(client, other, "device-1234")
    resident_sign_in(client, other, None)
    resident = db.session.scalars(select(User).where(User.phone == phone)).one()
    second = db.session.scalars(select(User).where(User.phone == other)).one()
    first, again = sign_ins_of(resident.id)
    shared, bare = sign_ins_of(second.id)
    assert first.address == "127.0.0.1" and len(first.device) == 64 and "1234" not in first.device
    assert first.device == again.device == shared.device
    assert bare.device is None and bare.address == "127.0.0.1"


def test_the_sign_in_pages_give_the_browser_a_lasting_device_cookie(app, client):
    staff = make_staff(Role.admin)
    page = client.get("/staff/login")
    cookie = next(h for h in page.headers.getlist("Set-Cookie") if h.startswith("device="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=63072000" in cookie
    client.post("/staff/login", data={"username": staff.username, "password": PASSWORD})
    client.post("/staff/login", data={"username": staff.username, "password": PASSWORD})
    first, second = sign_ins_of(staff.id)
    assert first.device and first.device == second.device and first.address == "127.0.0.1"
    assert not any(h.startswith("device=") for h in client.get("/staff/login").headers.getlist("Set-Cookie"))


def test_a_sign_in_without_a_request_records_nothing(app):
    from voucher_app.accounts import sign_ins
    from voucher_app.core.clock import now

    staff = make_staff(Role.viewer)
    sign_ins.start(staff, sign_ins.API, now())
    (row,) = sign_ins_of(staff.id)
    assert row.address is None and row.device is None
