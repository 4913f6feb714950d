"""Reports against the plan's measures, read from the tally (see ``tally.py``).

Every figure is an integer count or fen; leverage is consumption driven ÷ subsidy spent (how many
yuan of spending each yuan of subsidy brought), ``None`` while nothing has been spent. A campaign
that funds two measures counts fully in each; totals across measures count each campaign once.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy import func, select

from campaigns.labels import category_labels, district_names
from campaigns.lifecycle import effective_status
from campaigns.models import Campaign, CampaignMeasure, CampaignStatus, Measure, PlanTarget
from campaigns.service import get_campaign, status_label
from merchants.models import Merchant
from voucher_app.core.clock import to_city
from voucher_app.core.errors import NotFound
from voucher_app.core.extensions import db
from voucher_app.core.i18n import localized
from voucher_app.redemptions.models import RedemptionAttempt
from voucher_app.reports.models import TallyCampaign, TallyDay, TallyHour, TallyMeasure, TallyMerchantDay
from voucher_app.vouchers.availability import with_counts

FIGURES = ("claimed", "redeemed", "expired", "revoked", "refunded", "subsidy_cents", "bill_cents")
PLACE_FIGURES = ("redeemed", "refunded", "subsidy_cents", "bill_cents")


def leverage(bill_cents: int, subsidy_cents: int) -> float | None:
    return round(bill_cents / subsidy_cents, 2) if subsidy_cents else None


def _with_leverage(row: dict) -> dict:
    row["leverage"] = leverage(row.get("bill_cents", 0), row.get("subsidy_cents", 0))
    return row


def _iso(when: dt.datetime | None) -> str | None:
    return to_city(when).isoformat() if when else None


def _places(campaign_ids: list[str]) -> tuple[list[dict], list[dict], list[dict]]:
    """Redemption figures by district, by category and by merchant, over ``campaign_ids``."""
    t = TallyMerchantDay
    rows = db.session.execute(
        select(t.merchant_id, func.sum(t.redeemed), func.sum(t.refunded), func.sum(t.subsidy_cents),
               func.sum(t.bill_cents))
        .where(t.campaign_id.in_(campaign_ids)).group_by(t.merchant_id)).all()
    merchants = {m.id: m for m in db.session.scalars(select(Merchant).where(Merchant.id.in_([r[0] for r in rows])))}
    districts, categories = district_names(), category_labels()
    by_district = {code: {"district": code, "name": name, **dict.fromkeys(PLACE_FIGURES, 0), "merchants": 0}
                   for code, name in districts.items()}
    by_category: dict[str, dict] = {}
    by_merchant = []
    for merchant_id, redeemed, refunded, subsidy, bill in rows:
        merchant = merchants[merchant_id]
        figures = {"redeemed": int(redeemed), "refunded": int(refunded), "subsidy_cents": int(subsidy),
                   "bill_cents": int(bill)}
        for bucket in (by_district.setdefault(merchant.district, {"district": merchant.district,
                                                                  "name": merchant.district,
                                                                  **dict.fromkeys(PLACE_FIGURES, 0), "merchants": 0}),
                       by_category.setdefault(merchant.category, {
                           "category": merchant.category, "name": categories.get(merchant.category, merchant.category),
                           **dict.fromkeys(PLACE_FIGURES, 0), "merchants": 0})):
            for key, value in figures.items():
                bucket[key] += value
            bucket["merchants"] += 1 if figures["redeemed"] > 0 else 0
        by_merchant.append({"merchant_id": merchant_id, "name": merchant.name, "district": merchant.district,
                            "district_name": districts.get(merchant.district, merchant.district),
                            "category": merchant.category,
                            "category_name": categories.get(merchant.category, merchant.category), **figures})
    order = list(categories)
    return ([_with_leverage(d) for d in by_district.values()],
            [_with_leverage(c) for c in sorted(by_category.values(), key=lambda c: order.index(c["category"])
                                               if c["category"] in order else len(order))],
            [_with_leverage(m) for m in sorted(by_merchant, key=lambda m: (-m["subsidy_cents"], m["name"]))])


def _days(campaign_ids: list[str]) -> list[dict]:
    days: dict[dt.date, dict] = defaultdict(lambda: {"claimed": 0, "expired": 0, **dict.fromkeys(PLACE_FIGURES, 0)})
    for day, claimed, expired in db.session.execute(
            select(TallyDay.day, func.sum(TallyDay.claimed), func.sum(TallyDay.expired))
            .where(TallyDay.campaign_id.in_(campaign_ids)).group_by(TallyDay.day)):
        days[day].update(claimed=int(claimed), expired=int(expired))
    t = TallyMerchantDay
    for day, redeemed, refunded, subsidy, bill in db.session.execute(
            select(t.day, func.sum(t.redeemed), func.sum(t.refunded), func.sum(t.subsidy_cents), func.sum(t.bill_cents))
            .where(t.campaign_id.in_(campaign_ids)).group_by(t.day)):
        days[day].update(redeemed=int(redeemed), refunded=int(refunded), subsidy_cents=int(subsidy),
                         bill_cents=int(bill))
    return [_with_leverage({"day": day.isoformat(), **figures}) for day, figures in sorted(days.items())]


def _hours(campaign_ids: list[str]) -> list[dict]:
    hours = {h: {"hour": h, "claimed": 0, "redeemed": 0, "subsidy_cents": 0, "bill_cents": 0} for h in range(24)}
    for hour, claimed, redeemed, subsidy, bill in db.session.execute(
            select(TallyHour.hour, func.sum(TallyHour.claimed), func.sum(TallyHour.redeemed),
                   func.sum(TallyHour.subsidy_cents), func.sum(TallyHour.bill_cents))
            .where(TallyHour.campaign_id.in_(campaign_ids)).group_by(TallyHour.hour)):
        hours[int(hour)].update(claimed=int(claimed), redeemed=int(redeemed), subsidy_cents=int(subsidy),
                                bill_cents=int(bill))
    return list(hours.values())


def refusals_by_code(campaign_id: str | None = None) -> list[dict]:
    """Redemption attempts refused, per reason code, most frequent first (counted live). A till's
    look before the bill (``/till/check``) is kept too, but only attempts to redeem are counted here."""
    query = select(RedemptionAttempt.outcome, func.count()).where(RedemptionAttempt.outcome != "ok",
                                                                 RedemptionAttempt.action == "redeem")
    if campaign_id:
        query = query.where(RedemptionAttempt.campaign_id == campaign_id)
    rows = db.session.execute(query.group_by(RedemptionAttempt.outcome)).all()
    return [{"code": code, "count": n} for code, n in sorted(rows, key=lambda r: (-r[1], r[0]))]


def _totals(rows) -> dict:
    return {field: sum(int(getattr(r, field)) for r in rows) for field in FIGURES}


def campaign_report(campaign_id: str, now: dt.datetime) -> dict:
    """The contract's campaign report, with hours, merchants and refusals besides."""
    campaign = get_campaign(campaign_id, include_drafts=True)
    if campaign.status is CampaignStatus.draft:
        raise NotFound(_("A draft campaign has no report until it is published."))
    tally = db.session.get(TallyCampaign, campaign.id)
    figures = {field: int(getattr(tally, field)) if tally else 0 for field in FIGURES}
    by_district, by_category, by_merchant = _places([campaign.id])
    return {
        "campaign_id": campaign.id, "name": campaign.name, "kind": campaign.kind.value,
        "status": effective_status(campaign, now).value,
        "status_label": status_label(effective_status(campaign, now).value),
        "measure_codes": campaign.measure_codes, "budget_cents": campaign.budget_cents,
        "starts_at": _iso(campaign.starts_at), "ends_at": _iso(campaign.ends_at),
        **figures, "leverage": leverage(figures["bill_cents"], figures["subsidy_cents"]),
        "merchants": tally.merchants if tally else 0, "residents": tally.residents if tally else 0,
        "budget_used_share": round(figures["subsidy_cents"] / campaign.budget_cents, 4) if campaign.budget_cents else None,
        "tallied_at": _iso(tally.tallied_at) if tally else None,
        "by_district": by_district, "by_category": by_category, "by_day": _days([campaign.id]),
        "by_hour": _hours([campaign.id]), "by_merchant": by_merchant,
        "refusals": refusals_by_code(campaign.id),
    }


def _published_campaigns() -> dict[str, list[str]]:
    """Measure code → ids of its published campaigns."""
    rows = db.session.execute(
        select(CampaignMeasure.measure_code, CampaignMeasure.campaign_id)
        .join(Campaign, Campaign.id == CampaignMeasure.campaign_id)
        .where(Campaign.status != CampaignStatus.draft))
    by_measure: dict[str, list[str]] = defaultdict(list)
    for code, campaign_id in rows:
        by_measure[code].append(campaign_id)
    return by_measure


def measures_report(now: dt.datetime) -> dict:
    """Per measure of the plan: the sum of its campaigns; plus the plan's money targets."""
    by_measure = _published_campaigns()
    tallies = {t.campaign_id: t for t in db.session.scalars(select(TallyCampaign))}
    budgets = dict(db.session.execute(select(Campaign.id, Campaign.budget_cents)
                                      .where(Campaign.status != CampaignStatus.draft)).all())
    distinct = {t.measure_code: t for t in db.session.scalars(select(TallyMeasure))}
    items = []
    for measure in db.session.scalars(select(Measure).order_by(Measure.position)):
        ids = by_measure.get(measure.code, [])
        rows = [tallies[c] for c in ids if c in tallies]
        figures = _totals(rows)
        people = distinct.get(measure.code)
        items.append(_with_leverage({
            "code": measure.code, "item": measure.item, "title": localized(measure, "title"),
            "action_code": measure.action_code, "lead": measure.lead, "campaigns": len(ids),
            "budget_cents": sum(budgets.get(c, 0) for c in ids), **figures,
            "merchants": people.merchants if people else 0, "residents": people.residents if people else 0,
            "targets": [{**target, "value": None, "progress": None} for target in (measure.targets or [])],
        }))
    every = list(tallies.values())
    totals = _with_leverage({"campaigns": len(budgets), "budget_cents": sum(budgets.values()), **_totals(every),
                             "merchants": None, "residents": None})
    tallied = max((t.tallied_at for t in every), default=None)
    return {"items": items, "totals": totals, "plan_targets": _plan_targets(totals["bill_cents"]),
            "tallied_at": _iso(tallied)}


def _plan_targets(bill_cents: int) -> list[dict]:
    """The plan's money targets; consumption driven by vouchers counts toward retail sales."""
    out = []
    for target in db.session.scalars(select(PlanTarget).order_by(PlanTarget.position)):
        counted = target.metric == "retail_sales_total" and target.at_least_cents
        out.append({"metric": target.metric, "title": localized(target, "title"), "by": target.by,
                    "at_least_cents": target.at_least_cents,
                    "value_cents": bill_cents if counted else None,
                    # unrounded: a voucher campaign is a sliver of a city's retail sales
                    "progress": bill_cents / target.at_least_cents if counted else None})
    return out


def measure_report(code: str, now: dt.datetime) -> dict:
    """One measure: its totals, its campaigns, and the place, day and hour breakdowns of them all."""
    measure = db.session.get(Measure, code)
    if measure is None:
        raise NotFound(_("The plan has no measure %(code)s.", code=code))
    every = measures_report(now)
    report = next(item for item in every["items"] if item["code"] == code)
    report["tallied_at"] = every["tallied_at"]
    ids = _published_campaigns().get(code, [])
    campaigns = db.session.scalars(select(Campaign).where(Campaign.id.in_(ids)).order_by(Campaign.starts_at)).all()
    tallies = {t.campaign_id: t for t in db.session.scalars(select(TallyCampaign).where(TallyCampaign.campaign_id.in_(ids)))}
    by_district, by_category, by_merchant = _places(ids)
    report.update(
        campaign_list=[_with_leverage({
            "campaign_id": c.id, "name": c.name, "status": effective_status(c, now).value,
            "budget_cents": c.budget_cents,
            **{field: int(getattr(tallies[c.id], field)) if c.id in tallies else 0 for field in FIGURES}})
            for c in campaigns],
        by_district=by_district, by_category=by_category, by_day=_days(ids), by_hour=_hours(ids),
        by_merchant=by_merchant)
    return report


def live_round(campaign_id: str, now: dt.datetime) -> dict:
    """An open campaign right now, counted live (not from the tally): per tier, released, claimed and
    remaining. The monitor page derives claims per second from two readings."""
    campaign = get_campaign(campaign_id, include_drafts=False)
    view = with_counts([campaign], now)[0]
    return {"campaign_id": campaign.id, "name": campaign.name, "status": view["status"], "at": now.isoformat(),
            "claimed": sum(t["claimed"] for t in view["tiers"]),
            "remaining": sum(t["remaining"] for t in view["tiers"]),
            "released": sum(t["released"] for t in view["tiers"]),
            "tiers": [{"id": t["id"], "name": t["name"], "released": t["released"], "claimed": t["claimed"],
                       "remaining": t["remaining"]} for t in view["tiers"]],
            "rounds": view["rounds"]}
