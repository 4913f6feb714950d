"""What every page template can use: the city's name, the locale, dates in the city's zone."""
from __future__ import annotations

import datetime as dt

from flask import Flask
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from .accounts.sms import outbox_enabled
from .clock import to_city


def site_name() -> str:
    from campaigns.service import city_name

    city = city_name()
    return _("%(city)s consumer vouchers", city=city) if city else _("Consumer vouchers")


def current_user_label() -> str:
    """How the header names the signed-in person (a phone is shown masked even to its owner)."""
    if not current_user.is_authenticated:
        return ""
    return current_user.display_name or current_user.username or current_user.masked_phone or ""


def city_datetime(value: dt.datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    return format_datetime(to_city(value), fmt) if value else ""


def configure_templates(app: Flask) -> None:
    app.jinja_env.globals.update(site_name=site_name, current_user_label=current_user_label,
                                 current_locale=lambda: str(get_locale()), outbox_enabled=outbox_enabled)
    app.jinja_env.filters["city_datetime"] = city_datetime
