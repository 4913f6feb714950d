"""The bureau drafts, edits, publishes and cancels campaigns through the API."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.builders import bearer, make_staff, resident_token, staff_token
from tests.campaign_data import T0, campaign_body
from voucher_app.core.audit import AuditRecord
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role


@pytest.fixture
def admin(client, city):
    return bearer(staff_token(client, make_staff(Role.admin).username))


def create(client, admin, **changes):
    response = client.post("/api/v1/campaigns", json=campaign_body(**changes), headers=admin)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def publish(client, admin, campaign_id):
    return client.post(f"/api/v1/campaigns/{campaign_id}/publish", headers=admin)


def problems(response) -> dict[str, str]:
    body = response.get_json()
    assert (response.status_code, body["code"]) == (422, "validation_error"), body
    return {e["field"]: e["message"] for e in body["errors"]}


# Drafting ---------------------------------------------------------------------------------------------

def test_a_new_campaign_is_a_draft_with_its_tiers_and_rounds(client, admin):
    body = create(client, admin)
    assert body["status"] == "draft" and body["id"]
    assert [t["name"] for t in body["tiers"]] == ["满100减30", "10元券"]
    assert all(t["id"] for t in body["tiers"]) and all(r["id"] for r in body["rounds"])
    assert body["rounds"][0]["quantities"] == [500, 250]
    assert body["exposure_cents"] == 1_000 * 3_000 + 500 * 1_000
    assert body["starts_at"] == "2026-12-01T21:00:00+08:00"  # shown in the city's zone
    assert body["valid_hours"] == {"from": "18:00", "to": "02:00"}
    assert body["measures"] == [{"code": "M12", "title": "丰富夜间消费场景"}]


def test_ids_are_opaque(client, admin):
    body = create(client, admin)
    for value in [body["id"], body["tiers"][0]["id"], body["rounds"][0]["id"]]:
        assert not value.isdigit() and len(value) >= 20


def test_status_and_counts_in_the_body_change_nothing(client, admin):
    body = create(client, admin, status="open", id="chosen-by-client", claimed=99, remaining=0, published_at="x")
    assert body["status"] == "draft" and body["id"] != "chosen-by-client" and body["published_at"] is None
    patched = client.patch(f"/api/v1/campaigns/{body['id']}", json={"status": "closed", "name": "改名"},
                           headers=admin).get_json()
    assert patched["status"] == "draft" and patched["name"] == "改名"


def test_edits_are_allowed_while_draft(client, admin):
    body = create(client, admin)
    response = client.patch(f"/api/v1/campaigns/{body['id']}", json={
        "budget_cents": 4_000_000,
        "tiers": [{"name": "满200减50", "threshold_cents": 20_000, "discount_cents": 5_000, "quantity": 100}],
        "rounds": [{"release_at": body["rounds"][0]["release_at"], "quantities": [100]}]}, headers=admin)
    assert response.status_code == 200
    edited = response.get_json()
    assert edited["budget_cents"] == 4_000_000 and [t["name"] for t in edited["tiers"]] == ["满200减50"]
    assert edited["rounds"][0]["quantities"] == [100] and len(edited["rounds"]) == 1
    assert edited["name"] == body["name"]  # untouched fields stay


def test_valid_hours_can_be_cleared(client, admin):
    body = create(client, admin)
    edited = client.patch(f"/api/v1/campaigns/{body['id']}", json={"valid_hours": None}, headers=admin).get_json()
    assert edited["valid_hours"] is None


def test_malformed_bodies_are_refused_field_by_field(client, admin):
    response = client.post("/api/v1/campaigns", json=campaign_body(
        kind="lottery", budget_cents=12.5, starts_at="tomorrow", valid_hours={"from": "25:00", "to": "02:00"},
        valid_weekdays=[0, 8]), headers=admin)
    fields = problems(response)
    assert {"kind", "budget_cents", "starts_at", "valid_hours.from", "valid_weekdays"} <= set(fields)
    assert db.session.scalar(select(db.func.count()).select_from(AuditRecord)) == 0


def test_times_need_an_offset(client, admin):
    response = client.post("/api/v1/campaigns", json=campaign_body(starts_at="2026-12-01T20:00:00"), headers=admin)
    assert "starts_at" in problems(response)


def test_a_round_needs_one_quantity_per_tier(client, admin):
    body = campaign_body()
    body["rounds"][0]["quantities"] = [500]
    assert "rounds.0.quantities" in problems(client.post("/api/v1/campaigns", json=body, headers=admin))


# Publishing rules -------------------------------------------------------------------------------------

def test_a_sound_campaign_publishes_as_scheduled(client, admin):
    body = create(client, admin)
    response = publish(client, admin, body["id"])
    assert response.status_code == 200 and response.get_json()["status"] == "scheduled"


def test_a_campaign_whose_start_has_passed_is_open_at_once(client, admin, clock):
    body = create(client, admin)
    clock.advance(hours=2)
    published = publish(client, admin, body["id"]).get_json()
    assert published["status"] == "open"
    assert published["tiers"][0]["released"] == 500 and published["tiers"][0]["remaining"] == 500


def test_budget_must_cover_every_voucher(client, admin):
    body = create(client, admin, budget_cents=3_499_999)
    assert "budget_cents" in problems(publish(client, admin, body["id"]))


def test_budget_exactly_covering_the_vouchers_is_enough(client, admin):
    body = create(client, admin, budget_cents=3_500_000)
    assert publish(client, admin, body["id"]).status_code == 200


def test_round_quantities_must_add_up_to_each_tier(client, admin):
    body = campaign_body()
    body["rounds"][1]["quantities"] = [400, 250]
    created = client.post("/api/v1/campaigns", json=body, headers=admin).get_json()
    found = problems(publish(client, admin, created["id"]))
    assert "tiers.0.quantity" in found and "tiers.1.quantity" not in found


@pytest.mark.parametrize("release", [T0 - dt.timedelta(minutes=1), T0 + dt.timedelta(days=31)])
def test_rounds_must_fall_inside_the_period(client, admin, release):
    body = campaign_body()
    body["rounds"][1]["release_at"] = release.isoformat()
    created = client.post("/api/v1/campaigns", json=body, headers=admin).get_json()
    found = problems(publish(client, admin, created["id"]))
    assert any(field.startswith("rounds.") and field.endswith(".release_at") for field in found)


def test_discount_must_be_below_a_threshold(client, admin):
    body = campaign_body()
    body["tiers"][0]["discount_cents"] = 10_000  # 满100减100
    created = client.post("/api/v1/campaigns", json=body, headers=admin).get_json()
    assert "tiers.0.discount_cents" in problems(publish(client, admin, created["id"]))


def test_a_plain_face_value_tier_has_no_threshold_rule(client, admin):
    body = create(client, admin)  # tier 2 is threshold 0, discount 1000
    assert publish(client, admin, body["id"]).status_code == 200


@pytest.mark.parametrize("field, value", [
    ("measure_codes", ["M99"]),
    ("merchant_categories", ["casino"]),
    ("districts", ["atlantis"]),
])
def test_unknown_codes_are_refused(client, admin, field, value):
    body = create(client, admin, **{field: value})
    found = problems(publish(client, admin, body["id"]))
    assert field in found and value[0] in found[field]


def test_end_must_come_after_start(client, admin):
    body = create(client, admin, ends_at=(T0 + dt.timedelta(minutes=30)).isoformat())
    assert "ends_at" in problems(publish(client, admin, body["id"]))


def test_every_problem_is_listed_at_once_in_chinese(client, admin):
    body = create(client, admin, budget_cents=1, measure_codes=["M99"], districts=["atlantis"])
    found = problems(publish(client, admin, body["id"]))
    assert {"budget_cents", "measure_codes", "districts"} <= set(found)
    assert "预算" in found["budget_cents"]


def test_a_refused_publish_leaves_a_draft(client, admin):
    body = create(client, admin, budget_cents=1)
    publish(client, admin, body["id"])
    assert client.get(f"/api/v1/campaigns/{body['id']}", headers=admin).get_json()["status"] == "draft"


# Lifecycle --------------------------------------------------------------------------------------------

def test_a_published_campaign_cannot_be_edited_or_published_again(client, admin):
    body = create(client, admin)
    publish(client, admin, body["id"])
    edit = client.patch(f"/api/v1/campaigns/{body['id']}", json={"name": "x"}, headers=admin)
    again = publish(client, admin, body["id"])
    assert (edit.status_code, edit.get_json()["code"]) == (409, "conflict")
    assert (again.status_code, again.get_json()["code"]) == (409, "conflict")


def test_status_follows_the_clock(client, admin, clock):
    body = create(client, admin)
    publish(client, admin, body["id"])
    url = f"/api/v1/campaigns/{body['id']}"
    assert client.get(url).get_json()["status"] == "scheduled"
    clock.advance(hours=1)
    assert client.get(url).get_json()["status"] == "open"
    clock.advance(days=30)
    assert client.get(url).get_json()["status"] == "closed"


def test_list_filters_by_the_status_users_meet(client, admin, clock):
    early = create(client, admin, name="早")
    late = create(client, admin, name="晚", starts_at=(T0 + dt.timedelta(days=2)).isoformat(),
                  rounds=[{"release_at": (T0 + dt.timedelta(days=2)).isoformat(), "quantities": [1000, 500]}])
    draft = create(client, admin, name="草稿")
    for c in (early, late):
        publish(client, admin, c["id"])
    clock.advance(hours=2)
    names = lambda status: {c["name"] for c in client.get(f"/api/v1/campaigns?status={status}").get_json()["items"]}
    assert names("open") == {"早"} and names("scheduled") == {"晚"}
    listed = client.get("/api/v1/campaigns").get_json()
    assert {c["id"] for c in listed["items"]} == {early["id"], late["id"]} and listed["next"] is None
    assert draft["id"] in {c["id"] for c in client.get("/api/v1/campaigns", headers=admin).get_json()["items"]}


def test_an_unknown_status_filter_is_a_validation_error(client):
    response = client.get("/api/v1/campaigns?status=paused")
    assert response.get_json()["code"] == "validation_error"


def test_cancel_with_a_reason(client, admin):
    body = create(client, admin)
    publish(client, admin, body["id"])
    response = client.post(f"/api/v1/campaigns/{body['id']}/cancel", json={"reason": "预算调整"}, headers=admin)
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled" and response.get_json()["cancel_reason"] == "预算调整"
    again = client.post(f"/api/v1/campaigns/{body['id']}/cancel", json={}, headers=admin)
    assert again.get_json()["code"] == "conflict"


def test_an_ended_campaign_cannot_be_cancelled(client, admin, clock):
    body = create(client, admin)
    publish(client, admin, body["id"])
    clock.advance(days=31)
    admin = bearer(staff_token(client, make_staff(Role.admin).username))  # a staff token lives 12 hours
    assert client.post(f"/api/v1/campaigns/{body['id']}/cancel", headers=admin).get_json()["code"] == "conflict"


def test_unknown_campaign_is_not_found(client, admin):
    assert client.get("/api/v1/campaigns/nope").get_json()["code"] == "not_found"
    assert publish(client, admin, "nope").get_json()["code"] == "not_found"


def test_drafts_are_hidden_from_the_public(client, admin):
    body = create(client, admin)
    assert client.get(f"/api/v1/campaigns/{body['id']}").status_code == 404
    resident = bearer(resident_token(client))
    assert client.get(f"/api/v1/campaigns/{body['id']}", headers=resident).status_code == 404


# Audit ------------------------------------------------------------------------------------------------

def test_bureau_actions_are_audited_with_their_outcome(client, admin):
    body = create(client, admin, budget_cents=1)
    publish(client, admin, body["id"])  # refused
    client.patch(f"/api/v1/campaigns/{body['id']}", json={"budget_cents": 5_000_000}, headers=admin)
    publish(client, admin, body["id"])
    client.post(f"/api/v1/campaigns/{body['id']}/cancel", json={"reason": "测试"}, headers=admin)
    records = db.session.scalars(select(AuditRecord).where(AuditRecord.target_id == body["id"])
                                 .order_by(AuditRecord.id)).all()
    assert [(r.action, r.outcome) for r in records] == [
        ("campaign.create", "ok"), ("campaign.publish", "validation_error"), ("campaign.update", "ok"),
        ("campaign.publish", "ok"), ("campaign.cancel", "ok")]
    me = client.get("/api/v1/me", headers=admin).get_json()
    assert all(r.actor_id == me["id"] and r.at is not None for r in records)
    assert records[-1].reason == "测试"


# Who may do what --------------------------------------------------------------------------------------

def _who(client, role):
    if role == "anonymous":
        return {}
    if role == "resident":
        return bearer(resident_token(client))
    return bearer(staff_token(client, make_staff(Role(role)).username))


ROLES = ["anonymous", "resident", "cashier", "merchant_owner", "viewer", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_write_campaigns(client, admin, role):
    draft = create(client, admin)
    who = _who(client, role)
    expected = {"anonymous": 401, "admin": None}.get(role, 403)
    calls = [
        ("post", "/api/v1/campaigns", campaign_body()),
        ("patch", f"/api/v1/campaigns/{draft['id']}", {"name": "x"}),
        ("post", f"/api/v1/campaigns/{draft['id']}/publish", {}),
        ("post", f"/api/v1/campaigns/{draft['id']}/cancel", {}),
    ]
    for method, url, body in calls:
        response = getattr(client, method)(url, json=body, headers=who)
        if expected is None:
            assert response.status_code in (200, 201), (url, response.get_json())
        else:
            assert response.status_code == expected, (role, url)
            assert response.get_json()["code"] == ("unauthorized" if expected == 401 else "forbidden")


@pytest.mark.parametrize("role", ROLES)
def test_everyone_reads_published_campaigns_and_the_bureau_reads_drafts(client, admin, role):
    published = create(client, admin)
    publish(client, admin, published["id"])
    draft = create(client, admin)
    who = _who(client, role)
    assert client.get(f"/api/v1/campaigns/{published['id']}", headers=who).status_code == 200
    sees_drafts = role in ("admin", "viewer")
    assert client.get(f"/api/v1/campaigns/{draft['id']}", headers=who).status_code == (200 if sees_drafts else 404)


def test_replacing_tiers_and_rounds_of_a_loaded_draft(client, admin, app, clock):
    """The editor may have the draft's rounds loaded when it saves new tiers and rounds."""
    from campaigns import service
    from campaigns.schemas import CampaignPatch
    from voucher_app.accounts.models import User

    body = create(client, admin)
    loaded = service.get_campaign(body["id"], include_drafts=True)
    assert loaded.rounds[0].allocations
    editor = db.session.scalars(select(User).where(User.role == Role.admin)).first()
    patch = CampaignPatch.model_validate({
        "tiers": [{"name": "满200减50", "threshold_cents": 20_000, "discount_cents": 5_000, "quantity": 10}],
        "rounds": [{"release_at": body["rounds"][0]["release_at"], "quantities": [10]}]})
    service.update_campaign(body["id"], patch, editor, clock.now())
    edited = client.get(f"/api/v1/campaigns/{body['id']}", headers=admin).get_json()
    assert [t["name"] for t in edited["tiers"]] == ["满200减50"] and edited["rounds"][0]["quantities"] == [10]


def test_a_mistake_in_a_round_names_the_row_as_sent(client, admin):
    body = campaign_body()
    body["rounds"] = [body["rounds"][1], body["rounds"][0]]  # out of order
    body["rounds"][0]["quantities"] = [1]
    response = client.post("/api/v1/campaigns", json=body, headers=admin)
    assert "rounds.0.quantities" in problems(response)


def test_absurd_quantities_are_refused(client, admin):
    body = campaign_body()
    body["rounds"][0]["quantities"] = [2**40, 250]
    assert "rounds.0.quantities.0" in problems(client.post("/api/v1/campaigns", json=body, headers=admin))


def test_an_impossible_id_is_not_found_not_a_crash(client, admin):
    response = client.post(f"/api/v1/campaigns/{'x' * 300}/publish", headers=admin)
    assert (response.status_code, response.get_json()["code"]) == (404, "not_found")
