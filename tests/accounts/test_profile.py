"""A resident's profile: the ID number binds accounts to one person, and is never shown back."""
from __future__ import annotations

import pytest

from tests.app.test_pages import csrf_token, sign_in_resident, text
from tests.builders import bearer, id_number, make_staff, next_phone, resident_token, staff_token
from tests.vouchers.test_claims_api import claim, published, small
from voucher_app.accounts.models import User
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role

BORN_1949 = "11010519491231002X"
BORN_1956 = id_number("11010219560301003")  # 110102195603010037


@pytest.fixture
def admin(client, city):
    return bearer(staff_token(client, make_staff(Role.admin).username))


def put_profile(client, token, **body):
    return client.put("/api/v1/me/profile", json={"district": "lizhou", **body}, headers=bearer(token))


def test_a_valid_id_number_binds_and_is_shown_masked_once(client, city):
    token = resident_token(client)
    response = put_profile(client, token, id_number=BORN_1949.lower())
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"district": "lizhou", "birth_year": 1949, "id_number_masked": "11**************2X",
                                   "id_number_bound": True, "verified": False, "complete": True}
    assert response.headers["Cache-Control"] == "no-store, private"


def test_get_never_returns_the_number(client, city):
    token = resident_token(client)
    assert client.get("/api/v1/me/profile", headers=bearer(token)).get_json() == {
        "district": None, "birth_year": None, "id_number_masked": None, "id_number_bound": False, "verified": False,
        "complete": False}
    put_profile(client, token, id_number=BORN_1956, birth_year=1956)
    response = client.get("/api/v1/me/profile", headers=bearer(token))
    assert response.get_json() == {"district": "lizhou", "birth_year": 1956, "id_number_masked": None,
                                   "id_number_bound": True, "verified": False, "complete": True}
    assert BORN_1956 not in text(response) and BORN_1956[-6:] not in text(response)
    stored = db.session.scalars(db.select(User).where(User.id_hash.is_not(None))).one()
    assert BORN_1956 not in stored.id_hash and len(stored.id_hash) == 64


@pytest.mark.parametrize("number", ["11010519491231002", "110105194912310021", "110105194913310021", "abc"])
def test_an_invalid_id_number_is_refused_with_the_field(client, city, number):
    response = put_profile(client, resident_token(client), id_number=number)
    body = response.get_json()
    assert (response.status_code, body["code"]) == (422, "validation_error")
    assert [e["field"] for e in body["errors"]] == ["id_number"]


def test_an_unknown_district_and_a_wrong_birth_year_are_named(client, city):
    response = put_profile(client, resident_token(client), id_number=BORN_1949, district="atlantis", birth_year=1950)
    assert response.status_code == 422
    assert sorted(e["field"] for e in response.get_json()["errors"]) == ["birth_year", "district"]


def test_a_missing_field_is_named(client, city):
    response = client.put("/api/v1/me/profile", json={"district": "lizhou"}, headers=bearer(resident_token(client)))
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "id_number"


def test_staff_have_no_profile(client, city):
    token = staff_token(client, make_staff(Role.viewer).username)
    assert client.get("/api/v1/me/profile", headers=bearer(token)).status_code == 403


def test_a_bound_number_cannot_be_changed_to_another(client, city):
    token = resident_token(client)
    assert put_profile(client, token, id_number=BORN_1949).status_code == 200
    assert put_profile(client, token, id_number=BORN_1949, district="zhaohua").status_code == 200  # same number
    response = put_profile(client, token, id_number=BORN_1956)
    assert (response.status_code, response.get_json()["code"]) == (409, "conflict")
    assert client.get("/api/v1/me/profile", headers=bearer(token)).get_json()["birth_year"] == 1949


def test_a_second_phone_with_the_same_id_number_shares_the_limit(client, admin, clock):
    campaign = published(client, admin, **small(quantity=5, limit_per_resident=1, limit_per_round=1))
    first, second, stranger = resident_token(client), resident_token(client, next_phone()), resident_token(client)
    assert put_profile(client, first, id_number=BORN_1949).status_code == 200
    assert put_profile(client, second, id_number=BORN_1949.lower()).status_code == 200
    assert put_profile(client, stranger, id_number=BORN_1956).status_code == 200
    clock.advance(hours=1)

    assert claim(client, first, campaign).status_code == 201
    response = claim(client, second, campaign)
    assert (response.status_code, response.get_json()["code"]) == (409, "limit_reached")
    assert claim(client, stranger, campaign).status_code == 201


# The page ------------------------------------------------------------------------------------------------

@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


def signed_in_page(client):
    assert sign_in_resident(client, next_phone()).status_code == 302
    page = client.get("/me/profile")
    assert page.status_code == 200
    return text(page)


def test_the_page_explains_why_and_binds(client, city):
    html = signed_in_page(client)
    assert "为什么需要身份证号" in html and "利州区" in html and "尚未绑定身份证" in html
    response = client.post("/me/profile", data={"csrf_token": csrf_token(html), "district": "lizhou",
                                                "birth_year": "", "id_number": BORN_1949})
    assert response.status_code == 302 and response.headers["Location"] == "/me/profile"
    html = text(client.get("/me/profile"))
    assert "11**************2X" in html  # flashed once, masked
    assert "已绑定身份证" in html and "尚未由社区工作人员核验" in html
    assert BORN_1949 not in html
    assert 'value="1949"' in html and '<option selected value="lizhou">' in html


def test_the_page_names_the_wrong_field_in_chinese_and_keeps_what_was_typed(client, city):
    html = signed_in_page(client)
    response = client.post("/me/profile", data={"csrf_token": csrf_token(html), "district": "zhaohua",
                                                "birth_year": "1960", "id_number": "110105194912310021"})
    html = text(response)
    assert response.status_code == 422
    assert "身份证号码无效" in html and 'aria-invalid="true"' in html
    assert "110105194912310021</textarea>" in html and 'value="1960"' in html
    assert '<option selected value="zhaohua">' in html


def test_the_page_is_in_english_after_choosing_it(client, city):
    client.get("/lang/en")
    html = signed_in_page(client)
    assert "Why we ask for your ID number" in html and "My profile" in html
    response = client.post("/me/profile", data={"csrf_token": csrf_token(html), "district": "lizhou",
                                                "birth_year": "1950", "id_number": BORN_1949})
    assert response.status_code == 422 and "The birth year does not match the ID number." in text(response)


def test_the_page_refuses_another_number_next_to_the_field(client, city):
    html = signed_in_page(client)
    client.post("/me/profile", data={"csrf_token": csrf_token(html), "district": "lizhou", "id_number": BORN_1949})
    html = text(client.get("/me/profile"))
    response = client.post("/me/profile", data={"csrf_token": csrf_token(html), "district": "lizhou",
                                                "birth_year": "", "id_number": BORN_1956})
    assert response.status_code == 422 and "您的账户已绑定其他身份证号" in text(response)


def test_residents_find_the_page_in_the_header(client, city):
    html = signed_in_page(client)
    assert 'href="/me/profile"' in text(client.get("/wallet")) and "我的资料" in html
