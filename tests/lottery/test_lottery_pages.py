"""A resident enters a draw from the campaign page and follows it in the wallet."""
from __future__ import annotations

from tests.builders import latest_code, next_phone
from tests.lottery.test_lottery_api import CLOSES, OPENS, admin, draw_path, published  # noqa: F401


def signed_in(client) -> None:
    phone = next_phone()
    client.post("/login/code", data={"phone": phone})
    assert client.post("/login", data={"phone": phone, "code": latest_code(client, phone)}).status_code == 302


def test_enter_from_the_campaign_page_and_see_the_result_in_the_wallet(client, admin, clock):  # noqa: F811
    campaign = published(client, admin, quantity=1)
    clock.set(OPENS)
    signed_in(client)
    client.set_cookie("lang", "en")
    page = client.get(f"/campaigns/{campaign['id']}").get_data(as_text=True)
    assert 'data-testid="enter"' in page and 'data-testid="claim"' not in page
    entered = client.post(f"/campaigns/{campaign['id']}/enter", data={"tier_id": campaign["tiers"][0]["id"]})
    assert entered.status_code == 302 and entered.location.endswith("/wallet")
    wallet = client.get("/wallet").get_data(as_text=True)
    assert 'data-entry-status="entered"' in wallet and "the draw is at" in wallet
    again = client.post(f"/campaigns/{campaign['id']}/enter", data={"tier_id": campaign["tiers"][0]["id"]},
                        follow_redirects=True)
    assert "You already" in again.get_data(as_text=True)  # one entry per person per round
    clock.set(CLOSES)
    client.post(draw_path(campaign), headers=admin())
    wallet = client.get("/wallet").get_data(as_text=True)
    assert 'data-entry-status="won"' in wallet and 'data-testid="voucher"' in wallet


def test_the_administrator_draws_by_hand_from_the_campaign_page(client, admin, clock):  # noqa: F811
    from tests.builders import PASSWORD, make_staff
    from voucher_app.core.roles import Role

    campaign = published(client, admin, quantity=2)
    officer = make_staff(Role.admin)
    client.post("/staff/login", data={"username": officer.username, "password": PASSWORD})
    client.set_cookie("lang", "en")
    detail = client.get(f"/bureau/campaigns/{campaign['id']}").get_data(as_text=True)
    assert 'data-testid="draw-now"' in detail
    path = f"/bureau/campaigns/{campaign['id']}/rounds/{campaign['rounds'][0]['id']}/draw"
    early = client.post(path, follow_redirects=True).get_data(as_text=True)
    assert "Entries close at" in early  # too early: said on the campaign's page
    clock.set(CLOSES)
    client.post("/staff/login", data={"username": officer.username, "password": PASSWORD})
    drawn = client.post(path)
    assert drawn.status_code == 302 and drawn.location.endswith("/draw")
    page = client.get(drawn.location).get_data(as_text=True)
    assert "Drawn." in page and client.get(draw_path(campaign)).get_json()["seed"] in page
