"""The web pages, as a browser meets them: language and text size, signing in and out, with CSRF on."""
from __future__ import annotations

import re

import pytest

from tests.builders import PASSWORD, latest_code, make_staff, next_phone
from voucher_app.core.phones import mask_phone
from voucher_app.core.roles import Role

OFF_SITE = ["//evil.example", "https://evil.example/", "/\\evil.example", "/\t/evil.example", "http:evil.example"]


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


def text(response) -> str:
    return response.get_data(as_text=True)


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def form_token(client, path: str) -> str:
    """The CSRF token of the form on the page at ``path``."""
    response = client.get(path)
    assert response.status_code == 200
    return csrf_token(text(response))


def ask_code_on_the_page(client, phone: str):
    return client.post("/login/code", data={"phone": phone, "csrf_token": form_token(client, "/login")})


def sign_in_resident(client, phone: str, *, code: str | None = None, next: str | None = None):
    """Ask for a code on the sign-in page, read it from the outbox, and type it in."""
    sent = ask_code_on_the_page(client, phone)
    assert sent.status_code == 302, text(sent)
    token = form_token(client, sent.headers["Location"])
    return client.post("/login", query_string={"next": next} if next else None,
                       data={"phone": phone, "code": code or latest_code(client, phone), "csrf_token": token})


def sign_in_staff(client, username: str, password: str, *, next: str | None = None):
    token = form_token(client, "/staff/login")
    return client.post("/staff/login", query_string={"next": next} if next else None,
                       data={"username": username, "password": password, "csrf_token": token})


# Language and text size ---------------------------------------------------------------------------------

def test_home_page_is_in_chinese_by_default(client, city):
    page = text(client.get("/"))
    assert '<html lang="zh-CN">' in page
    assert "广元市消费券" in page and "市民" in page and "登录" in page


def test_home_page_is_in_english_after_choosing_it(client, city):
    response = client.get("/lang/en")
    assert response.status_code == 302 and "lang=en" in response.headers["Set-Cookie"]
    page = text(client.get("/"))
    assert '<html lang="en">' in page
    assert "Guangyuan consumer vouchers" in page and "Residents" in page


def test_chinese_can_be_chosen_again(client):
    client.get("/lang/en")
    client.get("/lang/zh")
    assert '<html lang="zh-CN">' in text(client.get("/"))


def test_an_unknown_language_changes_nothing(client):
    response = client.get("/lang/xx")
    assert "Set-Cookie" not in response.headers
    assert '<html lang="zh-CN">' in text(client.get("/"))


def test_large_text_is_remembered(client):
    response = client.get("/display/large")
    assert response.status_code == 302 and "text=large" in response.headers["Set-Cookie"]
    assert '<body class="text-large">' in text(client.get("/"))
    client.get("/display/normal")
    assert '<body class="">' in text(client.get("/"))


def test_switches_return_to_the_page_they_were_used_on(client):
    assert client.get("/lang/en", query_string={"next": "/staff/login"}).headers["Location"] == "/staff/login"


# Residents -------------------------------------------------------------------------------------------------

def test_resident_signs_in_with_the_sms_code_and_sees_the_phone_masked(client):
    phone = next_phone()
    response = sign_in_resident(client, phone)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = text(client.get("/"))
    assert mask_phone(phone) in home and "登录成功" in home
    assert phone not in home


def test_the_code_request_page_tells_where_the_code_went(client):
    phone = next_phone()
    page = text(client.get(ask_code_on_the_page(client, phone).headers["Location"]))
    assert "验证码" in page and 'name="code"' in page


def test_a_wrong_code_shows_the_form_again_with_the_reason_in_chinese(client):
    phone = next_phone()
    sent = ask_code_on_the_page(client, phone)
    code = latest_code(client, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    token = form_token(client, sent.headers["Location"])
    response = client.post("/login", data={"phone": phone, "code": wrong, "csrf_token": token})
    assert response.status_code == 422
    assert "验证码错误" in text(response)
    assert mask_phone(phone) not in text(client.get("/"))


def test_a_malformed_phone_is_explained_on_the_form(client):
    response = client.post("/login/code", data={"phone": "12345", "csrf_token": form_token(client, "/login")})
    assert response.status_code == 422 and "手机号" in text(response)


@pytest.mark.parametrize("path, data", [
    ("/login/code", {"phone": "13900009999"}),
    ("/login", {"phone": "13900009999", "code": "123456"}),
    ("/staff/login", {"username": "admin", "password": PASSWORD}),
], ids=["ask code", "resident sign-in", "staff sign-in"])
def test_a_form_posted_without_its_csrf_token_is_refused(client, path, data):
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert client.get("/api/v1/dev/outbox?phone=13900009999").get_json()["items"] == []


def test_the_dev_outbox_page_lists_the_message(client):
    phone = next_phone()
    ask_code_on_the_page(client, phone)
    page = text(client.get("/dev/outbox", query_string={"phone": phone}))
    assert phone in page and latest_code(client, phone) in page and "短信发件箱" in page


# Staff -------------------------------------------------------------------------------------------------

def test_staff_sign_in_with_the_right_password(client):
    make_staff(Role.admin, username="director", display_name="商务局王科长")
    response = sign_in_staff(client, "director", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "商务局王科长" in text(client.get("/"))


def test_staff_sign_in_with_a_wrong_password_shows_an_error(client):
    make_staff(Role.admin, username="director")
    response = sign_in_staff(client, "director", "not-the-password")
    assert response.status_code == 422
    assert "用户名或密码错误" in text(response)
    assert "退出登录" not in text(client.get("/"))


def test_sign_out(client):
    make_staff(Role.viewer, username="auditor")
    sign_in_staff(client, "auditor", PASSWORD)
    token = form_token(client, "/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    home = text(client.get("/"))
    assert "auditor" not in home and "已退出登录" in home and 'href="/login"' in home


def test_sign_out_needs_the_csrf_token(client):
    make_staff(Role.viewer, username="auditor")
    sign_in_staff(client, "auditor", PASSWORD)
    assert client.post("/logout").status_code == 400
    assert "auditor" in text(client.get("/"))


# Redirects stay on this site --------------------------------------------------------------------------

def test_a_local_next_page_is_followed_after_sign_in(client):
    make_staff(Role.admin, username="director")
    assert sign_in_staff(client, "director", PASSWORD, next="/dev/outbox").headers["Location"] == "/dev/outbox"


@pytest.mark.parametrize("target", OFF_SITE)
def test_resident_sign_in_never_redirects_off_site(client, target):
    assert sign_in_resident(client, next_phone(), next=target).headers["Location"] == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_staff_sign_in_never_redirects_off_site(client, target):
    make_staff(Role.admin, username="director")
    assert sign_in_staff(client, "director", PASSWORD, next=target).headers["Location"] == "/"


@pytest.mark.parametrize("switch", ["/lang/en", "/display/large"])
@pytest.mark.parametrize("target", OFF_SITE)
def test_switches_never_redirect_off_site(client, switch, target):
    assert client.get(switch, query_string={"next": target}).headers["Location"] == "/"
    assert client.get(switch, headers={"Referer": target}).headers["Location"] == "/"
