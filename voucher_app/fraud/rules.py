"""The fraud rules (M21 刷单炒信): what each one looks for, its tunable thresholds, and how its finding
is told to a bureau officer.

Each rule is a few set-based queries (``GROUP BY`` over the redemptions of the window, on SQLite and
PostgreSQL alike) and a little arithmetic over their grouped rows; it never reads redemptions one by
one, so a month of a city's sales is judged in seconds, long after the till committed them.

A rule's finding is a ``Hit``: the shop, a score from 0 to 100, the figures that explain it (stored as
data, ``flags.explanation``, and told as a sentence in the reader's language by ``explain``), and the
redemptions that are its evidence. The score is ``weight × severity``, capped at 100, where the
severity is how far the worst figure goes past its threshold (1.0 = just at it): a hit that barely
crosses a threshold scores its weight, one twice past it scores double.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, and_, case, cast, distinct, func, or_, select

from merchants.models import Merchant
from voucher_app.accounts.models import SignIn, User
from voucher_app.core.extensions import db
from voucher_app.redemptions.models import Redemption
from voucher_app.vouchers.models import Voucher

MAX_EVIDENCE = 500  # redemption ids one hit names at most (the earliest ones)

_r, _v, _m, _s, _u = (Redemption.__table__, Voucher.__table__, Merchant.__table__, SignIn.__table__,
                      User.__table__)


@dataclass(frozen=True)
class Hit:
    merchant_id: str
    score: int
    explanation: dict
    redemption_ids: list[str]


@dataclass(frozen=True)
class Param:
    """One threshold of a rule: its default, its bounds and what it means."""

    default: int | float
    label: object  # a lazy string
    minimum: float = 0
    maximum: float | None = None

    @property
    def kind(self) -> type:
        return type(self.default)


@dataclass(frozen=True)
class Rule:
    code: str
    name: object  # lazy strings, told in the reader's language
    description: object
    params: Mapping[str, Param]
    find: Callable[[Window, dict], list[Hit]]
    explain: Callable[[dict], str]

    def defaults(self) -> dict:
        return {key: param.default for key, param in self.params.items()}


# The window and its time arithmetic ---------------------------------------------------------------

class Window:
    """The redemptions judged: those made in ``[start, end)``; rule histories may look before ``start``.

    Local time (the city's day, hour, minute) is computed in SQL from the seconds since the epoch plus
    the zone's offset; where the zone changes its offset inside the window (summer time), the offset is a
    ``CASE`` over the instants it changes at, found hour by hour.
    """

    def __init__(self, start: dt.datetime, end: dt.datetime, zone: ZoneInfo, history_start: dt.datetime):
        self.start, self.end, self.zone, self.history_start = start, end, zone, history_start
        self.dialect = db.engine.dialect.name
        self._offsets = self._offset_changes(history_start - dt.timedelta(days=1), end + dt.timedelta(days=1))

    def _offset_changes(self, first: dt.datetime, last: dt.datetime) -> list[tuple[dt.datetime, int]]:
        changes: list[tuple[dt.datetime, int]] = []
        moment = first.replace(minute=0, second=0, microsecond=0)
        while moment <= last:
            offset = int(moment.astimezone(self.zone).utcoffset().total_seconds())
            if not changes or changes[-1][1] != offset:
                changes.append((moment, offset))
            moment += dt.timedelta(hours=1)
        return changes

    def epoch(self, column):
        """Whole seconds since 1970 of a stored UTC time."""
        if self.dialect == "sqlite":
            return cast(func.strftime("%s", column), BigInteger)
        return cast(func.floor(func.extract("epoch", column)), BigInteger)

    def local_epoch(self, column):
        """Seconds since 1970 on the city's wall clock."""
        offsets = self._offsets
        if len(offsets) == 1:
            return self.epoch(column) + offsets[0][1]
        offset = case(*((column < offsets[i + 1][0], offsets[i][1]) for i in range(len(offsets) - 1)),
                      else_=offsets[-1][1])
        return self.epoch(column) + offset

    def local_day(self, column):
        """The city's day as a number of days since 1970."""
        return self.local_epoch(column) // 86400

    def local_hour(self, column):
        """The city's hour as a number of hours since 1970."""
        return self.local_epoch(column) // 3600

    def local_minute_of_day(self, column):
        return (self.local_epoch(column) % 86400) // 60

    def in_window(self):
        return and_(_r.c.redeemed_at >= self.start, _r.c.redeemed_at < self.end)

    @property
    def first_day(self) -> int:
        return _day_number(self.start.astimezone(self.zone).date())


def _day_number(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def _day_text(number: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=number)).isoformat()


def _evidence(*conditions, joins_voucher: bool = False) -> list[str]:
    """The ids of the redemptions that meet ``conditions``, earliest first, at most MAX_EVIDENCE."""
    source = _r.join(_v, _v.c.id == _r.c.voucher_id) if joins_voucher else _r
    query = (select(_r.c.id).select_from(source).where(*conditions)
             .order_by(_r.c.redeemed_at, _r.c.id).limit(MAX_EVIDENCE))
    return list(db.session.scalars(query))


def _score(weight: int, severity: float) -> int:
    return max(1, min(100, round(weight * severity)))


def resident_ref(resident_id: str | None) -> str:
    """A short anonymised name for a resident: the same person reads the same across flags and pages,
    and nothing about them (no phone, no id) can be read back from it."""
    if not resident_id:
        return "—"
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, b"fraud.resident:" + resident_id.encode(), hashlib.sha256).hexdigest()
    return "R-" + digest[:6].upper()


def _staff_names(user_ids) -> dict[str, str]:
    ids = [uid for uid in set(user_ids) if uid]
    if not ids:
        return {}
    rows = db.session.execute(select(_u.c.id, _u.c.display_name, _u.c.username).where(_u.c.id.in_(ids)))
    return {row.id: row.display_name or row.username or "—" for row in rows}


# velocity -----------------------------------------------------------------------------------------

def _daily_counts(window: Window, start: dt.datetime) -> dict[str, dict[int, int]]:
    day = window.local_day(_r.c.redeemed_at)
    rows = db.session.execute(
        select(_r.c.merchant_id, day.label("day"), func.count().label("n"))
        .where(_r.c.redeemed_at >= start, _r.c.redeemed_at < window.end).group_by(_r.c.merchant_id, day))
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    for row in rows:
        counts[row.merchant_id][row.day] = row.n
    return counts


def _median_before(counts: dict[int, int], day: int, days: int, first_day: int) -> tuple[float, int]:
    """The median daily count of the ``days`` days before ``day`` (days without a sale count as 0, but
    not before the shop's first sale), and how many days that was."""
    history = [counts.get(d, 0) for d in range(max(day - days, first_day), day)]
    return (statistics.median(history) if history else 0.0), len(history)


def find_velocity(window: Window, p: dict) -> list[Hit]:
    days = int(p["history_days"])
    counts = _daily_counts(window, window.start - dt.timedelta(days=days))
    city: dict[int, int] = defaultdict(int)
    for by_day in counts.values():
        for day, n in by_day.items():
            city[day] += n

    def city_factor(by_day: dict[int, int], day: int) -> float:
        # A release day or a holiday lifts every shop: judge a shop against the lift of the rest of the
        # city (without the shop itself, which would otherwise excuse its own spike).
        others = {d: n - by_day.get(d, 0) for d, n in city.items()}
        first = min((d for d, n in others.items() if n), default=day)
        usual, _n = _median_before(others, day, days, first)
        return max(1.0, others.get(day, 0) / usual) if usual else 1.0

    found: dict[str, list[tuple[float, dict, object]]] = defaultdict(list)
    for merchant_id, by_day in counts.items():
        first = min(by_day)
        for day, n in by_day.items():
            if day < window.first_day or n < p["min_count"]:
                continue
            median, history = _median_before(by_day, day, days, first)
            if history < p["min_history_days"]:
                continue
            factor = city_factor(by_day, day)
            ratio = n / (max(median, p["min_baseline"]) * factor)
            if ratio >= p["ratio"]:
                start = dt.datetime.combine(dt.date(1970, 1, 1) + dt.timedelta(days=day), dt.time(0), tzinfo=window.zone)
                where = (_r.c.redeemed_at >= start.astimezone(dt.timezone.utc),
                         _r.c.redeemed_at < (start + dt.timedelta(days=1)).astimezone(dt.timezone.utc))
                found[merchant_id].append((ratio / p["ratio"], {
                    "kind": "day", "day": _day_text(day), "count": n, "median": median, "days": history,
                    "ratio": round(ratio, 1), "city_factor": round(factor, 1)}, where))

    # One cashier's hour, against what the whole shop usually does in a day.
    hour = window.local_hour(_r.c.redeemed_at)
    bursts = db.session.execute(
        select(_r.c.merchant_id, _r.c.cashier_id, hour.label("hour"), func.count().label("n"))
        .where(window.in_window()).group_by(_r.c.merchant_id, _r.c.cashier_id, hour)
        .having(func.count() >= p["cashier_hour_min_count"])).all()
    names = _staff_names(row.cashier_id for row in bursts)
    for row in bursts:
        by_day = counts.get(row.merchant_id, {})
        local = dt.datetime(1970, 1, 1) + dt.timedelta(hours=row.hour)
        day = _day_number(local.date())
        median, history = _median_before(by_day, day, days, min(by_day, default=day))
        baseline = max(median, p["min_baseline"]) if history >= p["min_history_days"] else p["min_baseline"]
        ratio = row.n / baseline
        if ratio >= p["cashier_hour_ratio"]:
            start = local.replace(tzinfo=window.zone).astimezone(dt.timezone.utc)
            where = (_r.c.cashier_id == row.cashier_id, _r.c.redeemed_at >= start,
                     _r.c.redeemed_at < start + dt.timedelta(hours=1))
            found[row.merchant_id].append((ratio / p["cashier_hour_ratio"], {
                "kind": "cashier_hour", "cashier": names.get(row.cashier_id, "—"), "cashier_id": row.cashier_id,
                "day": local.date().isoformat(), "hour": f"{local:%H}:00", "count": row.n, "median": median,
                "days": history}, where))

    hits = []
    for merchant_id, items in found.items():
        items.sort(key=lambda item: -item[0])
        severity, explanation, _where = items[0]
        ids: list[str] = []
        for _sev, _exp, where in items:
            ids.extend(_evidence(_r.c.merchant_id == merchant_id, *where))
        explanation = {**explanation, "occasions": len(items)}
        hits.append(Hit(merchant_id, _score(p["weight"], severity), explanation, sorted(set(ids))[:MAX_EVIDENCE]))
    return hits


def explain_velocity(e: dict) -> str:
    if e.get("kind") == "cashier_hour":
        text = _("Cashier %(cashier)s redeemed %(count)d vouchers within one hour (%(day)s from %(hour)s), "
                 "more than this shop's usual whole day (median %(median)s over the previous %(days)d days).",
                 cashier=e["cashier"], count=e["count"], day=e["day"], hour=e["hour"], median=_num(e["median"]),
                 days=e["days"])
    else:
        text = _("On %(day)s this shop redeemed %(count)d vouchers, %(ratio).1f times its median of "
                 "%(median)s a day over the previous %(days)d days (the whole city was %(city).1f times its usual "
                 "that day).", day=e["day"], count=e["count"], ratio=e["ratio"], median=_num(e["median"]),
                 days=e["days"], city=e.get("city_factor", 1.0))
    return _with_occasions(text, e)


def _num(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _with_occasions(text: str, e: dict) -> str:
    if e.get("occasions", 1) > 1:
        return text + " " + _("(%(n)d such occasions in all.)", n=e["occasions"])
    return text


# repeat_pair --------------------------------------------------------------------------------------

def _person():
    return func.coalesce(_v.c.person_id, _v.c.resident_id)


def find_repeat_pair(window: Window, p: dict) -> list[Hit]:
    person = _person()
    uses = func.count(distinct(_r.c.voucher_id))
    rows = db.session.execute(
        select(_r.c.merchant_id, person.label("person"), uses.label("n"))
        .select_from(_r.join(_v, _v.c.id == _r.c.voucher_id)).where(window.in_window())
        .group_by(_r.c.merchant_id, person).having(uses >= p["min_count"])).all()
    pairs: dict[str, list] = defaultdict(list)
    for row in rows:
        pairs[row.merchant_id].append(row)
    hits = []
    for merchant_id, found in pairs.items():
        worst = max(found, key=lambda row: row.n)
        ids = _evidence(_r.c.merchant_id == merchant_id, window.in_window(),
                        person.in_([row.person for row in found]), joins_voucher=True)
        explanation = {"resident": resident_ref(worst.person), "count": worst.n, "days": window_days(window),
                       "threshold": p["min_count"], "pairs": len(found)}
        hits.append(Hit(merchant_id, _score(p["weight"], worst.n / p["min_count"]), explanation, ids))
    return hits


def window_days(window: Window) -> int:
    return max(1, round((window.end - window.start).total_seconds() / 86400))


def explain_repeat_pair(e: dict) -> str:
    text = _("Resident %(resident)s used %(count)d vouchers at this shop in %(days)d days (the rule's limit is "
             "%(threshold)d).", resident=e["resident"], count=e["count"], days=e["days"], threshold=e["threshold"])
    if e.get("pairs", 1) > 1:
        text += " " + _("%(n)d residents did so here.", n=e["pairs"])
    return text


# threshold_hugging --------------------------------------------------------------------------------

def find_threshold_hugging(window: Window, p: dict) -> list[Hit]:
    over = _r.c.bill_cents - _v.c.threshold_cents
    hugging = and_(over >= 0, over <= p["margin_cents"])
    spend_tier = and_(_v.c.percent.is_(None), _v.c.threshold_cents > 0)  # 满减, not face value or percent
    rows = db.session.execute(
        select(_r.c.merchant_id, func.count().label("n"), func.sum(case((hugging, 1), else_=0)).label("hug"),
               func.max(case((hugging, _v.c.threshold_cents), else_=None)).label("threshold"))
        .select_from(_r.join(_v, _v.c.id == _r.c.voucher_id)).where(window.in_window(), spend_tier)
        .group_by(_r.c.merchant_id).having(func.count() >= p["min_count"])).all()
    hits = []
    for row in rows:
        share = (row.hug or 0) / row.n
        if row.hug < p["min_count"] * p["min_share"] or share < p["min_share"]:
            continue
        ids = _evidence(_r.c.merchant_id == row.merchant_id, window.in_window(), spend_tier, hugging,
                        joins_voucher=True)
        explanation = {"count": row.hug, "total": row.n, "share": round(share * 100), "margin_cents": p["margin_cents"],
                       "threshold_cents": row.threshold}
        hits.append(Hit(row.merchant_id, _score(p["weight"], share / p["min_share"]), explanation, ids))
    return hits


def explain_threshold_hugging(e: dict) -> str:
    threshold = e.get("threshold_cents") or 0
    return _("%(count)d of this shop's %(total)d spend-threshold redemptions (%(share)d%%) had a bill between "
             "%(low)s and %(high)s yuan, no more than %(margin)s yuan above the voucher's threshold: bills made to "
             "fit the voucher rather than real purchases.", count=e["count"], total=e["total"], share=e["share"],
             low=_yuan(threshold), high=_yuan(threshold + e["margin_cents"]), margin=_yuan(e["margin_cents"]))


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# outside_hours ------------------------------------------------------------------------------------

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*$")


def parse_hours(text: str | None) -> list[tuple[int, int]] | None:
    """``"09:00-22:00"`` or ``"17:00-02:00,10:00-14:00"`` as spans of minutes of the day (an end at or
    before its start crosses midnight); None when there are no hours or they cannot be read."""
    if not text or not text.strip():
        return None
    spans = []
    for part in re.split(r"[,，;；]", text):
        if not part.strip():
            continue
        match = _SPAN.match(part)
        if not match:
            return None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            return None
        spans.append((h1 * 60 + m1, h2 * 60 + m2))
    return spans or None


def open_at(minute: int, spans: list[tuple[int, int]], grace: int) -> bool:
    """Whether minute-of-day ``minute`` falls in a span, each widened by ``grace`` minutes both ways."""
    for start, end in spans:
        if end <= start:
            end += 1440  # crosses midnight
        start -= grace
        end += grace
        if end - start >= 1440:
            return True
        for m in (minute, minute + 1440, minute - 1440):
            if start <= m < end:
                return True
    return False


def find_outside_hours(window: Window, p: dict) -> list[Hit]:
    hours = {row.id: parse_hours(row.opening_hours) for row in db.session.execute(
        select(_m.c.id, _m.c.opening_hours).where(_m.c.opening_hours.is_not(None)))}
    hours = {mid: spans for mid, spans in hours.items() if spans}
    if not hours:
        return []
    minute = window.local_minute_of_day(_r.c.redeemed_at)
    grace = int(p["grace_minutes"])
    outside: dict[str, dict[int, int]] = defaultdict(dict)
    totals: dict[str, int] = defaultdict(int)
    for row in db.session.execute(
            select(_r.c.merchant_id, minute.label("minute"), func.count().label("n"))
            .select_from(_r.join(_m, _m.c.id == _r.c.merchant_id))
            .where(window.in_window(), _m.c.opening_hours.is_not(None)).group_by(_r.c.merchant_id, minute)):
        spans = hours.get(row.merchant_id)
        if spans is None:
            continue
        totals[row.merchant_id] += row.n
        if not open_at(row.minute, spans, grace):
            outside[row.merchant_id][row.minute] = row.n
    hits = []
    opening = {mid: text for mid, text in db.session.execute(
        select(_m.c.id, _m.c.opening_hours).where(_m.c.id.in_(list(outside))))} if outside else {}
    for merchant_id, minutes in outside.items():
        count, total = sum(minutes.values()), totals[merchant_id]
        share = count / total
        if count < p["min_count"] or share < p["min_share"]:
            continue
        by_hour: dict[int, int] = defaultdict(int)
        for m, n in minutes.items():
            by_hour[m // 60] += n
        busiest = max(by_hour, key=lambda h: by_hour[h])
        outside_minutes = list(minutes)
        ids = _evidence(_r.c.merchant_id == merchant_id, window.in_window(), minute.in_(outside_minutes))
        explanation = {"count": count, "total": total, "share": round(share * 100), "hours": opening[merchant_id],
                       "busiest_hour": f"{busiest:02d}:00", "busiest_count": by_hour[busiest]}
        severity = max(count / p["min_count"], share / p["min_share"] if p["min_share"] else 0.0)
        hits.append(Hit(merchant_id, _score(p["weight"], min(severity, 2.0)), explanation, ids))
    return hits


def explain_outside_hours(e: dict) -> str:
    return _("%(count)d of this shop's %(total)d redemptions (%(share)d%%) were made while it is closed (its "
             "opening hours: %(hours)s); most of them between %(hour)s and the next hour (%(busiest)d).",
             count=e["count"], total=e["total"], share=e["share"], hours=e["hours"], hour=e["busiest_hour"],
             busiest=e["busiest_count"])


# fast_claim_redeem --------------------------------------------------------------------------------

def find_fast_claim_redeem(window: Window, p: dict) -> list[Hit]:
    gap = window.epoch(_r.c.redeemed_at) - window.epoch(_v.c.claimed_at)
    fast = and_(_v.c.claimed_at.is_not(None), gap <= p["seconds"])
    joined = _r.join(_v, _v.c.id == _r.c.voucher_id)
    residents = func.count(distinct(case((fast, _v.c.resident_id), else_=None)))
    rows = db.session.execute(
        select(_r.c.merchant_id, residents.label("residents"), func.sum(case((fast, 1), else_=0)).label("fast"),
               func.count().label("n"), func.avg(case((fast, gap), else_=None)).label("gap"))
        .select_from(joined).where(window.in_window()).group_by(_r.c.merchant_id)
        .having(residents >= p["min_residents"])).all()
    hits = []
    for row in rows:
        share = row.fast / row.n
        if share < p["min_share"]:
            continue
        ids = _evidence(_r.c.merchant_id == row.merchant_id, window.in_window(), fast, joins_voucher=True)
        explanation = {"residents": row.residents, "count": row.fast, "total": row.n, "share": round(share * 100),
                       "seconds": p["seconds"], "average": round(float(row.gap or 0))}
        hits.append(Hit(row.merchant_id, _score(p["weight"], row.residents / p["min_residents"]), explanation, ids))
    return hits


def explain_fast_claim_redeem(e: dict) -> str:
    return _("%(residents)d different residents' vouchers were redeemed here within %(seconds)d seconds of being "
             "claimed (%(count)d redemptions, %(share)d%% of the shop's; %(average)d seconds on average): claimed "
             "at the till on the shop's behalf rather than by residents shopping.", residents=e["residents"],
             seconds=e["seconds"], count=e["count"], share=e["share"], average=e["average"])


# shared_device ------------------------------------------------------------------------------------

def find_shared_device(window: Window, p: dict) -> list[Hit]:
    since = window.start - dt.timedelta(days=int(p["sign_in_days"]))
    groups: dict[str, list[tuple[float, str, str, int]]] = defaultdict(list)
    for kind, column, key in (("device", _s.c.device, "min_residents_per_device"),
                              ("address", _s.c.address, "min_residents_per_address")):
        threshold = p[key]
        if not threshold:
            continue  # 0 turns this half of the rule off
        residents = func.count(distinct(_v.c.resident_id))
        rows = db.session.execute(
            select(_r.c.merchant_id, column.label("value"), residents.label("n"))
            .select_from(_r.join(_v, _v.c.id == _r.c.voucher_id).join(_s, _s.c.user_id == _v.c.resident_id))
            .where(window.in_window(), column.is_not(None), _s.c.created_at >= since)
            .group_by(_r.c.merchant_id, column).having(residents >= threshold))
        for row in rows:
            groups[row.merchant_id].append((row.n / threshold, kind, row.value, row.n))
    hits = []
    for merchant_id, found in groups.items():
        found.sort(key=lambda g: -g[0])
        severity, kind, _value, n = found[0]
        same = []
        for _sev, group_kind, value, _n in found:
            column = _s.c.device if group_kind == "device" else _s.c.address
            same.append(_v.c.resident_id.in_(select(_s.c.user_id).where(column == value, _s.c.created_at >= since)))
        ids = _evidence(_r.c.merchant_id == merchant_id, window.in_window(), or_(*same), joins_voucher=True)
        explanation = {"kind": kind, "residents": n, "groups": len(found),
                       "redemptions": len(ids)}
        hits.append(Hit(merchant_id, _score(p["weight"], severity), explanation, ids))
    return hits


def explain_shared_device(e: dict) -> str:
    if e["kind"] == "device":
        text = _("%(residents)d different residents whose vouchers were redeemed at this shop signed in from one "
                 "and the same device (%(count)d redemptions): one person holding many residents' accounts.",
                 residents=e["residents"], count=e["redemptions"])
    else:
        text = _("%(residents)d different residents whose vouchers were redeemed at this shop signed in from one "
                 "and the same network address (%(count)d redemptions).", residents=e["residents"],
                 count=e["redemptions"])
    if e.get("groups", 1) > 1:
        text += " " + _("%(n)d such groups in all.", n=e["groups"])
    return text


# refund_cycle -------------------------------------------------------------------------------------

def find_refund_cycle(window: Window, p: dict) -> list[Hit]:
    uses = func.count()
    rows = db.session.execute(
        select(_r.c.merchant_id, _r.c.voucher_id, uses.label("n")).where(window.in_window())
        .group_by(_r.c.merchant_id, _r.c.voucher_id).having(uses >= 2)).all()
    cycled: dict[str, list] = defaultdict(list)
    for row in rows:
        cycled[row.merchant_id].append(row)
    if not cycled:
        return []
    vouchers = dict(db.session.execute(
        select(_r.c.merchant_id, func.count(distinct(_r.c.voucher_id))).where(
            window.in_window(), _r.c.merchant_id.in_(list(cycled))).group_by(_r.c.merchant_id)).all())
    hits = []
    for merchant_id, found in cycled.items():
        share = len(found) / vouchers[merchant_id]
        most = max(row.n for row in found)
        severity = max(len(found) / p["min_vouchers"] if share >= p["min_share"] else 0.0,
                       most / p["max_redemptions_per_voucher"])
        if severity < 1:
            continue
        ids = _evidence(_r.c.merchant_id == merchant_id, window.in_window(),
                        _r.c.voucher_id.in_([row.voucher_id for row in found]))
        explanation = {"vouchers": len(found), "total": vouchers[merchant_id], "share": round(share * 100),
                       "most": most, "redemptions": sum(row.n for row in found)}
        hits.append(Hit(merchant_id, _score(p["weight"], severity), explanation, ids))
    return hits


def explain_refund_cycle(e: dict) -> str:
    return _("%(vouchers)d vouchers (%(share)d%% of those used here) were redeemed, refunded and redeemed again at "
             "this shop, %(redemptions)d redemptions in all; one voucher was redeemed %(most)d times.",
             vouchers=e["vouchers"], share=e["share"], redemptions=e["redemptions"], most=e["most"])


# The rules, as the bureau sees them ---------------------------------------------------------------

RULES: dict[str, Rule] = {rule.code: rule for rule in (
    Rule("velocity", _l("Sudden volume"),
         _l("A shop's redemptions in a day, or one cashier's in an hour, far above the shop's own history."),
         {"history_days": Param(14, _l("Days of history the median is taken over"), 1, 90),
          "min_history_days": Param(7, _l("Fewest days of history needed to judge a day"), 1, 90),
          "min_count": Param(30, _l("Fewest redemptions in a day before a day is judged"), 1),
          "min_baseline": Param(5, _l("Smallest daily median assumed (for quiet shops)"), 1),
          "ratio": Param(3.0, _l("Times the median (after the city's own lift) that is too many"), 1),
          "cashier_hour_min_count": Param(20, _l("Fewest redemptions by one cashier in one hour before it is judged"), 1),
          "cashier_hour_ratio": Param(1.0, _l("One cashier's hour against the shop's daily median: too many at"), 0.1),
          "weight": Param(50, _l("Score at the threshold (0–100)"), 1, 100)},
         find_velocity, explain_velocity),
    Rule("repeat_pair", _l("Same resident, same shop"),
         _l("One resident's vouchers used at one shop again and again."),
         {"min_count": Param(8, _l("Vouchers of one resident used at one shop in the window"), 2),
          "weight": Param(50, _l("Score at the threshold (0–100)"), 1, 100)},
         find_repeat_pair, explain_repeat_pair),
    Rule("threshold_hugging", _l("Bills that hug the threshold"),
         _l("Most of a shop's spend-threshold (满减) bills sit just above the threshold, e.g. 100.00–100.50 for "
            "满100; face-value and percentage vouchers are not counted."),
         {"margin_cents": Param(50, _l("How close above the threshold counts as hugging (fen)"), 0, 10_000),
          "min_count": Param(20, _l("Fewest spend-threshold redemptions before a shop is judged"), 1),
          "min_share": Param(0.5, _l("Share of hugging bills that is too many (0–1)"), 0.01, 1),
          "weight": Param(70, _l("Score at the threshold (0–100)"), 1, 100)},
         find_threshold_hugging, explain_threshold_hugging),
    Rule("outside_hours", _l("Outside opening hours"),
         _l("Redemptions while the shop says it is closed (its registered opening hours, city time); shops "
            "without opening hours are not judged."),
         {"grace_minutes": Param(30, _l("Minutes before opening and after closing still accepted"), 0, 720),
          "min_count": Param(5, _l("Fewest redemptions outside the hours that raise a flag"), 1),
          "min_share": Param(0.0, _l("Smallest share of the shop's redemptions outside the hours (0–1)"), 0, 1),
          "weight": Param(60, _l("Score at the threshold (0–100)"), 1, 100)},
         find_outside_hours, explain_outside_hours),
    Rule("fast_claim_redeem", _l("Claimed and redeemed at once"),
         _l("Many residents' vouchers redeemed at one shop within seconds of being claimed."),
         {"seconds": Param(30, _l("Seconds from claim to redemption that count as at once"), 1, 86_400),
          "min_residents": Param(10, _l("Fewest different residents that raise a flag"), 1),
          "min_share": Param(0.05, _l("Smallest share of the shop's redemptions made at once (0–1)"), 0, 1),
          "weight": Param(60, _l("Score at the threshold (0–100)"), 1, 100)},
         find_fast_claim_redeem, explain_fast_claim_redeem),
    Rule("shared_device", _l("Many residents, one device"),
         _l("Many different residents whose vouchers were used at one shop signed in from one device or one "
            "network address."),
         {"min_residents_per_device": Param(5, _l("Fewest residents on one device (0 = do not look at devices)"), 0),
          "min_residents_per_address": Param(50, _l("Fewest residents on one address (0 = do not look at addresses)"), 0),
          "sign_in_days": Param(14, _l("Days before the window whose sign-ins count"), 0, 60),
          "weight": Param(70, _l("Score at the threshold (0–100)"), 1, 100)},
         find_shared_device, explain_shared_device),
    Rule("refund_cycle", _l("Refund and redeem again"),
         _l("Vouchers redeemed, refunded and redeemed again at the same shop, repeatedly."),
         {"min_vouchers": Param(5, _l("Fewest vouchers cycled at one shop"), 1),
          "min_share": Param(0.05, _l("Smallest share of the shop's vouchers cycled (0–1)"), 0, 1),
          "max_redemptions_per_voucher": Param(3, _l("Redemptions of one voucher at one shop that raise a flag alone"), 2),
          "weight": Param(60, _l("Score at the threshold (0–100)"), 1, 100)},
         find_refund_cycle, explain_refund_cycle),
)}


def rule_name(code: str) -> str:
    rule = RULES.get(code)
    return str(rule.name) if rule else code


def explain(code: str, explanation: dict) -> str:
    """The sentence an officer reads for a flag's figures, in the reader's language."""
    rule = RULES.get(code)
    if rule is None:
        return ""
    try:
        return rule.explain(explanation)
    except (KeyError, TypeError, ValueError):  # figures stored by an older version of the rule
        return str(rule.description)

