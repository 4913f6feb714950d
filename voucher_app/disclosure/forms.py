"""The bureau's form to publish a consumption warning (Flask-WTF brings CSRF protection).

The fields carry no rules: what the form submits is checked by the API's schema (``WarningIn``), so the
page and ``POST /warnings`` accept exactly the same warnings. Times are typed in city time.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField


class WarningForm(FlaskForm):
    text = TextAreaField(_l("Warning"), description=_l("5 to 500 characters, as residents will read it."),
                         render_kw={"rows": 3, "maxlength": 500})
    merchant_id = StringField(_l("Shop id (a warning on one shop)"), render_kw={"maxlength": 26, "autocomplete": "off"})
    category = SelectField(_l("Kind of shop (a warning on every shop of that kind)"), validate_choice=False)
    starts_at = StringField(_l("From"), render_kw={"type": "datetime-local"})
    ends_at = StringField(_l("Until"), render_kw={"type": "datetime-local"})

    def offer_choices(self, categories: dict[str, str]) -> None:
        self.category.choices = [("", _l("—")), *categories.items()]

    def body(self, zone: ZoneInfo) -> dict:
        """What the form submitted, as the body of ``POST /api/v1/warnings``; a time typed without an
        offset is the city's."""
        return {"text": self.text.data or "", "merchant_id": self.merchant_id.data or None,
                "category": self.category.data or None, "starts_at": _in_zone(self.starts_at.data, zone),
                "ends_at": _in_zone(self.ends_at.data, zone)}


def _in_zone(value: str | None, zone: ZoneInfo) -> str | None:
    try:
        when = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return value or None  # the schema explains what it wants
    return (when if when.tzinfo else when.replace(tzinfo=zone)).isoformat()
