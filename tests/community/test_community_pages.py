"""The community worker's pages, as a browser posts them (CSRF on): signing in lands on /community,
registering a resident with the consent read out, claiming for them, printing their voucher; and the
resident, signed in with the phone the worker gave, sees it in the wallet. Also ``voucher create-staff``
for a community worker."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.app.test_pages import csrf_token, sign_in_resident, sign_in_staff, text
from tests.builders import PASSWORD, bearer, make_staff, next_phone, staff_token
from tests.campaign_data import campaign_body
from tests.community.test_community_api import ELDER, YOUNGER, publish
from voucher_app.accounts.models import User
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def campaign(client, city, clock):
    username = make_staff(Role.admin).username
    opened = publish(client, lambda: bearer(staff_token(client, username)), campaign_body())
    clock.advance(hours=1)
    return opened


@pytest.fixture
def worker(client, city):
    """A community worker of Lizhou, signed in to the pages in this client."""
    user = make_staff(Role.community_worker, district="lizhou", display_name="李社工")
    signed_in = sign_in_staff(client, user.username, PASSWORD)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/community"
    return user


def register_on_page(client, **changes):
    page = text(client.get("/community"))
    form = {"csrf_token": csrf_token(page), "name": "王秀英", "id_number": ELDER, "district": "lizhou",
            "phone": "", "consent": "y", **changes}
    return client.post("/community/residents", data={k: v for k, v in form.items() if v is not None})


def test_the_worker_registers_a_resident_claims_for_them_and_prints(client, worker, campaign):
    home = text(client.get("/community"))
    assert "为没有智能手机的居民登记" in home and "请向居民宣读" in home and 'name="consent"' in home
    assert '<option selected value="lizhou">' in home or 'value="lizhou" selected' in home
    assert "我服务的居民" in home  # the worker's link in the header

    refused = register_on_page(client, consent=None)
    assert refused.status_code == 422
    assert "同意登记和使用其信息" in text(refused) and "王秀英" in text(refused)  # what was typed stays

    phone = next_phone()
    done = register_on_page(client, phone=phone)
    assert done.status_code == 302, text(done)
    resident_path = done.headers["Location"]
    resident_id = resident_path.rsplit("/", 1)[1]
    page = text(client.get(resident_path))
    assert "已登记王秀英" in page and phone not in page and phone[:3] + "****" + phone[-4:] in page
    assert ELDER not in page and campaign["name"] in page

    tier = campaign["tiers"][1]["id"]
    claimed = client.post(f"/community/residents/{resident_id}/claim",
                          data={"csrf_token": csrf_token(page), "campaign_id": campaign["id"], "tier_id": tier,
                                "key": "page-key-1"})
    assert claimed.status_code == 302 and claimed.headers["Location"] == resident_path
    page = text(client.get(resident_path))
    assert "已代领" in page and 'data-testid="print"' in page
    voucher_id = re.search(r'data-voucher-id="([^"]+)"', page).group(1)

    sheet = client.post(f"/community/residents/{resident_id}/vouchers/{voucher_id}/print",
                        data={"csrf_token": csrf_token(page)})
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    assert "作废已打印的券" in text(client.get(resident_path))

    listed = text(client.get("/community"))
    assert "王秀英" in listed and "1950" in listed

    # The resident signs in with the phone the worker gave, and sees what was done for them.
    client.post("/logout", data={"csrf_token": csrf_token(listed)})
    sign_in_resident(client, phone)
    wallet = text(client.get("/wallet"))
    assert "由社区工作者代领" in wallet and "代办记录" in wallet
    assert "为您代领了一张券" in wallet and "为您打印了一张券" in wallet and "李社工" in wallet


def test_the_pages_speak_english_and_refuse_a_wrong_id_number_at_its_field(client, worker):
    client.set_cookie("lang", "en")
    page = text(client.get("/community"))
    assert "Register a resident without a smartphone" in page and "Read this to the resident" in page
    refused = register_on_page(client, id_number="510802195001010010")
    assert refused.status_code == 422 and "not a valid resident ID number" in text(refused)


def test_a_registered_id_number_leads_to_the_resident_already_there(client, worker):
    first = register_on_page(client, id_number=YOUNGER).headers["Location"]
    again = register_on_page(client, id_number=YOUNGER, name="别名")
    assert again.status_code == 302 and again.headers["Location"] == first
    assert "您已为这位居民登记过" in text(client.get(first))


def test_another_workers_resident_is_not_found_on_the_pages(client, worker):
    resident_path = register_on_page(client).headers["Location"]
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/community")))})
    other = make_staff(Role.community_worker, district="lizhou")
    assert sign_in_staff(client, other.username, PASSWORD).status_code == 302
    assert client.get(resident_path).status_code == 404
    assert "王秀英" not in text(client.get("/community"))
    for path in ("/wallet", "/me/profile", "/bureau/campaigns", "/till"):  # a worker is neither resident nor bureau
        assert client.get(path).status_code == 403, path


# voucher create-staff --------------------------------------------------------------------------------

def test_create_staff_makes_a_community_worker_of_a_district(runner, city):
    result = runner.invoke(args=["create-staff", "worker9", "--role", "community_worker", "--district", "lizhou",
                                 "--name", "张社工", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    worker = db.session.scalars(select(User).where(User.username == "worker9")).one()
    assert (worker.role, worker.district, worker.display_name) == (Role.community_worker, "lizhou", "张社工")


@pytest.mark.parametrize("extra, words", [
    ([], "--district"),
    (["--district", "atlantis"], "lizhou"),  # the city's districts are named
])
def test_a_community_worker_needs_one_of_the_citys_districts(runner, city, extra, words):
    result = runner.invoke(args=["create-staff", "worker8", "--role", "community_worker", "--password", PASSWORD,
                                 *extra])
    assert result.exit_code != 0 and words in result.output
    assert db.session.scalars(select(User.id).where(User.username == "worker8")).first() is None


def test_only_a_community_worker_has_a_district(runner, city):
    result = runner.invoke(args=["create-staff", "viewer8", "--role", "viewer", "--district", "lizhou",
                                 "--password", PASSWORD])
    assert result.exit_code != 0 and "only a community worker" in result.output
