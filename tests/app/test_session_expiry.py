"""Issue #20, item 1: a form sent after its session ended says so, in the person's language, and offers the
sign-in with a ``next`` that comes back to the form's page; nothing is done. ``next`` never leads off the
site, the API keeps answering problem+json, and a page's script gets problem+json too. With CSRF on."""
from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from merchants.models import MerchantStatus
from tests.app.test_pages import OFF_SITE, form_token, sign_in_staff, text
from tests.builders import PASSWORD, make_account, make_merchant
from voucher_app.core.extensions import db
from voucher_app.core.http import referred_path
from voucher_app.core.roles import Role
from voucher_app.redemptions.models import RedemptionAttempt

SITE = "http://localhost"  # the test client's host
ZH_EXPIRED = "您的登录已过期，请重新登录。"
EN_EXPIRED = "Your session has expired. Please sign in again."


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def cashier(app, city):
    merchant, _owner = make_merchant(MerchantStatus.approved)
    return make_account(Role.cashier, merchant)


def sign_in_links(page: str) -> list[tuple[str, str | None]]:
    """The sign-in buttons of the session-expired page: (path, next)."""
    links = []
    for href in re.findall(r'<a class="button[^"]*" href="([^"]+)"\s+data-testid="sign-in-[a-z]+"', page):
        target = urlsplit(html.unescape(href))
        links.append((target.path, parse_qs(target.query).get("next", [None])[0]))
    return links


def expired_code(page: str) -> str | None:
    match = re.search(r'data-code="(\w+)" data-testid="session-expired"', page)
    return match.group(1) if match else None


def attempts() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(RedemptionAttempt))


def test_a_till_sale_sent_without_a_session_asks_the_cashier_to_sign_in_again(client, cashier):
    response = client.post("/till/redeem", data={"token": "ABCDE-FGHIJ-1234", "bill": "88"},
                           headers={"Referer": f"{SITE}/till"})
    page = text(response)
    assert response.status_code == 400 and expired_code(page) == "session_expired"
    assert ZH_EXPIRED in page
    assert sign_in_links(page) == [("/staff/login", "/till")]
    assert attempts() == 0  # nothing was done

    signed_in = client.post("/staff/login?next=/till", data={"username": cashier.username, "password": PASSWORD,
                                                            "csrf_token": form_token(client, "/staff/login?next=/till")})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/till"


def test_the_page_speaks_english_to_an_english_reader(client, cashier):
    client.set_cookie("lang", "en")
    page = text(client.post("/till/redeem", data={"token": "x", "bill": "1"}, headers={"Referer": f"{SITE}/till"}))
    assert expired_code(page) == "session_expired" and EN_EXPIRED in page and ZH_EXPIRED not in page
    assert "Sign in again" in page


def test_a_resident_form_offers_the_residents_sign_in_back_to_the_form(client, city):
    response = client.post("/me/profile", data={"district": "lizhou", "birth_year": "1956"})
    page = text(response)
    assert response.status_code == 400 and expired_code(page) == "session_expired"
    assert sign_in_links(page) == [("/login", "/me/profile")]


def test_a_form_open_to_everyone_offers_both_sign_ins(client, city):
    page = text(client.post("/merchants/register", data={"name": "小店"}))
    assert expired_code(page) == "session_expired"
    assert [path for path, _next in sign_in_links(page)] == ["/login", "/staff/login"]


@pytest.mark.parametrize("referrer", ["https://evil.example/till", "http://evil.example/till", "//evil.example/till",
                                      "http://localhost.evil.example/till", "http://localhost:8080/till",
                                      "javascript:alert(1)"])
def test_a_referer_from_elsewhere_never_becomes_next(client, cashier, referrer):
    page = text(client.post("/till/redeem", data={"token": "x", "bill": "1"}, headers={"Referer": referrer}))
    # /till/redeem itself only takes posts: nowhere to come back to, so no ``next`` at all.
    assert sign_in_links(page) == [("/staff/login", None)]


def test_an_address_that_only_takes_posts_or_a_sign_in_page_is_no_next(client, cashier):
    for referrer in (f"{SITE}/till/redeem", f"{SITE}/staff/login", f"{SITE}/no/such/page"):
        page = text(client.post("/till/redeem", data={"token": "x"}, headers={"Referer": referrer}))
        assert sign_in_links(page) == [("/staff/login", None)], referrer


@pytest.mark.parametrize("target", OFF_SITE + ["javascript:alert(1)", "/\\\\evil.example", " //evil.example"])
def test_an_unsafe_next_is_refused_when_signing_in_again(client, cashier, target):
    response = sign_in_staff(client, cashier.username, PASSWORD, next=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location


def test_referred_path_keeps_only_this_sites_pages():
    assert referred_path(f"{SITE}/till?x=1", f"{SITE}/") == "/till?x=1"
    assert referred_path(f"{SITE}/till", "https://localhost/") is None  # another scheme is another origin
    for referrer in (None, "", "https://evil.example/till", "//localhost/till", "/till"):
        assert referred_path(referrer, f"{SITE}/") is None, referrer


def test_a_sign_in_that_ended_while_the_till_was_open_is_401_and_keeps_the_way_back(client, cashier, clock):
    assert sign_in_staff(client, cashier.username, PASSWORD).status_code == 302
    token = form_token(client, "/till")
    clock.advance(hours=13)  # past the longest a staff sign-in lasts (STAFF_TOKEN_TTL_SECONDS)
    response = client.post("/till/redeem", data={"token": "ABCDE-FGHIJ-1234", "bill": "88", "csrf_token": token},
                           headers={"Referer": f"{SITE}/till"})
    page = text(response)
    assert response.status_code == 401 and expired_code(page) == "session_expired" and ZH_EXPIRED in page
    assert sign_in_links(page) == [("/staff/login", "/till")]
    assert attempts() == 0


def test_a_stale_form_of_someone_still_signed_in_sends_them_back_to_the_page(client, cashier):
    assert sign_in_staff(client, cashier.username, PASSWORD).status_code == 302
    response = client.post("/till/redeem", data={"token": "x", "bill": "1", "csrf_token": "stale"},
                           headers={"Referer": f"{SITE}/till"})
    page = text(response)
    assert response.status_code == 400 and expired_code(page) == "session_expired"
    assert re.search(r'href="/till" data-testid="back-to-form"', page)


def test_the_tills_script_gets_problem_json(client, cashier):
    response = client.post("/till/check", json={"token": "ABCDE-FGHIJ-1234"}, headers={"X-CSRFToken": "gone"})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "session_expired" and body["title"] == ZH_EXPIRED


def test_the_api_still_answers_problem_json(client):
    response = client.post("/api/v1/redemptions", json={"token": "x", "bill_cents": 100})
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "unauthorized"
