"""The community worker's registration form (Flask-WTF brings CSRF protection)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional


def _no_spaces(value: str | None) -> str | None:
    return "".join(value.split()) if value else value


class RegisterResidentForm(FlaskForm):
    """Every rule is the service's (its refusals are shown at their field); the district's one choice,
    the worker's own, is set by the page."""
    name = StringField(_l("The resident's name"), validators=[Length(max=100)],
                       render_kw={"autocomplete": "off", "maxlength": 100})
    # A text area, as on the profile page: the 18 characters wrap at large type instead of hiding.
    id_number = TextAreaField(_l("Resident ID number (身份证号)"), filters=[_no_spaces], validators=[Length(max=32)],
                              render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                                         "maxlength": 32, "rows": 1, "class": "id-number",
                                         "data-keep": "off"})  # never kept in the browser (static/js/keep_forms.js)
    district = SelectField(_l("District where they live"), validate_choice=False)
    phone = StringField(_l("Mobile number (optional: a family phone, or none)"), validators=[Optional()],
                       render_kw={"inputmode": "tel", "autocomplete": "off", "maxlength": 16, "data-keep": "off"})
    consent = BooleanField(_l("I read the text above to the resident, and they agreed."))
