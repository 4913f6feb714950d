"""The bureau's list of low-income residents, by ID number: who it reaches, what is kept, and the quota."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.builders import PASSWORD, bearer, make_staff, new_id_number, resident_token, staff_token
from tests.campaign_data import T0
from tests.vouchers.test_claims_api import claim, code, published, small
from voucher_app.accounts.models import GroupMember
from voucher_app.core.audit import AuditRecord
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role


def number() -> str:
    return new_id_number(1980)


def bind(client, token: str, id_number: str) -> None:
    answer = client.put("/api/v1/me/profile", headers=bearer(token), json={"district": "lizhou", "id_number": id_number})
    assert answer.status_code == 200, answer.get_json()


def test_the_list_reaches_accounts_bound_before_and_after_and_keeps_only_hashes(client, city, clock):
    admin = bearer(staff_token(client, make_staff(Role.admin).username))
    early, late, other = number(), number(), number()
    before = resident_token(client)
    bind(client, before, early)
    answer = client.put("/api/v1/residents/groups/low_income", headers=admin, json={"id_numbers": [early, late]})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() | {} == {"group": "low_income", "member": True, "people": 2, "accounts": 1, "members": 2}
    after = resident_token(client)
    bind(client, after, late)
    outsider = resident_token(client)
    bind(client, outsider, other)

    campaign = published(client, admin, **small(quantity=3) | {"tiers": [{
        "name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": 3,
        "reserved": [{"group": "low_income", "quantity": 2, "until": (T0 + dt.timedelta(days=5)).isoformat()}]}]})
    clock.advance(hours=1)
    assert claim(client, outsider, campaign).status_code == 201  # the one general voucher
    assert code(claim(client, resident_token(client), campaign)) == "sold_out"  # the rest is kept
    assert claim(client, before, campaign).status_code == 201 and claim(client, after, campaign).status_code == 201

    stored = db.session.scalars(select(GroupMember.id_hash)).all()
    assert len(stored) == 2 and early not in " ".join(stored)
    record = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "residents.group")).one()
    assert early not in str(record.detail) and record.detail["people"] == 2

    removed = client.put("/api/v1/residents/groups/low_income", headers=admin,
                         json={"id_numbers": [early], "member": False}).get_json()
    assert (removed["accounts"], removed["members"]) == (1, 1)


def test_a_wrong_line_is_named_and_nothing_changes(client, city):
    admin = bearer(staff_token(client, make_staff(Role.admin).username))
    answer = client.put("/api/v1/residents/groups/low_income", headers=admin,
                        json={"id_numbers": [number(), "110105194912310021"]})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["field"] == "id_numbers.1"
    assert db.session.scalars(select(GroupMember)).all() == []
    elderly = client.put("/api/v1/residents/groups/elderly", headers=admin, json={"id_numbers": [number()]})
    assert elderly.status_code == 422  # the elderly are known by their birth year


def test_the_bureau_page_takes_a_pasted_list(client, city):
    admin = make_staff(Role.admin)
    client.post("/staff/login", data={"username": admin.username, "password": PASSWORD})
    client.set_cookie("lang", "en")
    page = client.get("/bureau/residents/low-income")
    assert page.status_code == 200 and "one per line" in page.get_data(as_text=True)
    saved = client.post("/bureau/residents/low-income", data={"id_numbers": f"{number()}\n\n{number()}\n",
                                                               "member": "add"}, follow_redirects=True)
    assert "2 people updated" in saved.get_data(as_text=True)
    wrong = client.post("/bureau/residents/low-income", data={"id_numbers": "12345", "member": "add"})
    assert wrong.status_code == 422 and "Line 1 is not a valid" in wrong.get_data(as_text=True)
