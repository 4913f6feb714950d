"""Services over the city's plan (loading and reading it) and over campaigns (drafting, publishing,
cancelling, listing). Every write owns its transaction; bureau actions leave an audit record."""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from campaigns import rules
from campaigns.lifecycle import effective_status, is_editable, no_such_campaign
from campaigns.models import (
    Action,
    Campaign,
    CampaignMeasure,
    CampaignStatus,
    CitySetting,
    District,
    Measure,
    PlanTarget,
    Round,
    RoundAllocation,
    Tier,
)
from campaigns.schemas import LOTTERY_FIELDS, CampaignIn, CampaignPatch, campaign_out, round_shape_errors
from voucher_app.accounts.models import User
from voucher_app.core import versions
from voucher_app.core.audit import audited
from voucher_app.core.clock import parse_iso
from voucher_app.core.database import keyset_page, new_id, write_transaction
from voucher_app.core.errors import Conflict, ValidationError
from voucher_app.core.extensions import db
from voucher_app.core.i18n import in_english, localized

SHIPPED_CITY_FILE = Path(__file__).parent / "data" / "guangyuan.json"


def city_data_file() -> Path:
    configured = current_app.config.get("CITY_DATA_FILE")
    return Path(configured) if configured else SHIPPED_CITY_FILE


def load_city_data(path: Path) -> dict[str, int]:
    """Create or update the districts, actions, measures and targets described in ``path``.

    Loading the same file twice changes nothing; rows the file no longer lists are kept, since
    campaigns may still refer to them.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        districts, actions, measures = data["districts"], data["actions"], data["measures"]
        unknown = sorted({m["action"] for m in measures} - {a["code"] for a in actions})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"{path}: not a city data file ({exc})") from None
    if unknown:
        raise ValidationError(f"{path}: measures refer to unknown actions {', '.join(unknown)}")
    try:
        _write_city_data(data, districts, actions, measures)
    except (KeyError, TypeError) as exc:  # an entry lacks a field: the transaction was rolled back
        raise ValidationError(f"{path}: not a city data file (an entry lacks {exc})") from None
    return {"districts": len(districts), "actions": len(actions), "measures": len(measures),
            "plan_targets": len(data.get("plan_targets", []))}


def _write_city_data(data: dict, districts: list, actions: list, measures: list) -> None:
    with write_transaction():
        for i, d in enumerate(districts):
            db.session.merge(District(code=d["code"], name_zh=d["name_zh"], name_en=d["name_en"],
                                      gb_code=d.get("gb_code"), position=i))
        for i, a in enumerate(actions):
            db.session.merge(Action(code=a["code"], title_zh=a["title_zh"], title_en=a["title_en"], position=i))
        for i, m in enumerate(measures):
            db.session.merge(Measure(code=m["code"], action_code=m["action"], item=m.get("item"),
                                     title_zh=m["title_zh"], title_en=m["title_en"], lead=m.get("lead"),
                                     campaign_kinds=m.get("campaign_kinds", []), notes=m.get("notes"),
                                     targets=m.get("targets", []), position=i))
        for i, t in enumerate(data.get("plan_targets", [])):
            db.session.merge(PlanTarget(metric=t["metric"], title_zh=t["title_zh"], title_en=t["title_en"],
                                        at_least_cents=t.get("at_least_cents"), by=t.get("by"),
                                        note=t.get("note"), position=i))
        for key in ("city", "period", "source", "night_streets_named"):
            if key in data:
                db.session.merge(CitySetting(key=key, value=data[key]))
        versions.bump(versions.PLAN, versions.CAMPAIGNS)  # campaigns show their measures' titles


def list_measures() -> list[dict]:
    """Every measure of the plan, in the plan's order, with its action."""
    measures = db.session.scalars(
        select(Measure).options(selectinload(Measure.action)).order_by(Measure.position)).all()
    return [{
        "code": m.code,
        "item": m.item,
        "title": localized(m, "title"),
        "title_zh": m.title_zh,
        "title_en": m.title_en,
        "action": {"code": m.action.code, "title": localized(m.action, "title"),
                   "title_zh": m.action.title_zh, "title_en": m.action.title_en},
        "lead": m.lead,
        "campaign_kinds": m.campaign_kinds,
        "notes": m.notes,
        "targets": m.targets,
    } for m in measures]


def list_districts() -> list[dict]:
    districts = db.session.scalars(select(District).order_by(District.position)).all()
    return [{"code": d.code, "name": localized(d, "name"), "name_zh": d.name_zh, "name_en": d.name_en,
             "gb_code": d.gb_code} for d in districts]


def city_name() -> str | None:
    setting = db.session.get(CitySetting, "city")
    if not setting or not isinstance(setting.value, dict):
        return None
    return setting.value.get("name_en" if in_english() else "name_zh")


# Campaigns -----------------------------------------------------------------------------------------

def _apply(campaign: Campaign, data: dict) -> None:
    """Copy validated request fields onto a draft; tiers and rounds are replaced as a whole."""
    simple = ("name", "description", "kind", "budget_cents", "starts_at", "ends_at", "merchant_categories",
              "districts", "limit_per_resident", "limit_per_round", "valid_days", "valid_weekdays",
              "recycle_expired", "limit_per_day", "limit_per_merchant_day")
    for field in simple:
        if field in data:
            setattr(campaign, field, data[field])
    for field in ("allocation", "requires_profile"):  # never null: an explicit null leaves them as they are
        if data.get(field) is not None:
            setattr(campaign, field, data[field])
    if data.get("resident_districts") is not None:
        campaign.resident_districts = list(dict.fromkeys(data["resident_districts"]))
    if "valid_hours" in data:
        hours = data["valid_hours"]
        campaign.valid_from, campaign.valid_to = (hours["from_"], hours["to"]) if hours else (None, None)
    if "measure_codes" in data:
        codes = list(dict.fromkeys(data["measure_codes"]))
        campaign.measure_links = [CampaignMeasure(measure_code=code, position=i) for i, code in enumerate(codes)]
    allocation = campaign.allocation or "fcfs"
    if "tiers" in data or "rounds" in data or data.get("allocation") is not None:
        _replace_tiers_and_rounds(campaign, allocation, data.get("tiers"), data.get("rounds"))


def _replace_tiers_and_rounds(campaign: Campaign, allocation: str, tiers_in: list[dict] | None,
                              rounds_in: list[dict] | None) -> None:
    """New tiers and rounds for a draft, from the request or, where it sends none, from the draft's own;
    a round must have the shape the allocation asks (``schemas.round_shape_errors``)."""
    if tiers_in is None:
        tiers_in = [{"name": t.name, "threshold_cents": t.threshold_cents, "discount_cents": t.discount_cents,
                     "percent": t.percent, "cap_cents": t.cap_cents, "quantity": t.quantity,
                     "reserved": [{**q, "until": parse_iso(q["until"])} for q in t.reserved or ()]}
                    for t in campaign.tiers]
    if rounds_in is None:
        # A draft that turns first-come keeps its rounds, released when they would have been drawn;
        # one that turns lottery must be sent its rounds' windows.
        lottery = allocation == "lottery"
        rounds_in = [{"release_at": r.release_at, "quantities": [r.quantity_of(t.id) for t in campaign.tiers],
                      **{name: getattr(r, name) if lottery else None for name in LOTTERY_FIELDS}}
                     for r in campaign.rounds]
    tiers = [Tier(id=new_id(), position=i, name=t["name"], threshold_cents=t["threshold_cents"],
                  discount_cents=t["discount_cents"], percent=t.get("percent"), cap_cents=t.get("cap_cents"),
                  quantity=t["quantity"], reserved=[_stored_quota(q) for q in t.get("reserved") or ()])
             for i, t in enumerate(tiers_in)]
    errors = [{"field": f"rounds.{i}.{name}", "message": message}
              for (i, name), message in round_shape_errors(allocation, rounds_in).items()]
    for i, r in enumerate(rounds_in):  # errors name the row as it was sent
        if len(r["quantities"]) != len(tiers):
            errors.append({"field": f"rounds.{i}.quantities", "message": _(
                "Give one quantity per tier (%(n)d), in the tiers' order.", n=len(tiers))})
    if errors:
        raise ValidationError(errors=errors)
    rounds = []
    for r in rounds_in:
        window = {name: r.get(name) for name in LOTTERY_FIELDS} if allocation == "lottery" else {}
        release_at = r["draw_at"] if allocation == "lottery" else r["release_at"]  # released at the draw
        rounds.append((release_at, window, r["quantities"]))
    campaign.tiers = tiers
    campaign.rounds = [Round(id=new_id(), position=i, release_at=release_at, **window, allocations=[
                           RoundAllocation(tier=tier, quantity=q) for tier, q in zip(tiers, quantities)])
                       for i, (release_at, window, quantities) in enumerate(sorted(rounds, key=lambda r: r[0]))]


def _stored_quota(quota: dict) -> dict:
    """A reserved quota as the tier's JSON keeps it: its time in UTC, as ISO 8601."""
    return {"group": quota["group"], "quantity": quota["quantity"],
            "until": quota["until"].astimezone(dt.timezone.utc).isoformat()}


def create_campaign(data: CampaignIn, actor: User, now: dt.datetime) -> Campaign:
    """A new draft campaign with its tiers and rounds."""
    campaign = Campaign(id=new_id(), status=CampaignStatus.draft, created_by=actor.id, created_at=now,
                        updated_at=now)
    with audited("campaign.create", "campaign", campaign.id, actor.id, now):
        _apply(campaign, data.model_dump(exclude_unset=False))
        db.session.add(campaign)
        versions.bump(versions.CAMPAIGNS)
    return campaign


def update_campaign(campaign_id: str, patch: CampaignPatch, actor: User, now: dt.datetime) -> Campaign:
    """Edit a draft; a published campaign is refused with ``conflict``."""
    with audited("campaign.update", "campaign", campaign_id, actor.id, now):
        campaign = _campaign_for_update(campaign_id)
        if not is_editable(campaign):
            raise Conflict(_("Only a draft can be edited; this campaign is %(status)s.",
                             status=status_label(campaign.status.value)))
        _apply(campaign, patch.model_dump(exclude_unset=True))
        campaign.updated_at = now
        versions.bump(versions.CAMPAIGNS)
    return campaign


@contextlib.contextmanager
def publishing(campaign_id: str, actor: User, now: dt.datetime) -> Iterator[tuple[Campaign, dict]]:
    """Publish a draft that breaks no rule — scheduled, or open at once if its start has passed — in one
    audited transaction; the caller mints its vouchers inside the block (``vouchers.issuing``)."""
    with audited("campaign.publish", "campaign", campaign_id, actor.id, now) as detail:
        campaign = _campaign_for_update(campaign_id)
        if campaign.status is not CampaignStatus.draft:
            raise Conflict(_("Only a draft can be published; this campaign is %(status)s.",
                             status=status_label(effective_status(campaign, now).value)))
        found = rules.problems(campaign, now)
        if found:
            raise ValidationError(_("The campaign cannot be published yet."), errors=found)
        campaign.status = CampaignStatus.open if campaign.starts_at <= now else CampaignStatus.scheduled
        campaign.published_at = campaign.updated_at = now
        if campaign.allocation == "lottery":
            _commit_to_seeds(campaign)
        detail["status"] = campaign.status.value
        yield campaign, detail
        versions.bump(versions.CAMPAIGNS)


def _commit_to_seeds(campaign: Campaign) -> None:
    """Give every lottery round its secret seed, and publish its commitment: the SHA-256 of the seed's
    32 bytes. Chosen at publishing, before any entry, so the draw's randomness cannot be picked to suit
    the entries; shown from the window's opening and checked against the seed the draw reveals."""
    for rnd in campaign.rounds:
        rnd.seed = secrets.token_hex(32)
        rnd.commitment = hashlib.sha256(bytes.fromhex(rnd.seed)).hexdigest()


@contextlib.contextmanager
def cancelling(campaign_id: str, reason: str | None, actor: User,
               now: dt.datetime) -> Iterator[tuple[Campaign, dict]]:
    """Cancel a campaign that has not ended yet, in one audited transaction; the caller revokes its
    unused vouchers inside the block (``vouchers.issuing``)."""
    with audited("campaign.cancel", "campaign", campaign_id, actor.id, now, reason=reason) as detail:
        # FOR UPDATE, not FOR NO KEY UPDATE: claims in flight hold the row FOR KEY SHARE, and only the
        # full lock makes the cancel wait for them to commit, so that the caller's revocation sees
        # their vouchers (vouchers.claiming: "No claimed voucher in a cancelled campaign").
        campaign = _campaign_for_update(campaign_id)
        status = effective_status(campaign, now)
        if status not in (CampaignStatus.draft, CampaignStatus.scheduled, CampaignStatus.open):
            raise Conflict(_("This campaign is %(status)s and can no longer be cancelled.",
                             status=status_label(status.value)))
        campaign.status = CampaignStatus.cancelled
        campaign.cancelled_at = campaign.updated_at = now
        campaign.cancel_reason = reason
        yield campaign, detail
        versions.bump(versions.CAMPAIGNS)


def _campaign_for_update(campaign_id: str) -> Campaign:
    campaign = db.session.scalars(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update()).first()
    if campaign is None:
        raise no_such_campaign()
    return campaign


def get_campaign(campaign_id: str, *, include_drafts: bool) -> Campaign:
    campaign = db.session.scalars(_loaded(select(Campaign).where(Campaign.id == campaign_id))).first()
    if campaign is None or (not include_drafts and campaign.status is CampaignStatus.draft):
        raise no_such_campaign()
    return campaign


def _loaded(query):
    return query.options(selectinload(Campaign.measure_links),
                         selectinload(Campaign.tiers),
                         selectinload(Campaign.rounds).selectinload(Round.allocations))


PAGE_SIZE = 50


def list_campaigns(now: dt.datetime, *, status: str | None, include_drafts: bool,
                   cursor: str | None = None, limit: int = PAGE_SIZE) -> tuple[list[Campaign], str | None]:
    """Campaigns newest first, filtered by the status users meet; drafts only for the bureau."""
    query = select(Campaign)
    if not include_drafts:
        query = query.where(Campaign.status != CampaignStatus.draft)
    if status:
        query = query.where(status_is(status, now))
    return keyset_page(query, Campaign.id, cursor, limit, newest_first=True, options=_loaded)


def moments_shown() -> list[dt.datetime]:
    """Every moment at which what anyone sees of the published campaigns changes by the clock alone —
    a start, an end, a round's release, a lottery's entries opening — in order. Between two of them,
    ``effective_status``, ``status_is`` and ``campaign_out`` answer the same whatever the time."""
    published = Campaign.status != CampaignStatus.draft
    campaigns = db.session.execute(select(Campaign.starts_at, Campaign.ends_at).where(published))
    rounds = db.session.execute(select(Round.release_at, Round.entry_opens_at)
                                .join(Campaign, Campaign.id == Round.campaign_id).where(published))
    return sorted({moment for row in (*campaigns, *rounds) for moment in row if moment is not None})


def status_is(status: str, now: dt.datetime):
    """SQL for "the campaign's effective status is ``status``" (see ``lifecycle.effective_status``)."""
    live = Campaign.status.in_([CampaignStatus.scheduled, CampaignStatus.open])
    if status == "scheduled":
        return and_(live, Campaign.starts_at > now)
    if status == "open":
        return and_(live, Campaign.starts_at <= now, Campaign.ends_at > now)
    if status == "closed":
        return or_(Campaign.status == CampaignStatus.closed, and_(live, Campaign.ends_at <= now))
    try:
        return Campaign.status == CampaignStatus(status)
    except ValueError:
        raise ValidationError(errors=[{"field": "status", "message": _(
            "Choose one of: %(options)s.", options=", ".join(s.value for s in CampaignStatus))}]) from None


def measure_titles() -> dict[str, str]:
    measures = db.session.scalars(select(Measure)).all()
    return {m.code: localized(m, "title") for m in measures}


def campaign_views(campaigns: list[Campaign], now: dt.datetime, counts: dict[str, dict[str, int]]) -> list[dict]:
    """The campaigns as the API shows them; ``counts`` are their tiers' claimed vouchers (``vouchers.counts``)."""
    titles = measure_titles()
    return [campaign_out(c, effective_status(c, now).value, counts, now, titles) for c in campaigns]


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


STATUS_LABELS = {
    "draft": _l("draft"), "scheduled": _l("scheduled"), "open": _l("open"), "closed": _l("closed"),
    "cancelled": _l("cancelled"), "settled": _l("settled"),
}
