"""The city's plan over the API, and loading any city's data file."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from campaigns.models import Action, District, Measure
from campaigns.service import SHIPPED_CITY_FILE, load_city_data
from voucher_app.core.errors import DomainError
from voucher_app.core.extensions import db

GUANGYUAN_DISTRICTS = ["lizhou", "zhaohua", "chaotian", "wangcang", "qingchuan", "jiange", "cangxi", "etdz"]


def measures(client, **headers) -> list[dict]:
    response = client.get("/api/v1/measures", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["next"] is None
    return body["items"]


def by_code(items: list[dict]) -> dict[str, dict]:
    return {item["code"]: item for item in items}


# The shipped plan -----------------------------------------------------------------------------------

def test_lists_the_plans_22_measures_in_plan_order(client, city):
    plan = json.loads(SHIPPED_CITY_FILE.read_text(encoding="utf-8"))
    codes = [m["code"] for m in measures(client)]
    assert len(codes) == 22
    assert codes == [m["code"] for m in plan["measures"]]
    assert codes[0] == "M03" and codes[-1] == "M24"


def test_measures_speak_chinese_by_default(client, city):
    night = by_code(measures(client))["M12"]
    assert night["title"] == night["title_zh"] == "丰富夜间消费场景"
    assert night["action"]["code"] and night["action"]["title"] == night["action"]["title_zh"]


def test_measures_speak_english_when_asked(client, city):
    night = by_code(measures(client, **{"Accept-Language": "en"}))["M12"]
    assert night["title"] == night["title_en"] != night["title_zh"]
    assert night["action"]["title"] == night["action"]["title_en"]


def test_measures_carry_the_plans_targets(client, city):
    items = by_code(measures(client))
    assert items["M06"]["targets"] == [{"metric": "5g_base_stations", "at_least": 3000, "by": "2022"}]
    assert items["M03"]["targets"] == []
    assert items["M12"]["action"]["code"] == "A4" and "night_economy" in items["M12"]["campaign_kinds"]


def test_lists_the_eight_districts_with_their_codes(client, city):
    response = client.get("/api/v1/districts")
    items = response.get_json()["items"]
    assert [d["code"] for d in items] == GUANGYUAN_DISTRICTS
    lizhou = items[0]
    assert (lizhou["name"], lizhou["gb_code"]) == ("利州区", "510802")


def test_districts_are_named_in_english_when_asked(client, city):
    items = client.get("/api/v1/districts", headers={"Accept-Language": "en"}).get_json()["items"]
    assert items[0]["name"] == "Lizhou District"


def test_before_any_city_is_loaded_the_lists_are_empty(client):
    assert measures(client) == []
    assert client.get("/api/v1/districts").get_json()["items"] == []


# Any city ---------------------------------------------------------------------------------------------

def other_city() -> dict:
    """A tiny plan in the same format as the shipped one, for a city that is not Guangyuan."""
    return {
        "city": {"code": "mianyang", "name_zh": "绵阳市", "name_en": "Mianyang", "timezone": "Asia/Shanghai"},
        "districts": [{"code": "fucheng", "name_zh": "涪城区", "name_en": "Fucheng District", "gb_code": "510703"}],
        "actions": [{"code": "B1", "title_zh": "餐饮消费提振行动", "title_en": "Catering consumption boost"}],
        "measures": [{"code": "X01", "item": "(一)", "action": "B1", "title_zh": "发放餐饮消费券",
                      "title_en": "Issue catering vouchers", "lead": "市商务局", "campaign_kinds": ["general"],
                      "targets": [{"metric": "restaurants_enrolled", "at_least": 500, "by": "2027"}]}],
    }


def write_city(tmp_path, data, name="city.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def plan_counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (District, Action, Measure))


def test_another_citys_plan_loads_and_is_served(client, tmp_path):
    counts = load_city_data(write_city(tmp_path, other_city()))
    assert counts == {"districts": 1, "actions": 1, "measures": 1, "plan_targets": 0}
    [measure] = measures(client)
    assert (measure["code"], measure["title"], measure["action"]["code"]) == ("X01", "发放餐饮消费券", "B1")
    assert measure["targets"] == [{"metric": "restaurants_enrolled", "at_least": 500, "by": "2027"}]
    assert [d["code"] for d in client.get("/api/v1/districts").get_json()["items"]] == ["fucheng"]
    assert "绵阳市" in client.get("/").get_data(as_text=True)


def _missing(key):
    def change(data):
        del data[key]
    return change


def _measure_lacks_title(data):
    del data["measures"][0]["title_zh"]


def _unknown_action(data):
    data["measures"][0]["action"] = "B9"


def _measures_not_a_list(data):
    data["measures"] = ["X01"]


def _district_lacks_code(data):
    del data["districts"][0]["code"]


MALFORMED = {
    "no measures": _missing("measures"),
    "no districts": _missing("districts"),
    "measure without a title": _measure_lacks_title,
    "measure of an unknown action": _unknown_action,
    "measures not objects": _measures_not_a_list,
    "district without a code": _district_lacks_code,
}


@pytest.mark.parametrize("spoil", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_file_is_a_validation_error_and_changes_nothing(app, tmp_path, spoil):
    load_city_data(write_city(tmp_path, other_city(), "good.json"))
    before = plan_counts()
    data = other_city()
    data["measures"][0]["code"] = "X02"
    data["districts"][0]["code"] = "youxian"
    spoil(data)
    with pytest.raises(DomainError) as refusal:
        load_city_data(write_city(tmp_path, data, "bad.json"))
    assert refusal.value.code == "validation_error" and "bad.json" in str(refusal.value)
    assert plan_counts() == before


def test_a_file_that_is_not_json_is_a_validation_error(app, tmp_path):
    path = tmp_path / "notes.json"
    path.write_text("districts: lizhou", encoding="utf-8")
    with pytest.raises(DomainError) as refusal:
        load_city_data(path)
    assert refusal.value.code == "validation_error"
    assert plan_counts() == (0, 0, 0)
