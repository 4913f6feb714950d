"""Names people read for the codes the data uses: merchant categories, campaign kinds, districts."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from campaigns.models import District
from voucher_app.accounts.profile import ELDERLY
from voucher_app.core.extensions import db
from voucher_app.core.i18n import in_english, iso_city
from voucher_app.core.money import yuan_text

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


def rule_text(threshold_cents: int, discount_cents: int, percent: int | None = None) -> str:
    """A tier's or voucher's rule as residents read it, in their language: 满100减30, 10元无门槛, or for
    a percent one (``discount_cents`` is then its cap) 8折，最高减50元 / "20% off, up to ¥50"."""
    if percent is None:
        if threshold_cents > 0:
            return _("%(discount)s off a bill of %(threshold)s", threshold=_short(threshold_cents),
                     discount=_short(discount_cents))
        return _("%(discount)s off, no minimum spend", discount=_short(discount_cents))
    # How a percent is said is a convention of the language, as number formats are: Chinese names the
    # share that is paid (20% off is 8折, 15% off 8.5折), English the share taken off. Each phrase is
    # still a message of the catalog; only the choice between them follows the language.
    if in_english():
        rate = _("%(percent)d%% off", percent=percent)
    else:
        rate = _("%(tenths)s tenths of the price", tenths=f"{(100 - percent) / 10:g}")
    if threshold_cents > 0:
        return _("%(rate)s a bill of ¥%(threshold)s or more, up to ¥%(cap)s", rate=rate,
                 threshold=_short(threshold_cents), cap=_short(discount_cents))
    return _("%(rate)s, up to ¥%(cap)s", rate=rate, cap=_short(discount_cents))


def _short(cents: int) -> str:
    """An amount as a voucher's rule reads: 3000 → "30", 1250 → "12.5"."""
    return yuan_text(cents, grouping=False, trim="zeros")


def tier_rule(tier: dict) -> str:
    """``rule_text`` of a tier as the API shows it."""
    return rule_text(tier["threshold_cents"], tier["discount_cents"], tier.get("percent"))


def reserved_text(quota: dict) -> str:
    """A reserved quota as people read it: "其中 50 张留给 60 岁以上老人，至 2026-12-05 20:00"."""
    until = iso_city(quota["until"])
    if quota["group"] == ELDERLY:
        return _("%(n)d of them kept for residents aged %(age)d or over, until %(until)s",
                 n=quota["quantity"], age=current_app.config["ELDERLY_AGE"], until=until)
    return _("%(n)d of them kept for low-income residents, until %(until)s", n=quota["quantity"], until=until)
