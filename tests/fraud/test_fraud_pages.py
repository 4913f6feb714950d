"""The bureau's pages: viewers read the queue, a flag and the rules; officers decide and tune."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.builders import PASSWORD, make_staff
from tests.fraud.plant import EVALUATED_AT, Plant, city_time
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.fraud import service
from voucher_app.fraud.models import Flag, FraudRule


@pytest.fixture
def flag(app, city):
    plant = Plant()
    shop, cashier = plant.shop(name="回头客小馆")
    (resident,) = plant.residents(1)
    plant.sales(shop, cashier, [city_time(day, 19) for day in range(2, 14)], residents=[resident])
    service.evaluate(EVALUATED_AT.astimezone(dt.timezone.utc))
    return db.session.scalars(select(Flag)).one()


def signed_in(client, role: Role):
    user = make_staff(role)
    assert client.post("/staff/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def test_a_viewer_reads_but_cannot_decide(client, flag):
    signed_in(client, Role.viewer)
    queue = client.get("/bureau/flags").get_data(as_text=True)
    assert "回头客小馆" in queue and "同一居民反复在同一店" in queue and "违规预警" in queue
    page = client.get(f"/bureau/flags/{flag.id}").get_data(as_text=True)
    assert 'data-testid="evidence-row"' in page and 'data-testid="resolve-form"' not in page
    assert "139" not in page.replace(flag.id, "")  # no resident's phone (the builders' phones start 139)
    assert client.post(f"/bureau/flags/{flag.id}/resolve", data={"outcome": "cleared", "note": "x"}).status_code == 403
    assert client.get("/bureau/fraud-rules").status_code == 200
    assert client.get("/bureau/flags?status=confirmed").status_code == 200


def test_an_officer_needs_a_note_then_clears(client, flag):
    signed_in(client, Role.admin)
    refused = client.post(f"/bureau/flags/{flag.id}/resolve", data={"outcome": "cleared", "note": " "})
    assert refused.status_code == 422 and "请填写备注" in refused.get_data(as_text=True)
    done = client.post(f"/bureau/flags/{flag.id}/resolve", data={"outcome": "cleared", "note": "老主顾，已电话核实。"},
                       follow_redirects=True)
    assert "已排除" in done.get_data(as_text=True)
    again = client.post(f"/bureau/flags/{flag.id}/resolve", data={"outcome": "confirmed", "note": "再看"},
                        follow_redirects=True)
    assert "该预警已被排除或确认" in again.get_data(as_text=True)


def test_an_officer_tunes_a_rule_on_its_page(client, app):
    signed_in(client, Role.admin)
    bad = client.post("/bureau/fraud-rules/repeat_pair", data={"enabled": "on", "min_count": "many"})
    assert bad.status_code == 422 and "请输入整数" in bad.get_data(as_text=True)
    ok = client.post("/bureau/fraud-rules/repeat_pair", data={"enabled": "on", "min_count": "10", "weight": "55"})
    assert ok.status_code == 302
    db.session.commit()  # a fresh snapshot: the page wrote on its own connection
    row = db.session.get(FraudRule, "repeat_pair")
    assert row.params["min_count"] == 10 and row.params["weight"] == 55 and row.enabled
    client.post("/bureau/fraud-rules/outside_hours", data={"grace_minutes": "15"})  # the box unticked: off
    db.session.commit()
    row = db.session.get(FraudRule, "outside_hours")
    assert row.enabled is False and row.params["grace_minutes"] == 15
