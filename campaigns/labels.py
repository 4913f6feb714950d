"""Names people read for the codes the data uses: merchant categories, campaign kinds, districts."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from campaigns.models import District
from voucher_app.core.extensions import db
from voucher_app.core.i18n import in_english

CATEGORY_LABELS = {
    "catering": _l("Catering"), "retail": _l("Retail"), "supermarket": _l("Supermarkets"),
    "appliances": _l("Appliances and home"), "auto": _l("Cars"), "accommodation": _l("Accommodation"),
    "tourism": _l("Tourist sites"), "entertainment": _l("Entertainment"), "health": _l("Health"),
    "sports": _l("Sports"), "agriculture": _l("Farm produce"), "other": _l("Other"),
}

KIND_LABELS = {
    "night_economy": _l("Night economy"), "holiday": _l("Holidays"), "tourism": _l("Culture and tourism"),
    "auto": _l("Cars"), "general": _l("General"), "health": _l("Health"), "sports": _l("Sports"),
    "fashion": _l("Fashion"), "information": _l("Information"), "rural": _l("Rural"),
}


def category_labels() -> dict[str, str]:
    return {code: str(label) for code, label in CATEGORY_LABELS.items()}


def kind_labels() -> dict[str, str]:
    return {code: str(label) for code, label in KIND_LABELS.items()}


def district_names() -> dict[str, str]:
    english = in_english()
    return {d.code: (d.name_en if english else d.name_zh)
            for d in db.session.scalars(select(District).order_by(District.position))}
