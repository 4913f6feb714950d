"""The rules a campaign must satisfy before it is published.

A draft may be saved incomplete or inconsistent while the bureau works on it; ``publish`` refuses
until ``problems`` is empty, and the editor shows the same list, field by field.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from campaigns.models import MERCHANT_CATEGORIES, Campaign, District, Measure, Round, Tier
from voucher_app.core.clock import parse_iso
from voucher_app.core.extensions import db
from voucher_app.core.money import yuan_text


def problems(campaign: Campaign, now: dt.datetime) -> list[dict[str, str]]:
    """Every reason ``campaign`` cannot be published yet, as ``{"field", "message"}``."""
    found: list[dict[str, str]] = []

    def problem(field: str, message: str) -> None:
        found.append({"field": field, "message": message})

    if campaign.ends_at <= campaign.starts_at:
        problem("ends_at", _("The campaign must end after it starts."))
    elif campaign.ends_at <= now:
        problem("ends_at", _("The campaign's end has already passed."))

    if not campaign.measure_codes:
        problem("measure_codes", _("Choose at least one measure of the plan that this campaign funds."))
    _unknown_codes(campaign, problem)

    if campaign.limit_per_round > campaign.limit_per_resident:
        problem("limit_per_round", _("The limit per round cannot exceed the limit per resident (%(n)d).",
                                     n=campaign.limit_per_resident))
    if (campaign.valid_from is None) != (campaign.valid_to is None) or (
            campaign.valid_from is not None and campaign.valid_from == campaign.valid_to):
        problem("valid_hours", _("Give both ends of the valid hours, and make them different."))

    if not campaign.tiers:
        problem("tiers", _("Add at least one voucher tier."))
    for i, tier in enumerate(campaign.tiers):
        # A percent tier's cap may exceed its threshold: 20% off bills from 100, up to 50 off.
        if tier.percent is None and tier.threshold_cents > 0 and tier.discount_cents >= tier.threshold_cents:
            problem(f"tiers.{i}.discount_cents",
                    _("The discount (%(discount)s) must be less than the threshold (%(threshold)s).",
                      discount=yuan_text(tier.discount_cents), threshold=yuan_text(tier.threshold_cents)))
        _reserved_quotas(campaign, i, tier, problem)

    exposure = sum(t.quantity * t.discount_cents for t in campaign.tiers)
    if exposure > campaign.budget_cents:
        problem("budget_cents", _("The budget (%(budget)s yuan) cannot cover the vouchers (%(exposure)s yuan: "
                                  "quantity × discount of every tier).",
                                  budget=yuan_text(campaign.budget_cents), exposure=yuan_text(exposure)))

    if not campaign.rounds:
        problem("rounds", _("Add at least one round."))
    for i, rnd in enumerate(campaign.rounds):
        if campaign.allocation == "lottery":
            _lottery_window(campaign, i, rnd, problem)
        elif not campaign.starts_at <= rnd.release_at < campaign.ends_at:
            problem(f"rounds.{i}.release_at", _("The round must be released within the campaign's period."))
    for i, tier in enumerate(campaign.tiers):
        released = sum(r.quantity_of(tier.id) for r in campaign.rounds)
        if released != tier.quantity:
            problem(f"tiers.{i}.quantity",
                    _("The rounds release %(released)d of tier %(name)s, but its quantity is %(quantity)d.",
                      released=released, name=tier.name, quantity=tier.quantity))
    return found


def _reserved_quotas(campaign: Campaign, i: int, tier: Tier, problem) -> None:
    quotas = tier.reserved or []
    kept = sum(int(q["quantity"]) for q in quotas)
    if kept > tier.quantity:
        problem(f"tiers.{i}.reserved", _("The reserved quotas (%(kept)d) cannot exceed the tier's quantity "
                                         "(%(quantity)d).", kept=kept, quantity=tier.quantity))
    for j, quota in enumerate(quotas):
        if not campaign.starts_at < parse_iso(quota["until"]) <= campaign.ends_at:
            problem(f"tiers.{i}.reserved.{j}.until",
                    _("A reserved quota must end within the campaign's period."))


def _lottery_window(campaign: Campaign, i: int, rnd: Round, problem) -> None:
    """Entries open, then close, then the draw releases the vouchers: all within the campaign's period."""
    opens, closes, draw = rnd.entry_opens_at, rnd.entry_closes_at, rnd.draw_at
    if opens is None or closes is None or draw is None:  # saved drafts always have them; kept for safety
        problem(f"rounds.{i}", _("A lottery round needs its entry window and its draw time."))
        return
    if opens >= closes:
        problem(f"rounds.{i}.entry_closes_at", _("Entries must close after they open."))
    if draw < closes:
        problem(f"rounds.{i}.draw_at", _("The draw cannot come before the entries close."))
    if opens < campaign.starts_at:
        problem(f"rounds.{i}.entry_opens_at", _("Entries cannot open before the campaign starts."))
    if draw >= campaign.ends_at:
        problem(f"rounds.{i}.draw_at", _("The draw must come before the campaign ends."))


def _unknown_codes(campaign: Campaign, problem) -> None:
    codes = campaign.measure_codes
    known_measures = set(db.session.scalars(select(Measure.code).where(Measure.code.in_(codes)))) if codes else set()
    for code in codes:
        if code not in known_measures:
            problem("measure_codes", _("The plan has no measure %(code)s.", code=code))
    for category in campaign.merchant_categories or []:
        if category not in MERCHANT_CATEGORIES:
            problem("merchant_categories", _("%(value)s is not a merchant category.", value=category))
    districts = campaign.districts or []
    known = set(db.session.scalars(select(District.code).where(District.code.in_(districts)))) if districts else set()
    for district in districts:
        if district not in known:
            problem("districts", _("The city has no district %(value)s.", value=district))
    residents = campaign.resident_districts or []
    known = set(db.session.scalars(select(District.code).where(District.code.in_(residents)))) if residents else set()
    for district in residents:
        if district not in known:
            problem("resident_districts", _("The city has no district %(value)s.", value=district))
