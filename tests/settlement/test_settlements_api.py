"""Settlement statements over the API: the figures of the known world to the fen, who sees which
statements, the filters, paging, and the refusals in the user's language."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from merchants.models import Merchant, MerchantStatus
from tests.builders import make_account, make_merchant, resident_token, token_for
from tests.scenario import World, at, make_resident
from voucher_app.accounts.models import User
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.scheduler.runs import run_manually
from voucher_app.scheduler.schedule import job_named

FIGURES = ("day", "redemptions", "bill_cents", "redeemed_cents", "refunds", "refunded_cents", "net_cents", "status")

# What the scheduler's test works out by hand for World.play() (test_scheduler_jobs).
SHOP_A = [("2026-12-03", 1, 15_000, 3_000, 0, 0, 3_000, "settled"),
          ("2026-12-02", 1, 5_000, 1_000, 0, 0, 1_000, "settled"),
          ("2026-12-01", 1, 12_800, 3_000, 0, 0, 3_000, "settled")]
SHOP_B = [("2026-12-02", 0, 0, 0, 1, 3_000, -3_000, "settled"),
          ("2026-12-01", 1, 20_000, 3_000, 0, 0, 3_000, "settled")]


def owner_of(shop: Merchant) -> User:
    return db.session.scalars(select(User).where(User.merchant_id == shop.id, User.role == Role.merchant_owner)).one()


def settle(clock, *, suspend: Merchant | None = None) -> None:
    """Settle the days World.play() made (12-01 to 12-03) at 02:30 on 12-04, with ``suspend`` suspended."""
    if suspend is not None:
        db.session.get(Merchant, suspend.id).status = MerchantStatus.suspended
        db.session.commit()
    clock.set(at(12, 4, 2, 30))
    run_manually(job_named("settle"), clock.now())


@pytest.fixture
def world(city, clock) -> World:
    world = World(clock)
    world.play()
    return world


@pytest.fixture
def settled(world, clock) -> World:
    settle(clock)
    return world


def figures(items: list[dict]) -> list[tuple]:
    return [tuple(item[f] for f in FIGURES) for item in items]


def statements(client, headers, **query) -> dict:
    response = client.get("/api/v1/settlements", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def refusal(response, status: int, code: str) -> dict:
    body = response.get_json()
    assert (response.status_code, body["code"]) == (status, code), body
    assert response.mimetype == "application/problem+json"
    return body


def field_errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in refusal(response, 422, "validation_error")["errors"]}


# Figures --------------------------------------------------------------------------------------------

def test_an_owner_reads_their_shops_statements_newest_day_first_to_the_fen(client, settled):
    body = statements(client, token_for(owner_of(settled.a)))
    assert figures(body["items"]) == SHOP_A and body["next"] is None
    first = body["items"][0]
    assert first["merchant_id"] == settled.a.id and first["merchant_name"] == settled.a.name
    assert first["settled_at"] == "2026-12-04T02:30:00+08:00"
    assert [(ln["campaign_id"], ln["campaign_name"], ln["net_cents"]) for ln in first["lines"]] == [
        (settled.c.id, "广元夜间消费券·第一期", 3_000)]


def test_a_day_with_more_refunds_than_sales_owes_less_than_nothing(client, settled):
    body = statements(client, token_for(owner_of(settled.b)))
    assert figures(body["items"]) == SHOP_B
    refund_day = body["items"][0]
    assert [(ln["refunds"], ln["refunded_cents"], ln["net_cents"]) for ln in refund_day["lines"]] == [
        (1, 3_000, -3_000)]


def test_one_statement_with_its_lines(client, settled):
    owner = token_for(owner_of(settled.a))
    listed = statements(client, owner)["items"][-1]
    response = client.get(f"/api/v1/settlements/{listed['id']}", headers=owner)
    assert response.status_code == 200
    statement = response.get_json()
    assert statement == listed
    assert tuple(statement[f] for f in FIGURES) == SHOP_A[-1]
    assert statement["lines"][0]["campaign_name"] == "广元夜间消费券·第一期"


# Who sees what --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.admin, Role.viewer])
def test_the_bureau_sees_every_merchants_statements(client, settled, role):
    headers = token_for(make_account(role))
    body = statements(client, headers)
    assert [item["day"] for item in body["items"]] == ["2026-12-03", "2026-12-02", "2026-12-02", "2026-12-01",
                                                       "2026-12-01"]
    by_shop = {item["merchant_name"] for item in body["items"]}
    assert by_shop == {settled.a.name, settled.b.name}
    only_b = statements(client, headers, merchant_id=settled.b.id)
    assert figures(only_b["items"]) == SHOP_B
    one = client.get(f"/api/v1/settlements/{only_b['items'][0]['id']}", headers=headers)
    assert one.status_code == 200 and one.get_json()["merchant_name"] == settled.b.name


def test_an_owner_cannot_list_another_shops_statements(client, settled):
    owner = token_for(owner_of(settled.a))
    body = refusal(client.get("/api/v1/settlements", query_string={"merchant_id": settled.b.id}, headers=owner),
                   403, "forbidden")
    assert settled.b.name not in str(body)
    assert figures(statements(client, owner, merchant_id=settled.a.id)["items"]) == SHOP_A


def test_another_shops_statement_is_not_found_for_an_owner(client, settled):
    theirs = statements(client, token_for(owner_of(settled.b)))["items"][0]["id"]
    body = refusal(client.get(f"/api/v1/settlements/{theirs}", headers=token_for(owner_of(settled.a))),
                   404, "not_found")
    assert body == refusal(client.get("/api/v1/settlements/01jzzzzzzzzzzzzzzzzzzzzzzz",
                                      headers=token_for(owner_of(settled.a))), 404, "not_found")


def test_cashiers_residents_and_strangers_see_no_statements(client, settled):
    some_id = statements(client, token_for(owner_of(settled.a)))["items"][0]["id"]
    for headers in (token_for(settled.cashier_a), {"Authorization": f"Bearer {resident_token(client)}"}):
        refusal(client.get("/api/v1/settlements", headers=headers), 403, "forbidden")
        refusal(client.get(f"/api/v1/settlements/{some_id}", headers=headers), 403, "forbidden")
    refusal(client.get("/api/v1/settlements"), 401, "unauthorized")


def test_an_owner_of_a_shop_without_sales_has_an_empty_list(client, settled):
    _, owner = make_merchant(MerchantStatus.approved)
    assert statements(client, token_for(owner)) == {"items": [], "next": None}


# Filters and paging ---------------------------------------------------------------------------------

def test_a_date_range_includes_both_ends(client, settled):
    admin = token_for(make_account(Role.admin))
    body = statements(client, admin, **{"from": "2026-12-02", "to": "2026-12-02"})
    assert sorted(figures(body["items"])) == sorted([SHOP_A[1], SHOP_B[0]])
    assert figures(statements(client, admin, **{"from": "2026-12-03"})["items"]) == [SHOP_A[0]]
    assert [i["day"] for i in statements(client, admin, to="2026-12-01")["items"]] == ["2026-12-01"] * 2
    assert statements(client, admin, **{"from": "2026-12-04"})["items"] == []


def test_held_statements_are_found_by_their_status(world, client, clock):
    settle(clock, suspend=world.b)
    admin = token_for(make_account(Role.admin))
    held = statements(client, admin, status="held")["items"]
    assert [(i["merchant_id"], i["day"], i["net_cents"], i["settled_at"]) for i in held] == [
        (world.b.id, "2026-12-02", -3_000, None), (world.b.id, "2026-12-01", 3_000, None)]
    assert {i["merchant_id"] for i in statements(client, admin, status="settled")["items"]} == {world.a.id}
    assert figures(statements(client, token_for(owner_of(world.b)), status="held")["items"]) == [
        (*row[:-1], "held") for row in SHOP_B]


def test_pages_give_every_statement_once_newest_day_first(client, settled):
    admin = token_for(make_account(Role.admin))
    seen, cursor, pages = [], None, 0
    while True:
        body = statements(client, admin, limit=2, **({"cursor": cursor} if cursor else {}))
        assert len(body["items"]) <= 2
        seen += body["items"]
        pages, cursor = pages + 1, body["next"]
        if cursor is None:
            break
    assert pages == 3 and len({i["id"] for i in seen}) == 5
    assert [i["day"] for i in seen] == sorted((i["day"] for i in seen), reverse=True)
    owner_pages = statements(client, token_for(owner_of(settled.a)), limit=2)
    assert [i["day"] for i in owner_pages["items"]] == ["2026-12-03", "2026-12-02"]
    rest = statements(client, token_for(owner_of(settled.a)), limit=2, cursor=owner_pages["next"])
    assert [i["day"] for i in rest["items"]] == ["2026-12-01"] and rest["next"] is None


def test_bad_filters_are_named_in_chinese_by_default(client, settled):
    admin = token_for(make_account(Role.admin))
    errors = field_errors(client.get("/api/v1/settlements", query_string={"status": "paid"}, headers=admin))
    assert errors == {"status": "请从以下选项中选择：'settled' or 'held'。"}


def test_bad_filters_are_named_in_english_when_asked(client, settled):
    admin = token_for(make_account(Role.admin))
    errors = field_errors(client.get("/api/v1/settlements", headers=admin, query_string={
        "lang": "en", "from": "2026-13-01", "to": "yesterday", "status": "paid", "limit": "0"}))
    assert errors == {"from": "Enter a date such as 2026-12-01.", "to": "Enter a date such as 2026-12-01.",
                      "status": "Choose one of: 'settled' or 'held'.", "limit": "Must be at least 1."}
    backwards = field_errors(client.get("/api/v1/settlements", headers=admin, query_string={
        "lang": "en", "from": "2026-12-03", "to": "2026-12-01"}))
    assert backwards == {"to": "The end of the range comes before its start."}
    unknown_cursor = field_errors(client.get("/api/v1/settlements", headers=admin, query_string={
        "lang": "en", "cursor": "01jzzzzzzzzzzzzzzzzzzzzzzz"}))
    assert unknown_cursor == {"cursor": "This value is not valid."}


def test_a_catch_up_run_still_lists_days_in_order(client, city, clock):
    """Days settled in one run get ids within a few milliseconds of each other; the list follows the day."""
    world = World(clock)
    for day in range(1, 6):
        clock.set(at(12, day, 21, 30))
        world.redeem(world.claim(make_resident(), world.tier10), world.cashier_a, 2_000 + day)
    clock.set(at(12, 9, 3))
    run_manually(job_named("settle"), clock.now())
    owner = token_for(owner_of(world.a))
    days = [i["day"] for i in statements(client, owner)["items"]]
    assert days == [f"2026-12-0{d}" for d in range(5, 0, -1)]
    first = statements(client, owner, limit=3)
    second = statements(client, owner, limit=3, cursor=first["next"])
    assert [i["day"] for i in first["items"] + second["items"]] == days
