"""Services over the city's plan: loading it from its data file and reading it back."""
from __future__ import annotations

import json
from pathlib import Path

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from voucher_app.database import write_transaction
from voucher_app.errors import ValidationError
from voucher_app.extensions import db

from .models import Action, CitySetting, District, Measure, PlanTarget

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


def _localized(obj, field: str) -> str:
    return getattr(obj, f"{field}_en" if str(get_locale()) == "en" else f"{field}_zh")


def list_measures() -> list[dict]:
    """Every measure of the plan, in the plan's order, with its action."""
    measures = db.session.scalars(
        select(Measure).options(selectinload(Measure.action)).order_by(Measure.position)).all()
    return [{
        "code": m.code,
        "item": m.item,
        "title": _localized(m, "title"),
        "title_zh": m.title_zh,
        "title_en": m.title_en,
        "action": {"code": m.action.code, "title": _localized(m.action, "title"),
                   "title_zh": m.action.title_zh, "title_en": m.action.title_en},
        "lead": m.lead,
        "campaign_kinds": m.campaign_kinds,
        "notes": m.notes,
        "targets": m.targets,
    } for m in measures]


def list_districts() -> list[dict]:
    districts = db.session.scalars(select(District).order_by(District.position)).all()
    return [{"code": d.code, "name": _localized(d, "name"), "name_zh": d.name_zh, "name_en": d.name_en,
             "gb_code": d.gb_code} for d in districts]


def city_name() -> str | None:
    setting = db.session.get(CitySetting, "city")
    if not setting or not isinstance(setting.value, dict):
        return None
    return setting.value.get("name_en" if str(get_locale()) == "en" else "name_zh")
