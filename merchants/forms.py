"""Forms of the merchant pages (Flask-WTF brings CSRF protection).

The fields carry no rules of their own: what a form submits is checked by the API's schemas, so a
page and the API accept exactly the same things and word their refusals the same way. The errors
that come back are shown next to the fields they name.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, TextAreaField


class _ShowsErrors(FlaskForm):
    def show_errors(self, errors: list[dict[str, str]], summary: str) -> list[str]:
        """Put each error next to its field; what belongs to no field is returned for the top of the form."""
        unplaced = []
        for error in errors:
            field = self._fields.get(error.get("field", ""))
            if field is not None and field.name != "csrf_token":
                field.errors = [*field.errors, error["message"]]
            else:
                unplaced.append(error["message"])
        return unplaced if errors else [summary]


class RegistrationForm(_ShowsErrors):
    name = StringField(_l("Shop name"), render_kw={"maxlength": 200, "autocomplete": "organization"})
    uscc = StringField(_l("Unified social credit code"), description=_l(
        "The 18 characters printed on the business licence."),
        render_kw={"maxlength": 18, "autocapitalize": "characters", "spellcheck": "false", "autocomplete": "off"})
    category = SelectField(_l("Kind of shop"), validate_choice=False)
    district = SelectField(_l("District"), validate_choice=False)
    address = StringField(_l("Address"), render_kw={"maxlength": 300, "autocomplete": "street-address"})
    contact_phone = StringField(_l("Contact phone"), description=_l(
        "A mobile number, or a landline with its area code such as 0839-1234567."),
        render_kw={"inputmode": "tel", "autocomplete": "tel", "maxlength": 20})
    owner_username = StringField(_l("Your username"), description=_l(
        "You sign in with it to manage the shop: letters, digits, dots, dashes or underscores."),
        render_kw={"autocomplete": "username", "autocapitalize": "none", "maxlength": 64})
    owner_password = PasswordField(_l("Your password"), description=_l("At least 8 characters."),
                                   render_kw={"autocomplete": "new-password"})
    opening_hours = StringField(_l("Opening hours (optional)"), description=_l(
        "City time, such as 09:00-22:00; several spans with commas, such as 10:00-14:00,17:00-02:00 (a span may "
        "cross midnight)."), render_kw={"maxlength": 64, "autocomplete": "off", "placeholder": "09:00-22:00"})

    def offer_choices(self, categories: dict[str, str], districts: dict[str, str]) -> None:
        self.category.choices = [("", _l("Choose…")), *categories.items()]
        self.district.choices = [("", _l("Choose…")), *districts.items()]

    def body(self) -> dict:
        """What the form submitted, as the body of ``POST /api/v1/merchants``."""
        return {name: field.data or "" for name, field in self._fields.items() if name != "csrf_token"}


class CashierForm(_ShowsErrors):
    username = StringField(_l("Cashier's username"), render_kw={"autocomplete": "off", "autocapitalize": "none",
                                                                "maxlength": 64})
    password = PasswordField(_l("Cashier's password"), description=_l("At least 8 characters."),
                             render_kw={"autocomplete": "new-password"})

    def body(self) -> dict:
        return {"username": self.username.data or "", "password": self.password.data or ""}


class DecisionForm(FlaskForm):
    """A bureau decision: a reason (required to reject or suspend), and the page to return to; a
    suspension may be public (joint punishment for fraud)."""

    reason = TextAreaField(_l("Reason"))
    public = BooleanField(_l("Public suspension (joint punishment for fraud)"))
    next = HiddenField()


class OpeningHoursForm(_ShowsErrors):
    """The owner's (or an admin's) change of the shop's opening hours."""

    opening_hours = StringField(_l("Opening hours"), description=_l(
        "City time, such as 09:00-22:00; several spans with commas, such as 10:00-14:00,17:00-02:00 (a span may "
        "cross midnight). Leave empty if you do not want to show hours."),
        render_kw={"maxlength": 64, "autocomplete": "off", "placeholder": "09:00-22:00"})


class ApplyForm(FlaskForm):
    """A shop's application to one campaign."""

    campaign_id = HiddenField()
