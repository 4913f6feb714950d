"""Signing in over the API: SMS codes for residents, passwords for staff, bearer tokens."""
from __future__ import annotations

from tests.builders import PASSWORD, bearer, latest_code, make_staff, next_phone, resident_token, staff_token
from voucher_app.core.roles import Role


def ask_code(client, phone):
    return client.post("/api/v1/auth/otp", json={"phone": phone})


def sign_in(client, phone, code):
    return client.post("/api/v1/auth/token", json={"phone": phone, "code": code})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_resident_signs_in_with_the_code_from_the_outbox(client):
    phone = next_phone()
    response = ask_code(client, phone)
    assert response.status_code == 202
    response = sign_in(client, phone, latest_code(client, phone))
    assert response.status_code == 200
    body = response.get_json()
    assert body["role"] == "resident" and body["token_type"] == "Bearer" and body["expires_in"] > 0
    me = client.get("/api/v1/me", headers=bearer(body["token"])).get_json()
    assert me["role"] == "resident" and me["phone"] == phone


def test_the_sms_tells_the_code_in_chinese_by_default(client):
    phone = next_phone()
    ask_code(client, phone)
    text = client.get(f"/api/v1/dev/outbox?phone={phone}").get_json()["items"][0]["text"]
    assert "验证码" in text


def test_a_second_sign_in_is_the_same_resident(client):
    phone = next_phone()
    first = client.get("/api/v1/me", headers=bearer(resident_token(client, phone))).get_json()
    second = client.get("/api/v1/me", headers=bearer(resident_token(client, phone))).get_json()
    assert first["id"] == second["id"]


def test_wrong_code_is_refused(client):
    phone = next_phone()
    ask_code(client, phone)
    response = sign_in(client, phone, wrong(latest_code(client, phone)))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "otp_invalid"


def test_expired_code_is_refused(client, clock):
    phone = next_phone()
    ask_code(client, phone)
    clock.advance(minutes=5, seconds=1)
    response = sign_in(client, phone, latest_code(client, phone))
    assert (response.status_code, response.get_json()["code"]) == (401, "otp_expired")


def test_code_is_still_good_just_before_five_minutes(client, clock):
    phone = next_phone()
    ask_code(client, phone)
    clock.advance(minutes=4, seconds=59)
    assert sign_in(client, phone, latest_code(client, phone)).status_code == 200


def test_a_code_works_once(client):
    phone = next_phone()
    ask_code(client, phone)
    code = latest_code(client, phone)
    assert sign_in(client, phone, code).status_code == 200
    response = sign_in(client, phone, code)
    assert (response.status_code, response.get_json()["code"]) == (401, "otp_used")


def test_the_sixth_wrong_try_kills_the_code(client):
    phone = next_phone()
    ask_code(client, phone)
    code = latest_code(client, phone)
    for _ in range(5):
        assert sign_in(client, phone, wrong(code)).get_json()["code"] == "otp_invalid"
    response = sign_in(client, phone, wrong(code))
    assert (response.status_code, response.get_json()["code"]) == (401, "otp_locked")
    # Even the right code is dead now; a fresh code works.
    assert sign_in(client, phone, code).get_json()["code"] == "otp_locked"
    ask_code(client, phone)
    assert sign_in(client, phone, latest_code(client, phone)).status_code == 200


def test_only_the_newest_code_counts(client):
    phone = next_phone()
    ask_code(client, phone)
    old = latest_code(client, phone)
    ask_code(client, phone)
    new = latest_code(client, phone)
    if old != new:
        assert sign_in(client, phone, old).get_json()["code"] == "otp_invalid"
    assert sign_in(client, phone, new).status_code == 200


def test_codes_are_stored_hashed(client, app):
    from voucher_app.accounts.models import OtpCode
    from voucher_app.core.extensions import db

    phone = next_phone()
    ask_code(client, phone)
    code = latest_code(client, phone)
    stored = db.session.query(OtpCode).filter_by(phone=phone).one()
    assert code not in stored.code_hash and len(stored.code_hash) == 64


def test_bad_phone_is_a_validation_error_in_chinese(client):
    response = client.post("/api/v1/auth/otp", json={"phone": "12345"})
    body = response.get_json()
    assert response.status_code == 422 and body["code"] == "validation_error"
    assert body["errors"][0]["field"] == "phone" and "手机号" in body["errors"][0]["message"]


def test_errors_speak_english_when_asked(client):
    response = client.post("/api/v1/auth/otp", json={"phone": "12345"}, headers={"Accept-Language": "en"})
    assert "mobile number" in response.get_json()["errors"][0]["message"]


def test_missing_body_is_a_validation_error(client):
    response = client.post("/api/v1/auth/otp", data="not json", content_type="text/plain")
    assert (response.status_code, response.get_json()["code"]) == (422, "validation_error")


def test_staff_sign_in_with_password(client):
    admin = make_staff(Role.admin)
    response = client.post("/api/v1/auth/token", json={"username": admin.username, "password": PASSWORD})
    assert response.status_code == 200 and response.get_json()["role"] == "admin"


def test_wrong_password_and_unknown_user_look_the_same(client):
    admin = make_staff(Role.admin)
    bad = client.post("/api/v1/auth/token", json={"username": admin.username, "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "nope-nope"})
    assert bad.status_code == unknown.status_code == 401
    assert bad.get_json()["code"] == unknown.get_json()["code"] == "invalid_credentials"


def test_passwords_are_really_hashed(app):
    admin = make_staff(Role.viewer)
    assert PASSWORD not in admin.password_hash and admin.password_hash.startswith(("scrypt:", "pbkdf2:"))


def me(client, token):
    return client.get("/api/v1/me", headers=bearer(token))


def signed_in_staff(client, role: Role):
    """A staff member and a bearer token of theirs that works."""
    user = make_staff(role)
    token = staff_token(client, user.username)
    assert me(client, token).status_code == 200
    return user, token


def test_disabled_staff_cannot_sign_in_and_their_token_stops_working(client, app):
    from voucher_app.core.extensions import db

    cashier, token = signed_in_staff(client, Role.cashier)
    cashier.is_active = False
    db.session.commit()
    assert me(client, token).get_json()["code"] == "unauthorized"
    assert client.post("/api/v1/auth/token", json={"username": cashier.username, "password": PASSWORD}
                       ).status_code == 401


def test_forged_or_missing_tokens_are_unauthorized(client):
    assert client.get("/api/v1/me").get_json()["code"] == "unauthorized"
    response = client.get("/api/v1/me", headers=bearer("eyJ1IjoiYWJjIn0.forged.sig"))
    assert (response.status_code, response.get_json()["code"]) == (401, "unauthorized")


def test_unknown_api_path_is_problem_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_staff_tokens_expire_after_twelve_hours_even_in_use(client, clock):
    admin = make_staff(Role.admin)
    token = staff_token(client, admin.username)
    for _ in range(28):  # in use every 25 minutes (never idle) for 11 h 40 min
        clock.advance(minutes=25)
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    clock.advance(minutes=19)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200  # 11:59
    clock.advance(minutes=2)
    assert client.get("/api/v1/me", headers=bearer(token)).get_json()["code"] == "unauthorized"


class TestEveryRequestSeesTheSignInAsItIsNow:
    """A token is checked against its sign-in and account on every request, on every worker: nothing
    remembered lets a disabled account or a revoked token through for even a moment."""

    def test_a_disabled_account_stops_working_at_once(self, client):
        from voucher_app.core.extensions import db

        cashier, token = signed_in_staff(client, Role.cashier)
        assert me(client, token).status_code == 200
        cashier.is_active = False
        db.session.commit()
        assert me(client, token).get_json()["code"] == "unauthorized"

    def test_a_changed_name_is_seen_at_once(self, client):
        from voucher_app.core.extensions import db

        admin, token = signed_in_staff(client, Role.admin)
        assert me(client, token).status_code == 200
        admin.display_name = "新名字"
        db.session.commit()
        assert me(client, token).get_json()["display_name"] == "新名字"

    def test_a_token_whose_role_changed_is_refused(self, client):
        from voucher_app.core.extensions import db

        viewer, token = signed_in_staff(client, Role.viewer)
        viewer.role = Role.admin
        db.session.commit()
        assert me(client, token).get_json()["code"] == "unauthorized"
