"""Sign-in and profile forms of the pages (Flask-WTF brings CSRF protection)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from voucher_app.core.phones import normalize_phone


class PhoneField(StringField):
    """A mobile number; normalised to its 11 digits when valid."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = normalize_phone(self.data or "") or (self.data or "").strip()


def _valid_phone(form, field):
    if normalize_phone(field.data or "") is None:
        raise ValidationError(_l("Enter an 11-digit mainland mobile number, such as 13800138000."))


class CodeRequestForm(FlaskForm):
    phone = PhoneField(_l("Mobile number"), validators=[DataRequired(_l("This field is required.")), _valid_phone],
                       render_kw={"inputmode": "tel", "autocomplete": "tel", "maxlength": 16})


class ResidentLoginForm(FlaskForm):
    phone = PhoneField(_l("Mobile number"), validators=[DataRequired(_l("This field is required.")), _valid_phone],
                       render_kw={"inputmode": "tel", "autocomplete": "tel", "maxlength": 16})
    code = StringField(_l("SMS code"), validators=[
        DataRequired(_l("This field is required.")),
        Regexp(r"^\s*\d{6}\s*$", message=_l("The code is the 6 digits in the SMS."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6})


class StaffLoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("This field is required.")), Length(max=64)],
                           render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("This field is required."))],
                             render_kw={"autocomplete": "current-password"})
    totp = StringField(_l("Authenticator code (if you set one up)"), validators=[Length(max=32)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 32})


class TotpConfirmForm(FlaskForm):
    code = StringField(_l("The 6-digit code the app shows now"), validators=[
        DataRequired(_l("This field is required.")), Length(max=32)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 32})


def _no_spaces(value: str | None) -> str | None:
    return "".join(value.split()) if value else value


class ProfileForm(FlaskForm):
    """The district's choices are the city's districts, set by the page."""
    district = SelectField(_l("District where you live"), validate_choice=False,  # the service names a wrong one
                           validators=[DataRequired(_l("Choose your district."))])
    birth_year = StringField(_l("Year of birth (optional)"), validators=[
        Regexp(r"^\s*((19|20)\d\d)?\s*$", message=_l("Enter a year such as 1956."))],
        render_kw={"inputmode": "numeric", "autocomplete": "bday-year", "maxlength": 4})
    # A text area, not an input: its 18 characters wrap onto a second line at large type or zoom, so
    # whoever types them can read them all back (an input would hide the start).
    id_number = TextAreaField(_l("Resident ID number (身份证号)"), filters=[_no_spaces], validators=[
        DataRequired(_l("This field is required.")), Length(max=32)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "maxlength": 32,
                   "rows": 1, "class": "id-number",
                   "data-keep": "off"})  # never kept in the browser (static/js/keep_forms.js)


class GroupListForm(FlaskForm):
    """The bureau's list of low-income residents' ID numbers, one per line."""

    id_numbers = TextAreaField(_l("Resident ID numbers, one per line"), validators=[DataRequired()],
                               render_kw={"data-keep": "off"})
    member = SelectField(_l("What to do"), choices=[SelectChoice("add", _l("Add them to the group")),
                                                     SelectChoice("remove", _l("Take them out of the group"))])
