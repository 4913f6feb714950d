"""Whether a moment falls inside a campaign's valid hours and weekdays, in the city's time.

A window may cross midnight (18:00–02:00): its part after midnight belongs to the day it began, so
with Fridays only, 01:00 on Saturday morning is still Friday night.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from zoneinfo import ZoneInfo


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def within(moment: dt.datetime, zone: ZoneInfo, valid_from: str | None, valid_to: str | None,
           weekdays: Collection[int] | None) -> bool:
    local = moment.astimezone(zone)
    now = local.hour * 60 + local.minute
    day = local.date()
    if valid_from and valid_to:
        start, end = _minutes(valid_from), _minutes(valid_to)
        if start < end:
            if not start <= now < end:
                return False
        elif now >= start:
            pass  # the evening part, on the day the window began
        elif now < end:
            day -= dt.timedelta(days=1)  # after midnight: yesterday's window
        else:
            return False
    return not weekdays or day.isoweekday() in weekdays
