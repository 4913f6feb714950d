"""Due dates count working days in the city: Monday to Friday, except the configured public holidays,
and end at 23:59:59 city time of the last one."""
from __future__ import annotations

import datetime as dt

import pytest

from voucher_app.complaints.service import due_after

CITY = dt.timezone(dt.timedelta(hours=8))


def city(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CITY)


@pytest.fixture
def app_overrides() -> dict:
    return {"PUBLIC_HOLIDAYS": ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"]}


@pytest.mark.parametrize("filed, days, due", [
    (city(2026, 12, 1, 9, 0), 3, city(2026, 12, 4, 23, 59, 59)),  # Tuesday → Friday
    (city(2026, 12, 4, 10, 0), 3, city(2026, 12, 9, 23, 59, 59)),  # Friday → over the weekend → Wednesday
    (city(2026, 12, 5, 22, 0), 1, city(2026, 12, 7, 23, 59, 59)),  # Saturday → Monday
    (city(2026, 12, 4, 23, 30), 1, city(2026, 12, 7, 23, 59, 59)),  # Friday 23:30 (15:30 UTC) is still Friday
    (city(2026, 9, 30, 15, 0), 3, city(2026, 10, 12, 23, 59, 59)),  # National Day holidays: Thu 8, Fri 9, Mon 12
    (city(2026, 9, 29, 15, 0), 1, city(2026, 9, 30, 23, 59, 59)),
])
def test_working_days_skip_weekends_and_holidays(app, filed, days, due):
    assert due_after(filed.astimezone(dt.timezone.utc), days) == due.astimezone(dt.timezone.utc)


def test_the_default_holidays_include_national_day(app_settings):
    from voucher_app.app import create_app

    plain = create_app("testing", {k: v for k, v in app_settings.items() if k != "PUBLIC_HOLIDAYS"})
    with plain.app_context():
        assert due_after(city(2026, 9, 30, 15, 0), 1) == city(2026, 10, 8, 23, 59, 59)
