"""Issue #15, items 6 and 7: signing out, revocation, idle staff, and locking a username after ten
wrong passwords. What an account thief would try, through the real server where workers matter
(two gunicorn workers: a revocation must hold on the one that did not see it happen), on SQLite and
PostgreSQL."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from merchants.models import MerchantStatus
from tests.app.test_pages import form_token, sign_in_resident, sign_in_staff
from tests.builders import PASSWORD, bearer, make_account, make_merchant, make_staff, next_phone, staff_token
from tests.http_client import Http
from voucher_app.accounts.models import User
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role


@pytest.fixture
def app_overrides() -> dict:
    # The pages as a browser meets them, and the idle limit as production has it (the testing
    # configuration lets tests move the clock by hours within one sign-in).
    return {"WTF_CSRF_ENABLED": True, "STAFF_IDLE_SECONDS": 30 * 60}


@pytest.fixture
def http(server) -> Http:
    return Http(server.url)


def sign_in(http: Http, username: str, password: str = PASSWORD):
    return http.post("/api/v1/auth/token", {"username": username, "password": password})


def token_of(http: Http, username: str) -> str:
    status, body, _ = sign_in(http, username)
    assert status == 200, body
    return body["token"]


def calls_all_refused(http: Http, token: str, times: int = 6) -> bool:
    """Several calls, so both workers answer at least one of them in practice."""
    return all(http.get("/api/v1/me", token=token)[0] == 401 for _ in range(times))


# Signing out ----------------------------------------------------------------------------------------

def test_logout_revokes_the_token_on_every_worker(http):
    resident = http.resident_token(next_phone())
    other = http.resident_token(next_phone())
    assert all(http.get("/api/v1/me", token=resident)[0] == 200 for _ in range(4))
    status, body, _ = http.post("/api/v1/auth/logout", token=resident)
    assert (status, body) == (204, None)
    assert calls_all_refused(http, resident)
    status, body, _ = http.get("/api/v1/me", token=resident)
    assert body["code"] == "unauthorized"
    assert http.get("/api/v1/me", token=other)[0] == 200  # the resident's other sign-ins are theirs alone


def test_logout_needs_a_token(http):
    status, body, _ = http.post("/api/v1/auth/logout")
    assert (status, body["code"]) == (401, "unauthorized")


def test_staff_sign_out_too(http):
    admin = make_staff(Role.admin)
    token = token_of(http, admin.username)
    assert http.post("/api/v1/auth/logout", token=token)[0] == 204
    assert calls_all_refused(http, token)
    assert http.post("/api/v1/auth/logout", token=token)[0] == 401  # signing out twice is refused, not an error


def test_signing_out_of_the_page_kills_a_copied_session_cookie(client):
    admin = make_staff(Role.admin)
    assert sign_in_staff(client, admin.username, PASSWORD).status_code == 302
    stolen = client.get_cookie("session").value
    thief = client.application.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/bureau/campaigns").status_code == 200  # the copy works while the session lives
    client.post("/logout", data={"csrf_token": form_token(client, "/")})
    assert thief.get("/bureau/campaigns").headers["Location"].startswith("/staff/login")


def test_signing_out_kills_a_copied_remember_me_cookie(client):
    assert sign_in_resident(client, next_phone()).status_code == 302
    remembered = client.get_cookie("remember_token").value
    thief = client.application.test_client()
    thief.set_cookie("remember_token", remembered)  # no session: Flask-Login signs in from this cookie
    assert thief.get("/wallet").status_code == 200
    client.post("/logout", data={"csrf_token": form_token(client, "/")})
    fresh = client.application.test_client()
    fresh.set_cookie("remember_token", remembered)
    assert fresh.get("/wallet").headers["Location"].startswith("/login")


# Revocation by the bureau or the owner --------------------------------------------------------------

def test_suspending_a_shop_signs_its_people_out_at_once(http):
    merchant, owner = make_merchant(MerchantStatus.approved)
    cashier = make_account(Role.cashier, merchant)
    owner_token, cashier_token = token_of(http, owner.username), token_of(http, cashier.username)
    admin = token_of(http, make_staff(Role.admin).username)
    status, _, _ = http.post(f"/api/v1/merchants/{merchant.id}/suspend", {"reason": "套现嫌疑"}, token=admin)
    assert status == 200
    assert calls_all_refused(http, owner_token) and calls_all_refused(http, cashier_token)
    assert http.get("/api/v1/me", token=admin)[0] == 200


def test_disabling_a_cashier_signs_them_out_at_once(http):
    merchant, owner = make_merchant(MerchantStatus.approved)
    cashier = make_account(Role.cashier, merchant)
    cashier_token = token_of(http, cashier.username)
    status, body, _ = http.post(f"/api/v1/merchants/{merchant.id}/staff/{cashier.id}/disable",
                                token=token_of(http, owner.username))
    assert status == 200, body
    assert calls_all_refused(http, cashier_token)
    assert sign_in(http, cashier.username)[1]["code"] == "invalid_credentials"


# Idle staff, long-lived residents --------------------------------------------------------------------

def test_a_till_left_alone_for_half_an_hour_signs_out(client, clock, city):
    cashier = make_account(Role.cashier, make_merchant(MerchantStatus.approved)[0])
    token = bearer(staff_token(client, cashier.username))
    for _ in range(4):  # in use every 29 minutes: still signed in
        clock.advance(minutes=29)
        assert client.get("/api/v1/me", headers=token).status_code == 200
    clock.advance(minutes=31)
    assert client.get("/api/v1/me", headers=token).get_json()["code"] == "unauthorized"


class TestIdleTimeIsASetting:
    @pytest.fixture
    def app_overrides(self):
        return {"STAFF_IDLE_SECONDS": 5 * 60}

    def test_five_minutes(self, client, clock):
        admin = make_staff(Role.admin)
        token = bearer(staff_token(client, admin.username))
        clock.advance(minutes=6)
        assert client.get("/api/v1/me", headers=token).status_code == 401


def test_a_residents_token_lasts_two_weeks_without_idling_out(client, clock):
    from tests.builders import resident_token

    token = bearer(resident_token(client))
    clock.advance(days=13, hours=23)
    assert client.get("/api/v1/me", headers=token).status_code == 200
    clock.advance(hours=2)
    assert client.get("/api/v1/me", headers=token).status_code == 401


def test_a_staff_page_session_idles_out_too(client, clock):
    admin = make_staff(Role.admin)
    sign_in_staff(client, admin.username, PASSWORD)
    clock.advance(minutes=20)
    assert client.get("/bureau/campaigns").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/bureau/campaigns").headers["Location"].startswith("/staff/login")


# Ten wrong passwords --------------------------------------------------------------------------------

def test_ten_wrong_passwords_lock_the_username_even_for_the_right_one(http):
    admin = make_staff(Role.admin)
    answers = [sign_in(http, admin.username, "wrong-password") for _ in range(10)]
    assert {(status, body["code"]) for status, body, _ in answers} == {(401, "invalid_credentials")}
    status, body, _ = sign_in(http, admin.username)  # the right password
    assert (status, body["code"]) == (429, "account_locked")
    assert "15" in body["detail"]


def test_an_unknown_username_gets_exactly_the_same_answers(http):
    admin = make_staff(Role.admin)
    unknown = f"nobody-{uuid.uuid4().hex[:8]}"
    for _ in range(10):
        known_answer, unknown_answer = sign_in(http, admin.username, "wrong-password"), sign_in(http, unknown, "x" * 9)
        assert known_answer[:2] == unknown_answer[:2]
    assert sign_in(http, admin.username)[:2] == sign_in(http, unknown, "x" * 9)[:2]


def test_parallel_guesses_all_count(http):
    admin = make_staff(Role.admin)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: sign_in(http, admin.username, f"guess-{i:04d}"), range(24)))
    codes = [body["code"] for _, body, _ in answers]
    assert codes.count("invalid_credentials") == 10 or set(codes) <= {"invalid_credentials", "account_locked"}
    assert sign_in(http, admin.username)[1]["code"] == "account_locked"


def test_the_lock_ends_after_fifteen_minutes_and_a_right_password_resets_the_count(client, clock):
    admin = make_staff(Role.admin)

    def attempt(password: str):
        return client.post("/api/v1/auth/token", json={"username": admin.username, "password": password})

    for _ in range(9):
        attempt("wrong-password")
    assert attempt(PASSWORD).status_code == 200  # nine in a row, then the right one: the run ends
    for _ in range(9):
        assert attempt("wrong-password").status_code == 401
    assert attempt(PASSWORD).status_code == 200
    for _ in range(10):
        attempt("wrong-password")
    clock.advance(minutes=14, seconds=59)
    assert attempt(PASSWORD).get_json()["code"] == "account_locked"
    clock.advance(seconds=2)
    assert attempt(PASSWORD).status_code == 200


def test_the_staff_sign_in_page_says_the_username_is_locked(client):
    admin = make_staff(Role.admin)
    for _ in range(10):
        sign_in_staff(client, admin.username, "wrong-password")
    page = sign_in_staff(client, admin.username, PASSWORD)
    assert page.status_code == 422
    assert "15" in page.get_data(as_text=True) and "分钟" in page.get_data(as_text=True)


def test_passwords_are_hashed_with_scrypt(client):
    from voucher_app.accounts.service import create_staff

    user = create_staff(f"hash-{uuid.uuid4().hex[:6]}", "a-long-password", Role.viewer)
    stored = db.session.get(User, user.id).password_hash
    assert stored.startswith("scrypt:32768:8:1$")
