"""Flags: a new hit updates the shop's open flag instead of opening a second one (even when two
evaluations race), a repeated evaluation changes nothing, and a resolved flag stays closed unless new
evidence arrives."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import insert, select

from tests.builders import make_staff, race_a_rival
from tests.fraud.plant import EVALUATED_AT, Plant, city_time
from voucher_app.core.clock import MovableClock
from voucher_app.core.database import new_id
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.fraud import service
from voucher_app.fraud.models import Flag, FlagStatus
from voucher_app.fraud.rules import Hit

NOW = EVALUATED_AT.astimezone(dt.timezone.utc)


@pytest.fixture
def plant(app, city):
    return Plant()


def flags(rule: str = "repeat_pair") -> list[Flag]:
    db.session.expire_all()
    return list(db.session.scalars(select(Flag).where(Flag.rule == rule).order_by(Flag.opened_at, Flag.id)))


def repeat(plant, shop, cashier, resident, days) -> list[str]:
    return plant.sales(shop, cashier, [city_time(day, 19) for day in days], residents=[resident])


def test_a_new_hit_updates_the_open_flag_and_a_repeated_run_changes_nothing(plant):
    shop, cashier = plant.shop()
    (resident,) = plant.residents(1)
    first = repeat(plant, shop, cashier, resident, range(2, 11))
    assert service.evaluate(NOW)["opened"] == 1
    again = service.evaluate(NOW)
    assert again["opened"] == again["updated"] == 0 and again["unchanged"] >= 1
    (flag,) = flags()
    assert flag.hits == 1 and set(flag.redemption_ids) == set(first)

    more = repeat(plant, shop, cashier, resident, range(11, 15))
    later = NOW + dt.timedelta(hours=1)
    assert service.evaluate(later)["updated"] == 1
    (flag,) = flags()
    assert flag.hits == 2 and set(flag.redemption_ids) == set(first) | set(more)
    assert flag.score > 50 and flag.explanation["count"] == 13 and flag.updated_at == later


def test_a_cleared_flag_is_not_reopened_by_the_same_evidence_only_by_new_sales(plant):
    shop, cashier = plant.shop()
    (resident,) = plant.residents(1)
    admin = make_staff(Role.admin)
    first = repeat(plant, shop, cashier, resident, range(2, 11))
    service.evaluate(NOW)
    (flag,) = flags()
    service.resolve(flag.id, "cleared", "Her family's own restaurant: checked by phone.", admin, NOW)

    assert service.evaluate(NOW + dt.timedelta(hours=1))["closed_before"] == 1
    assert [f.status for f in flags()] == [FlagStatus.cleared]

    newer = repeat(plant, shop, cashier, resident, range(11, 13))
    assert service.evaluate(NOW + dt.timedelta(hours=2))["opened"] == 1
    cleared, reopened = flags()
    assert cleared.status is FlagStatus.cleared and set(cleared.redemption_ids) == set(first)
    assert reopened.status is FlagStatus.open and set(reopened.redemption_ids) == set(newer)


def _hit(merchant_id: str, ids: list[str], score: int = 60) -> Hit:
    return Hit(merchant_id, score, {"resident": "R-TEST", "count": len(ids), "days": 30, "threshold": 8}, ids)


def _sale_ids(plant, shop, cashier, n: int) -> list[str]:
    return plant.sales(shop, cashier, [city_time(20, 10, i) for i in range(n)])


def test_the_unique_index_has_the_last_word_when_a_rival_opens_the_flag_first(app, plant):
    shop, cashier = plant.shop()
    ids = _sale_ids(plant, shop, cashier, 4)
    rival = insert(Flag).values(id=new_id(), rule="repeat_pair", merchant_id=shop.id, score=50,
                                explanation={"resident": "R-X", "count": 8, "days": 30, "threshold": 8},
                                redemption_ids=ids[:2], status=FlagStatus.open, hits=1, opened_at=NOW, updated_at=NOW)
    outcome = race_a_rival(rival, lambda: service.record_hit("repeat_pair", _hit(shop.id, ids[2:], 70), NOW), app)
    assert outcome == {"result": "updated"}
    (flag,) = flags()
    assert set(flag.redemption_ids) == set(ids) and flag.score == 70 and flag.hits == 2


def test_two_evaluations_at_once_leave_one_flag_with_both_hits(app, plant):
    shop, cashier = plant.shop()
    ids = _sale_ids(plant, shop, cashier, 20)
    halves = [ids[:10], ids[10:]]
    start = threading.Barrier(2)
    results, errors = [], []

    def run(part):
        with app.app_context():
            try:
                start.wait()
                results.append(service.record_hit("repeat_pair", _hit(shop.id, part), NOW))
            except Exception as exc:  # handed to the assertion below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(part,)) for part in halves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(results) == ["opened", "updated"]
    (flag,) = flags()
    assert set(flag.redemption_ids) == set(ids) and flag.hits == 2


def test_the_scheduler_runs_the_rules_as_a_job(app, plant, runner):
    from voucher_app.scheduler.schedule import job_named

    job = job_named("evaluate_fraud_rules")
    assert job is not None and str(job.schedule) == "every 10 min"
    shop, cashier = plant.shop()
    (resident,) = plant.residents(1)
    repeat(plant, shop, cashier, resident, range(2, 11))
    app.extensions["voucher.clock"] = MovableClock(NOW)
    result = runner.invoke(args=["jobs", "run", "evaluate_fraud_rules"])
    assert result.exit_code == 0, result.output
    assert len(flags()) == 1
