"""Public reads are cacheable: a strong ETag and Cache-Control on each, 304 for a client that holds the
body, a new ETag on every worker once the data changes, nothing shared that depends on who asks."""
from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from campaigns import service as campaigns
from tests.builders import PASSWORD, latest_code, make_staff, next_phone, resident_token, staff_token
from tests.campaign_data import campaign_body
from tests.http_client import Http
from voucher_app.core.roles import Role
from voucher_app.vouchers import availability
from voucher_app.vouchers.counts import MAX_AGE as COUNTS_MAX_AGE

PUBLIC_READS = ["/api/v1/measures", "/api/v1/districts", "/api/v1/campaigns", "/api/v1/campaigns/{id}",
                "/api/v1/keys"]


def _open_campaign(client, admin_headers, now: dt.datetime, **changes) -> dict:
    """A campaign published through the API, open since a minute before ``now``, one round released."""
    body = campaign_body(starts_at=(now - dt.timedelta(minutes=1)).isoformat(),
                         ends_at=(now + dt.timedelta(days=3)).isoformat(),
                         rounds=[{"release_at": (now - dt.timedelta(minutes=1)).isoformat(), "quantities": [5, 5]}],
                         tiers=[{"name": "满100减30", "threshold_cents": 10_000, "discount_cents": 3_000, "quantity": 5},
                                {"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": 5}],
                         **changes)
    response = client.post("/api/v1/campaigns", json=body, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    response = client.post(f"/api/v1/campaigns/{response.get_json()['id']}/publish", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def admin_headers(client, city):
    admin = make_staff(Role.admin)
    return {"Authorization": f"Bearer {staff_token(client, admin.username)}"}


@pytest.fixture
def campaign(client, admin_headers, clock) -> dict:
    return _open_campaign(client, admin_headers, clock.now())


def test_every_public_read_has_a_strong_etag_and_answers_304_without_a_body(client, campaign):
    for path in PUBLIC_READS:
        path = path.format(id=campaign["id"])
        first = client.get(path)
        assert first.status_code == 200, path
        etag = first.headers["ETag"]
        assert etag.startswith('"') and etag.endswith('"'), (path, etag)  # strong: no W/
        assert first.headers["Cache-Control"].startswith("public, max-age="), path

        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", path
        assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == first.headers["Cache-Control"]
        assert "Content-Type" not in again.headers  # a cache updating its copy from the 304 keeps its type

        other = client.get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.data == first.data and other.headers["ETag"] == etag, path


def test_public_disclosure_answers_vary_with_the_language(client, city):
    for path in ("/api/v1/public/complaints/stats", "/api/v1/public/suspended"):
        first = client.get(path)
        assert first.headers["Cache-Control"].startswith("public, max-age=") and first.headers["ETag"].startswith('"')
        assert {"Accept-Language", "Cookie"} <= {v.strip() for v in first.headers["Vary"].split(",")}, path
        assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304, path


def test_a_revalidation_builds_nothing(client, city, monkeypatch):
    built = []
    real = campaigns.list_measures
    monkeypatch.setattr(campaigns, "list_measures", lambda: built.append(1) or real())
    first = client.get("/api/v1/measures", headers={"Accept-Language": "en"})
    for _ in range(5):
        assert client.get("/api/v1/measures", headers={"Accept-Language": "en",
                                                      "If-None-Match": first.headers["ETag"]}).status_code == 304
        assert client.get("/api/v1/measures", headers={"Accept-Language": "en"}).data == first.data
    assert len(built) <= 1  # once for this state (none if an earlier request of the process built it)


def test_the_language_makes_another_answer_that_says_it_varies(client, city):
    chinese = client.get("/api/v1/measures")
    english = client.get("/api/v1/measures", headers={"Accept-Language": "en"})
    assert chinese.headers["ETag"] != english.headers["ETag"]
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in english.headers["Vary"].split(",")}
    assert client.get("/api/v1/measures", headers={"Accept-Language": "en", "If-None-Match": chinese.headers["ETag"]}
                      ).status_code == 200


def test_the_bureau_sees_drafts_in_a_private_answer(client, admin_headers, campaign):
    draft = client.post("/api/v1/campaigns", json=campaign_body(name="草稿"), headers=admin_headers).get_json()
    anonymous = client.get("/api/v1/campaigns")
    bureau = client.get("/api/v1/campaigns", headers=admin_headers)
    assert draft["id"] not in {c["id"] for c in anonymous.get_json()["items"]}
    assert draft["id"] in {c["id"] for c in bureau.get_json()["items"]}
    assert "Authorization" in anonymous.headers["Vary"] and anonymous.headers["Cache-Control"].startswith("public")
    assert bureau.headers["Cache-Control"] == "private, no-cache" and "public" not in bureau.headers["Cache-Control"]
    assert client.get(f"/api/v1/campaigns/{draft['id']}", headers=admin_headers
                      ).headers["Cache-Control"] == "private, no-cache"


def test_a_change_through_the_api_changes_the_etag(client, admin_headers, campaign):
    path = f"/api/v1/campaigns/{campaign['id']}"
    listed, shown = client.get("/api/v1/campaigns"), client.get(path)
    assert client.post(f"{path}/cancel", json={"reason": "预算调整"}, headers=admin_headers).status_code == 200
    after = client.get(path, headers={"If-None-Match": shown.headers["ETag"]})
    assert after.status_code == 200 and after.get_json()["status"] == "cancelled"
    assert after.headers["ETag"] != shown.headers["ETag"]
    assert client.get("/api/v1/campaigns", headers={"If-None-Match": listed.headers["ETag"]}).status_code == 200


def test_the_clock_alone_changes_the_answer_when_a_round_opens(client, admin_headers, clock):
    now = clock.now()
    body = campaign_body(starts_at=(now + dt.timedelta(minutes=10)).isoformat(),
                         rounds=[{"release_at": (now + dt.timedelta(minutes=10)).isoformat(), "quantities": [500, 250]},
                                 {"release_at": (now + dt.timedelta(days=7)).isoformat(), "quantities": [500, 250]}])
    draft = client.post("/api/v1/campaigns", json=body, headers=admin_headers).get_json()
    client.post(f"/api/v1/campaigns/{draft['id']}/publish", headers=admin_headers)
    before = client.get(f"/api/v1/campaigns/{draft['id']}")
    assert before.get_json()["status"] == "scheduled"
    clock.advance(minutes=10)
    after = client.get(f"/api/v1/campaigns/{draft['id']}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.get_json()["status"] == "open"
    assert after.get_json()["tiers"][0]["remaining"] == 500


def test_a_claimed_count_is_never_older_than_the_answer_says(client, campaign):
    path = f"/api/v1/campaigns/{campaign['id']}"
    before = client.get(path)
    max_age = int(before.headers["Cache-Control"].rpartition("max-age=")[2])
    assert max_age == availability.COUNTS_MAX_AGE
    tier = campaign["tiers"][1]
    assert before.get_json()["tiers"][1]["remaining"] == 5
    token = resident_token(client)
    assert client.post(f"{path}/claims", json={"tier_id": tier["id"]},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 201
    time.sleep(COUNTS_MAX_AGE)  # the longest a worker keeps a count; a browser may then keep it max-age more
    after = client.get(path, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.get_json()["tiers"][1]["remaining"] == 4


# The real server: two gunicorn workers, each keeping its own answers ----------------------------------

def _etags(http: Http, path: str, times: int = 12, **headers) -> set[str]:
    """The ETags of ``times`` answers: enough for both workers to answer (and keep) at least once."""
    return {http.get(path, headers=headers)[2]["ETag"] for _ in range(times)}


@pytest.mark.server
def test_every_worker_learns_of_a_change(server, tmp_path):
    http = Http(server.url)
    admin = make_staff(Role.admin)
    _, signed_in, _ = http.post("/api/v1/auth/token", {"username": admin.username, "password": PASSWORD})
    token = signed_in["token"]
    now = dt.datetime.now(dt.timezone.utc)
    body = campaign_body(starts_at=(now - dt.timedelta(minutes=1)).isoformat(),
                         rounds=[{"release_at": (now - dt.timedelta(minutes=1)).isoformat(), "quantities": [500, 250]},
                                 {"release_at": (now + dt.timedelta(days=7)).isoformat(), "quantities": [500, 250]}])
    status, draft, _ = http.post("/api/v1/campaigns", body, token=token)
    assert status == 201
    assert http.post(f"/api/v1/campaigns/{draft['id']}/publish", token=token)[0] == 200
    path = f"/api/v1/campaigns/{draft['id']}"
    (published,) = _etags(http, path)  # every worker gives the same strong ETag
    assert http.get(path, headers={"If-None-Match": published})[0] == 304

    assert http.post(f"{path}/cancel", {"reason": "预算调整"}, token=token)[0] == 200
    for _ in range(12):
        status, shown, headers = http.get(path, headers={"If-None-Match": published})
        assert status == 200 and shown["status"] == "cancelled" and headers["ETag"] != published

    # The plan loaded again by another process (this one, as `voucher load-city` would): every worker sees it.
    (measures,) = _etags(http, "/api/v1/measures")
    data = json.loads(campaigns.city_data_file().read_text(encoding="utf-8"))
    data["measures"][0]["title_zh"] = "新的标题"
    changed = tmp_path / "city.json"
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    campaigns.load_city_data(changed)
    for _ in range(12):
        status, plan, headers = http.get("/api/v1/measures", headers={"If-None-Match": measures})
        assert status == 200 and plan["items"][0]["title"] == "新的标题" and headers["ETag"] != measures


# Pages ----------------------------------------------------------------------------------------------

def test_an_anonymous_page_is_shared_and_a_signed_in_one_is_not(client, campaign):
    path = f"/campaigns/{campaign['id']}"
    for shared in (path, "/campaigns", "/shops", "/public/complaints"):
        anonymous = client.get(shared)
        assert anonymous.status_code == 200 and anonymous.headers["ETag"].startswith('"'), shared
        assert anonymous.headers["Cache-Control"].startswith("public, max-age=") and "Cookie" in anonymous.headers["Vary"]
        again = client.get(shared, headers={"If-None-Match": anonymous.headers["ETag"]})
        assert again.status_code == 304 and again.data == b"", shared
    assert client.get(path).headers["Cache-Control"] == f"public, max-age={availability.COUNTS_MAX_AGE}"

    phone = next_phone()
    client.post("/login/code", data={"phone": phone})
    assert client.post("/login", data={"phone": phone, "code": latest_code(client, phone)}).status_code == 302
    signed_in = client.get(path)
    assert 'data-testid="claim"' in signed_in.text  # the claim form, with this reader's own claim key
    assert signed_in.headers["Cache-Control"] == "private, no-cache"
    for page in ("/campaigns", "/shops", "/public/complaints"):
        assert client.get(page).headers["Cache-Control"] == "private, no-cache", page
