"""What every page template can use: the city's name, the locale, dates in the city's zone."""
from __future__ import annotations

from flask import Flask, current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from campaigns.service import city_name, status_label
from voucher_app.accounts.sms import outbox_enabled
from voucher_app.core.i18n import city_datetime, iso_city, join_list
from voucher_app.core.money import yuan_text


def site_name() -> str:
    city = city_name()
    return _("%(city)s consumer vouchers", city=city) if city else _("Consumer vouchers")


def current_user_label() -> str:
    """How the header names the signed-in person (a phone is shown masked even to its owner)."""
    if not current_user.is_authenticated:
        return ""
    return current_user.display_name or current_user.username or current_user.masked_phone or ""


# (endpoint, label, roles that see it; None = everyone). Links to pages that are not installed are left out.
NAV = [
    ("campaigns.residents_campaigns", _l("Claim vouchers"), None),
    ("vouchers.wallet", _l("My vouchers"), {"resident"}),
    ("accounts.profile_page", _l("My profile"), {"resident"}),
    ("campaigns.campaign_list", _l("Campaigns"), {"admin", "viewer"}),
    ("merchants.bureau_merchants", _l("Merchants"), {"admin", "viewer"}),
    ("merchants.bureau_enrolments", _l("Enrolments"), {"admin", "viewer"}),
    ("reports.measures_page", _l("Reports"), {"admin", "viewer"}),
    ("settlements.bureau_settlements", _l("Settlements"), {"admin", "viewer"}),
    ("complaints.bureau_queue", _l("Complaints"), {"admin", "viewer"}),
    ("fraud.flags_queue", _l("Fraud flags"), {"admin", "viewer"}),
    ("accounts.low_income_page", _l("Low-income residents"), {"admin"}),
    ("till.till", _l("Till"), {"merchant_owner", "cashier"}),
    ("merchants.my_shop", _l("My shop"), {"merchant_owner", "cashier"}),
    ("settlements.shop_settlements", _l("Settlements"), {"merchant_owner"}),
    ("complaints.shop_complaints", _l("Complaints"), {"merchant_owner"}),
    ("complaints.shop_returns", _l("Refund requests"), {"merchant_owner"}),
    ("community.home", _l("Residents I help"), {"community_worker"}),
]


def nav_links() -> list[tuple[str, str]]:
    """The header's links for whoever is signed in."""
    role = current_user.role.value if current_user.is_authenticated else None
    links = []
    for endpoint, label, roles in NAV:
        if endpoint in current_app.view_functions and (roles is None or role in roles):
            links.append((url_for(endpoint), str(label)))
    return links


VOUCHER_STATES = {
    "available": _l("Not claimed"), "claimed": _l("Ready to use"), "redeemed": _l("Used"),
    "expired": _l("Expired"), "revoked": _l("Revoked"),
}


def voucher_state_label(state: str) -> str:
    return str(VOUCHER_STATES.get(state, state))


def configure_templates(app: Flask) -> None:
    app.jinja_env.globals.update(site_name=site_name, current_user_label=current_user_label,
                                 current_locale=lambda: str(get_locale()), outbox_enabled=outbox_enabled,
                                 status_label=status_label, voucher_state_label=voucher_state_label,
                                 nav_links=nav_links)
    app.jinja_env.filters.update(city_datetime=city_datetime, iso_city=iso_city, yuan=price, join_list=join_list,
                                 labelled=labelled)


def labelled(code: str, labels: dict) -> str:
    """A code's label, or the code itself: ``{{ codes|map('labelled', names)|join_list }}``."""
    return labels.get(code, code)


def price(cents: int | None) -> str:
    """Fen as pages show a price: 3000 → "30", 1250 → "12.50", 123400 → "1,234"."""
    return yuan_text(cents, trim="whole")
