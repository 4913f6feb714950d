"""A shop's opening hours: comma-separated spans ``HH:MM-HH:MM`` in city time, e.g. ``09:00-22:00`` or
``17:00-02:00,10:00-14:00``. A span whose end is not after its start crosses midnight (``17:00-02:00``
is open from 17:00 until 02:00 the next morning); ``24:00`` may end a span (``10:00-24:00``), and
``00:00-24:00`` is a shop open all day. Stored as written, without spaces (``merchants.opening_hours``).

Pure functions: the registration schema checks with ``parse_opening_hours``; a rule that needs to know
whether a shop was open at some time (the fraud review, for a sale at 04:00 in a shop that closes at
22:00) asks ``is_open_at`` with the city's local time.
"""
from __future__ import annotations

import datetime as dt
import re

MAX_LENGTH = 64  # the column's width
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")
_DAY = 24 * 60


class OpeningHoursError(ValueError):
    """The text is not a list of spans; the message says what is wrong in the reader's words."""


def parse_opening_hours(text: str) -> list[tuple[int, int]]:
    """The spans of ``text`` as (start, end) minutes after midnight; ``end`` ≤ ``start`` means the span
    crosses midnight, and an end of 24:00 is 1440. Raises ``OpeningHoursError`` naming the bad span."""
    spans = []
    for part in text.split(","):
        match = _SPAN.match(part.strip())
        if match is None:
            raise OpeningHoursError(part.strip())
        start = int(match.group(1)) * 60 + int(match.group(2))
        end = _DAY if match.group(5) else int(match.group(3)) * 60 + int(match.group(4))
        if start == end:
            raise OpeningHoursError(part.strip())
        spans.append((start, end))
    return spans


def normalize_opening_hours(text: str | None) -> str | None:
    """``text`` without spaces (None when blank), once it parses; raises ``OpeningHoursError`` otherwise."""
    compact = re.sub(r"\s+", "", text or "")
    if not compact:
        return None
    parse_opening_hours(compact)
    return compact


def is_open_at(opening_hours: str | None, local: dt.time | dt.datetime) -> bool | None:
    """Whether a shop with these hours is open at ``local`` (city time); None when the shop gave no hours."""
    if not opening_hours:
        return None
    minute = local.hour * 60 + local.minute
    for start, end in parse_opening_hours(opening_hours):
        if start < end:
            if start <= minute < end:
                return True
        elif minute >= start or minute < end:  # crosses midnight
            return True
    return False
