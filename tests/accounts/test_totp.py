"""Issue #15, item 8: a second factor for staff — an authenticator app's codes (TOTP) and one-time
recovery codes; required of administrators in production. Through the real server and the twin
app (for the movable clock), on SQLite and PostgreSQL."""
from __future__ import annotations

import re

import pyotp
import pytest

from tests.builders import PASSWORD, bearer, make_staff, staff_token
from tests.http_client import Http
from voucher_app.core.roles import Role


def token_request(client, username: str, totp: str | None = None, password: str = PASSWORD):
    body = {"username": username, "password": password, **({"totp": totp} if totp is not None else {})}
    return client.post("/api/v1/auth/token", json=body)


def turned_on(client, clock, user) -> dict:
    """Set up and confirm ``user``'s authenticator over the API; the enrolment."""
    headers = bearer(staff_token(client, user.username))
    enrolment = client.post("/api/v1/me/totp", headers=headers)
    assert enrolment.status_code == 200 and enrolment.headers["Cache-Control"].startswith("no-store")
    body = enrolment.get_json()
    code = pyotp.TOTP(body["secret"]).at(clock.now())
    assert client.post("/api/v1/me/totp/confirm", json={"code": code}, headers=headers).status_code == 204
    clock.advance(seconds=30)  # the confirming code is spent; the next sign-in uses the next one
    return body


def test_setting_up_gives_a_secret_an_otpauth_uri_and_recovery_codes(client, clock):
    admin = make_staff(Role.admin)
    headers = bearer(staff_token(client, admin.username))
    body = client.post("/api/v1/me/totp", headers=headers).get_json()
    assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
    assert body["otpauth_uri"].startswith("otpauth://totp/") and f"secret={body['secret']}" in body["otpauth_uri"]
    assert len(body["recovery_codes"]) == 10 and len(set(body["recovery_codes"])) == 10
    assert token_request(client, admin.username).status_code == 200  # not on until confirmed
    wrong = client.post("/api/v1/me/totp/confirm", json={"code": "000000"}, headers=headers)
    assert (wrong.status_code, wrong.get_json()["code"]) == (401, "totp_invalid")
    assert token_request(client, admin.username).status_code == 200


def test_once_on_signing_in_needs_a_fresh_code(client, clock):
    owner = make_staff(Role.merchant_owner)
    secret = turned_on(client, clock, owner)["secret"]
    missing = token_request(client, owner.username)
    assert (missing.status_code, missing.get_json()["code"]) == (401, "totp_required")
    wrong = token_request(client, owner.username, "123456" if pyotp.TOTP(secret).at(clock.now()) != "123456"
                          else "654321")
    assert (wrong.status_code, wrong.get_json()["code"]) == (401, "totp_invalid")
    code = pyotp.TOTP(secret).at(clock.now())
    assert token_request(client, owner.username, code).status_code == 200
    replayed = token_request(client, owner.username, code)
    assert replayed.get_json()["code"] == "totp_invalid"  # a code works once
    clock.advance(seconds=30)
    assert token_request(client, owner.username, pyotp.TOTP(secret).at(clock.now())).status_code == 200
    assert token_request(client, owner.username, "000000", password="wrong-password").get_json()["code"] \
        == "invalid_credentials"  # the password first: a code never tells whether the password was right


def test_a_recovery_code_works_once(client, clock):
    admin = make_staff(Role.admin)
    codes = turned_on(client, clock, admin)["recovery_codes"]
    assert token_request(client, admin.username, codes[0].lower()).status_code == 200
    assert token_request(client, admin.username, codes[0]).get_json()["code"] == "totp_invalid"
    assert token_request(client, admin.username, codes[1].replace("-", "")).status_code == 200


def test_wrong_codes_count_towards_the_lock(client, clock):
    admin = make_staff(Role.admin)
    turned_on(client, clock, admin)
    for _ in range(10):
        token_request(client, admin.username, "000001")
    assert token_request(client, admin.username, "000001").get_json()["code"] == "account_locked"


def test_residents_have_no_second_factor_to_set_up(client):
    from tests.builders import resident_token

    response = client.post("/api/v1/me/totp", headers=bearer(resident_token(client)))
    assert (response.status_code, response.get_json()["code"]) == (403, "forbidden")


def test_a_factor_already_on_cannot_be_replaced_by_whoever_holds_a_session(client, clock):
    admin = make_staff(Role.admin)
    secret = turned_on(client, clock, admin)["secret"]
    headers = bearer(token_request(client, admin.username, pyotp.TOTP(secret).at(clock.now())).get_json()["token"])
    response = client.post("/api/v1/me/totp", headers=headers)
    assert (response.status_code, response.get_json()["code"]) == (409, "conflict")


class TestProduction:
    @pytest.fixture
    def app_overrides(self):
        return {"TOTP_REQUIRED_FOR_ADMINS": True}  # as ProductionConfig has it

    def test_production_requires_it(self):
        import config

        assert config.ProductionConfig.TOTP_REQUIRED_FOR_ADMINS and not config.Config.TOTP_REQUIRED_FOR_ADMINS

    def test_administrators_must_have_the_factor(self, client, clock):
        admin, viewer = make_staff(Role.admin), make_staff(Role.viewer)
        refused = token_request(client, admin.username)
        assert (refused.status_code, refused.get_json()["code"]) == (401, "totp_required")
        assert f"voucher totp setup {admin.username}" in refused.get_json()["detail"]
        assert token_request(client, viewer.username).status_code == 200

    def test_the_first_administrator_sets_it_up_from_the_shell(self, client, clock, runner, monkeypatch):
        admin = make_staff(Role.admin)
        secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        monkeypatch.setattr(pyotp, "random_base32", lambda: secret)  # the one the test's "phone" scans
        wrong = runner.invoke(args=["totp", "setup", admin.username], input="000000\n")
        assert wrong.exit_code != 0 and f"secret: {secret}" in wrong.output
        result = runner.invoke(args=["totp", "setup", admin.username],
                               input=pyotp.TOTP(secret).at(clock.now()) + "\n")
        assert result.exit_code == 0, result.output
        assert f"the authenticator of {admin.username} is on" in result.output
        assert len(re.findall(r"^  [0-9A-F]{5}-[0-9A-F]{5}$", result.output, re.M)) == 10
        clock.advance(seconds=30)
        assert token_request(client, admin.username, pyotp.TOTP(secret).at(clock.now())).status_code == 200


def test_the_security_page_shows_a_qr_and_turns_the_factor_on(client, clock):
    from tests.app.test_pages import text

    admin = make_staff(Role.admin)
    assert client.post("/staff/login", data={"username": admin.username, "password": PASSWORD}).status_code == 302
    page = client.post("/staff/security", data={"step": "begin"})
    html = text(page)
    assert page.status_code == 200 and "<svg" in html and 'data-testid="recovery-codes"' in html
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]{32})<', html).group(1)
    done = client.post("/staff/security", data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert done.status_code == 302
    assert 'data-testid="totp-on"' in text(client.get("/staff/security"))
    client.post("/logout")
    clock.advance(seconds=30)
    asked = client.post("/staff/login", data={"username": admin.username, "password": PASSWORD})
    assert asked.status_code == 422 and "动态码" in text(asked)
    signed_in = client.post("/staff/login", data={"username": admin.username, "password": PASSWORD,
                                                  "totp": pyotp.TOTP(secret).at(clock.now())})
    assert signed_in.status_code == 302


def test_through_the_real_server(server):
    http = Http(server.url)
    admin = make_staff(Role.admin)
    _, signed_in, _ = http.post("/api/v1/auth/token", {"username": admin.username, "password": PASSWORD})
    _, enrolment, _ = http.post("/api/v1/me/totp", token=signed_in["token"])
    totp = pyotp.TOTP(enrolment["secret"])
    status, _, _ = http.post("/api/v1/me/totp/confirm", {"code": totp.now()}, token=signed_in["token"])
    assert status == 204
    status, body, _ = http.post("/api/v1/auth/token", {"username": admin.username, "password": PASSWORD})
    assert (status, body["code"]) == (401, "totp_required")
    status, body, _ = http.post("/api/v1/auth/token", {"username": admin.username, "password": PASSWORD,
                                                       "totp": enrolment["recovery_codes"][0]})
    assert status == 200 and body["token"]
