"""List endpoints page by cursor: every row exactly once, in the list's order, whatever the page size."""
from __future__ import annotations

from campaigns import service as campaigns
from merchants import service as merchants
from merchants.models import MerchantStatus
from tests.builders import bearer, make_merchant, make_staff, staff_token
from tests.campaign_data import campaign_body
from voucher_app.core.roles import Role


def pages(fetch) -> list[list[str]]:
    seen, cursor = [], None
    while True:
        rows, cursor = fetch(cursor)
        seen.append([row.id for row in rows])
        if cursor is None:
            return seen


def test_campaigns_page_newest_first(client, city, clock):
    admin = bearer(staff_token(client, make_staff(Role.admin).username))
    made = [client.post("/api/v1/campaigns", json=campaign_body(name=f"第{i}期"), headers=admin).get_json()["id"]
            for i in range(5)]
    got = pages(lambda cursor: campaigns.list_campaigns(clock.now(), status=None, include_drafts=True,
                                                        cursor=cursor, limit=2))
    assert got == [made[::-1][0:2], made[::-1][2:4], made[::-1][4:5]]


def test_residents_page_published_campaigns_newest_first(client, city, clock):
    from types import SimpleNamespace

    from voucher_app.vouchers import availability as public

    admin = bearer(staff_token(client, make_staff(Role.admin).username))
    made = [client.post("/api/v1/campaigns", json=campaign_body(name=f"第{i}期"), headers=admin).get_json()["id"]
            for i in range(5)]
    for campaign_id in made[1:]:  # the first stays a draft, which residents never see
        assert client.post(f"/api/v1/campaigns/{campaign_id}/publish", headers=admin).status_code == 200

    def fetch(cursor):
        shown, after = public.campaign_list_for_residents(clock.now(), status=None, cursor=cursor, limit=2)
        return [SimpleNamespace(id=c["id"]) for c in shown], after

    assert pages(fetch) == [made[:0:-1][0:2], made[:0:-1][2:4]]


def test_merchant_queue_pages_oldest_first(city):
    made = [make_merchant(MerchantStatus.pending)[0].id for _ in range(4)]
    got = pages(lambda cursor: merchants.list_merchants("pending", cursor=cursor, limit=2))
    assert [i for page in got for i in page] == made and all(len(page) <= 2 for page in got)
