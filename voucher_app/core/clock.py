"""The one clock services ask for "now", so tests can move time.

Views pass ``clock.now()`` into services explicitly; nothing else calls ``datetime.now``.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app


class Clock:
    """Wall-clock time in UTC, optionally shifted by a fixed offset.

    The offset (``CLOCK_OFFSET_SECONDS``, development and testing only) lets a real server live
    "yesterday" while the scheduler's command runs today, so the nightly jobs can be tried end to end.
    """

    def __init__(self, offset: dt.timedelta = dt.timedelta(0)):
        self.offset = offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + self.offset


class MovableClock(Clock):
    """A clock a test sets and moves; it stands still unless told otherwise."""

    def __init__(self, start: dt.datetime | None = None):
        self._now = start or dt.datetime.now(dt.timezone.utc)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._now = when.astimezone(dt.timezone.utc)

    def advance(self, **delta: float) -> dt.datetime:
        self._now += dt.timedelta(**delta)
        return self._now


def clock() -> Clock:
    return current_app.extensions["voucher.clock"]


def now() -> dt.datetime:
    """The current time by the app's clock (aware, UTC)."""
    return clock().now()


def city_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CITY_TIMEZONE"])


def to_city(when: dt.datetime) -> dt.datetime:
    """``when`` in the city's time zone, for display and for rules stated in local time."""
    return when.astimezone(city_zone())


def city_day(when: dt.datetime) -> dt.date:
    """The city's calendar date at ``when``."""
    return to_city(when).date()


def city_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants (UTC) at which the city's ``day`` begins and the next one begins."""
    zone = city_zone()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)


def iso(value: dt.datetime | None) -> str | None:
    """A time as the API shows it: ISO 8601 in the city's zone, with its offset."""
    return to_city(value).isoformat() if value else None


def parse_iso(value: str) -> dt.datetime:
    """A time the platform wrote with ``iso`` (or any ISO 8601 with an offset), back in UTC."""
    return dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc)
