"""The bureau's report pages: the plan's measures, one measure, one campaign, the live rush monitor,
and the exports of each report (CSV, XLSX).

Views stay thin: ask the report service at the app clock's "now", draw the charts, render. The figures
come from the tally, which the scheduler refreshes every few minutes, so every page says when they
were counted; only the live monitor counts claims as they happen. An export carries every figure its
page shows (and a few more), with money in yuan, under headers in the reader's language.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import deque
from collections.abc import Iterable

from flask import Blueprint, current_app, jsonify, render_template
from flask_babel import gettext as _
from markupsafe import Markup

from campaigns.service import status_label
from voucher_app.accounts.guards import page_roles_required
from voucher_app.core.clock import now, to_city
from voucher_app.core.errors import DomainError
from voucher_app.core.exports import table_response
from voucher_app.core.money import yuan, yuan_text
from voucher_app.core.roles import BUREAU
from voucher_app.reports import service
from voucher_app.reports.charts import Series, horizontal_bars, vertical_bars

pages = Blueprint("reports", __name__, template_folder="templates")

FORMAT = "<any(csv, xlsx):fmt>"  # any other ending is not a route: 404


@pages.context_processor
def _page_helpers() -> dict:
    return {"percent": percent, "number": number, "leverage_text": leverage_text,
            "tally_minutes": current_app.config["SCHEDULE_TALLY_MINUTES"]}


@pages.get("/bureau/reports")
@page_roles_required(*BUREAU)
def measures_page():
    """The plan's measures side by side: what each one's campaigns spent and drove, against the targets."""
    report = service.measures_report(now())
    return render_template("reports/measures.html", report=report, chart=measures_chart(report))


@pages.get(f"/bureau/reports/measures.{FORMAT}")
@page_roles_required(*BUREAU)
def measures_export(fmt: str):
    """The measures report for a spreadsheet: one row per measure, the total, and the plan's targets."""
    at = now()
    return _export(f"measures-{to_city(at).date()}", _("Measures"), measure_columns(),
                   measures_rows(service.measures_report(at)), fmt)


@pages.get("/bureau/reports/measures/<code>")
@page_roles_required(*BUREAU)
def measure_page(code: str):
    """One measure: the sum of its campaigns, each campaign, and where, when and in which trades."""
    at = now()
    report = service.measure_report(code, at)
    return render_template("reports/measure.html", report=report, charts=breakdown_charts(report),
                           tallied_at=report["tallied_at"])


@pages.get(f"/bureau/reports/measures/<code>.{FORMAT}")
@page_roles_required(*BUREAU)
def measure_export(code: str, fmt: str):
    """One measure for a spreadsheet: one sheet, a "section" column telling its campaigns and breakdowns apart
    (a single table filters and pivots more easily than several sheets)."""
    at = now()
    return _export(f"measure-{code}-{to_city(at).date()}", _("Measure %(code)s", code=code), breakdown_columns(),
                   measure_rows(service.measure_report(code, at)), fmt)


@pages.get("/bureau/reports/campaigns/<campaign_id>")
@page_roles_required(*BUREAU)
def campaign_page(campaign_id: str):
    """One campaign's figures at a glance, its breakdowns, its shops, and why the tills refused vouchers."""
    report = service.campaign_report(campaign_id, now())
    return render_template("reports/campaign.html", report=report, charts=breakdown_charts(report),
                           refusal_labels=refusal_labels())


@pages.get(f"/bureau/reports/campaigns/<campaign_id>.{FORMAT}")
@page_roles_required(*BUREAU)
def campaign_export(campaign_id: str, fmt: str):
    """One campaign for a spreadsheet, laid out as the measure's export, plus its merchants and refusals."""
    at = now()
    return _export(f"campaign-{campaign_id}-{to_city(at).date()}", _("Campaign report"), breakdown_columns(),
                   campaign_rows(service.campaign_report(campaign_id, at)), fmt)


@pages.get("/bureau/reports/campaigns/<campaign_id>/live")
@page_roles_required(*BUREAU)
def live_page(campaign_id: str):
    """The rush as it happens; the figures are on the page, so it reads without script, and a small
    script (``live_monitor.js``) refreshes them and works out claims per second."""
    return render_template("reports/live.html", live=service.live_round(campaign_id, now()),
                           city_zone=current_app.config["CITY_TIMEZONE"])


@pages.get("/bureau/reports/campaigns/<campaign_id>/live.json")
@page_roles_required(*BUREAU)
def live_json(campaign_id: str):
    """What the monitor polls every two seconds; counted live, so no cache may keep it."""
    response = jsonify(service.live_round(campaign_id, now()))
    response.headers["Cache-Control"] = "no-store, private"
    return response


# How figures read -----------------------------------------------------------------------------------

def number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def leverage_text(value: float | None) -> str:
    """Leverage with two decimals; a dash while nothing has been spent (it is not zero, it is unknown)."""
    return "—" if value is None else f"{value:,.2f}"


def percent(share: float | None) -> str:
    """A share as a percentage, with enough decimals that a tiny share of a city-wide target shows."""
    if share is None:
        return "—"
    pct = share * 100
    if not pct:
        return "0%"
    if pct >= 10:
        return f"{pct:.1f}%"
    decimals = 2 if pct >= 0.01 else -math.floor(math.log10(pct)) + 1
    return f"{pct:.{decimals}f}%"


def _pct(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 4)


def refusal_labels() -> dict[str, str]:
    """Refusal code → the words the till showed for it, read from the domain errors themselves, so the
    report and the till never disagree and a new refusal needs no second label."""
    labels: dict[str, str] = {}
    pending = deque([DomainError])
    while pending:  # breadth first: a base class's words win over a subclass reusing its code
        error = pending.popleft()
        pending.extend(error.__subclasses__())
        labels.setdefault(error.code, str(error.title))
    return labels


# Charts -------------------------------------------------------------------------------------------

def _money(cents: int) -> str:
    return "¥" + yuan_text(cents, trim="whole")


def _money_series(rows: list[dict]) -> list[Series]:
    return [Series(_("Subsidy"), [r["subsidy_cents"] for r in rows]),
            Series(_("Consumption"), [r["bill_cents"] for r in rows])]


def measures_chart(report: dict) -> Markup:
    """Subsidy against consumption for each measure that has campaigns."""
    funded = [m for m in report["items"] if m["campaigns"]]
    return horizontal_bars([f"{m['code']} {m['title']}" for m in funded], _money_series(funded),
                           title=_("Subsidy and consumption by measure"), x_label=_("Yuan"),
                           empty_text=_("No data yet"), value_text=_money)


def breakdown_charts(report: dict) -> dict[str, Markup]:
    """The four charts a campaign and a measure share: by day, by hour of day, by district, by trade."""
    days = continuous_days(report["by_day"])
    hours = report["by_hour"]
    no_data = _("No data yet")
    return {
        "day": vertical_bars([d["day"][5:] for d in days], _count_series(days),
                             title=_("Claims and redemptions by day"), x_label=_("Day (city time)"),
                             y_label=_("Vouchers"), empty_text=no_data),
        "hour": vertical_bars([str(h["hour"]) for h in hours], _count_series(hours),
                              title=_("Claims and redemptions by hour of day"),
                              x_label=_("Hour of day (city time)"), y_label=_("Vouchers"), empty_text=no_data),
        "district": horizontal_bars([d["name"] for d in report["by_district"]], _money_series(report["by_district"]),
                                    title=_("Subsidy and consumption by district"), x_label=_("Yuan"),
                                    empty_text=no_data, value_text=_money),
        "category": horizontal_bars([c["name"] for c in report["by_category"]], _money_series(report["by_category"]),
                                    title=_("Subsidy and consumption by merchant category"), x_label=_("Yuan"),
                                    empty_text=no_data, value_text=_money),
    }


def _count_series(rows: list[dict]) -> list[Series]:
    return [Series(_("Claimed"), [r["claimed"] for r in rows]), Series(_("Redeemed"), [r["redeemed"] for r in rows])]


def continuous_days(by_day: list[dict]) -> list[dict]:
    """Days with activity, and the quiet days between them at zero, so a chart's gaps are true gaps."""
    if not by_day:
        return []
    known = {d["day"]: d for d in by_day}
    first, last = dt.date.fromisoformat(by_day[0]["day"]), dt.date.fromisoformat(by_day[-1]["day"])
    quiet = {"claimed": 0, "redeemed": 0}
    return [known.get(day.isoformat(), {"day": day.isoformat(), **quiet})
            for day in (first + dt.timedelta(days=n) for n in range((last - first).days + 1))]


# Exports ------------------------------------------------------------------------------------------

def _export(filename: str, title: str, columns: list[tuple[str, str]], rows: Iterable[dict], fmt: str):
    """``rows`` (dicts) as a table with ``columns`` (key, header); ``*_cents`` keys go out in yuan."""
    body = ([yuan(row.get(key)) if key.endswith("_cents") else row.get(key) for key, _header in columns]
            for row in rows)
    return table_response(filename, title, [header for _key, header in columns], body, fmt)


def measure_columns() -> list[tuple[str, str]]:
    return [("section", _("Section")), ("code", _("Code")), ("name", _("Name")),
            ("campaigns", _("Number of campaigns")), ("budget_cents", _("Budget (yuan)")),
            ("claimed", _("Claimed")), ("redeemed", _("Redeemed")), ("expired", _("Expired")),
            ("revoked", _("Revoked")), ("refunded", _("Refunded")), ("subsidy_cents", _("Subsidy (yuan)")),
            ("bill_cents", _("Consumption (yuan)")), ("leverage", _("Leverage")),
            ("merchants", _("Merchants with sales")), ("residents", _("Residents who claimed")),
            ("target_cents", _("Target (yuan)")), ("by", _("By")), ("progress_pct", _("Progress (%)"))]


def measures_rows(report: dict) -> Iterable[dict]:
    for m in report["items"]:
        yield {**m, "section": _("Measure"), "name": m["title"]}
    yield {**report["totals"], "section": _("Total")}
    for t in report["plan_targets"]:
        if t["at_least_cents"] is not None:
            yield {"section": _("Plan target"), "code": t["metric"], "name": t["title"], "by": t["by"],
                   "target_cents": t["at_least_cents"], "bill_cents": t["value_cents"],
                   "progress_pct": None if t["progress"] is None else t["progress"] * 100}


def breakdown_columns() -> list[tuple[str, str]]:
    return [("section", _("Section")), ("code", _("Code")), ("name", _("Name")),
            ("district_name", _("District")), ("category_name", _("Category")), ("status", _("Status")),
            ("budget_cents", _("Budget (yuan)")), ("budget_used_pct", _("Budget used (%)")),
            ("claimed", _("Claimed")), ("redeemed", _("Redeemed")), ("expired", _("Expired")),
            ("revoked", _("Revoked")), ("refunded", _("Refunded")), ("subsidy_cents", _("Subsidy (yuan)")),
            ("bill_cents", _("Consumption (yuan)")), ("leverage", _("Leverage")),
            ("merchants", _("Merchants with sales")), ("residents", _("Residents who claimed")),
            ("refused", _("Refused attempts"))]


def _breakdown_rows(report: dict) -> Iterable[dict]:
    for d in report["by_district"]:
        yield {**d, "section": _("District"), "code": d["district"]}
    for c in report["by_category"]:
        yield {**c, "section": _("Category"), "code": c["category"]}
    for d in report["by_day"]:
        yield {**d, "section": _("Day"), "code": d["day"]}
    for h in report["by_hour"]:
        yield {**h, "section": _("Hour"), "code": h["hour"], "name": f"{h['hour']:02d}:00–{h['hour'] + 1:02d}:00"}


def campaign_rows(report: dict) -> Iterable[dict]:
    yield {**report, "section": _("Campaign"), "code": report["campaign_id"], "status": report["status_label"],
           "budget_used_pct": _pct(report["budget_used_share"])}
    yield from _breakdown_rows(report)
    for m in report["by_merchant"]:
        yield {**m, "section": _("Merchant"), "code": m["merchant_id"]}
    labels = refusal_labels()
    for r in report["refusals"]:
        yield {"section": _("Refusal"), "code": r["code"], "name": labels.get(r["code"], r["code"]),
               "refused": r["count"]}


def measure_rows(report: dict) -> Iterable[dict]:
    yield {**report, "section": _("Measure"), "name": report["title"]}
    for c in report["campaign_list"]:
        yield {**c, "section": _("Campaign"), "code": c["campaign_id"], "status": status_label(c["status"]),
               "budget_used_pct": _pct(c["subsidy_cents"] / c["budget_cents"] if c["budget_cents"] else None)}
    yield from _breakdown_rows(report)
