"""The complaints pages' forms (Flask-WTF brings CSRF protection). Every rule is the service's; a refusal
is shown at its field (``show_errors``)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice


class _Form(FlaskForm):
    def show_errors(self, errors: list[dict]) -> list[str]:
        """Put the service's refusals at their fields; the rest are returned for a flash message."""
        rest = []
        for error in errors:
            field = getattr(self, error.get("field", ""), None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, error["message"]]
            else:
                rest.append(error["message"])
        return rest


class ComplaintForm(_Form):
    kind = RadioField(_l("What went wrong?"), validate_choice=False)
    text = TextAreaField(_l("Tell us what happened (5 to 1000 characters)"),
                         render_kw={"rows": 5, "maxlength": 1000})
    redemption_id = SelectField(_l("Which purchase? (optional)"), validate_choice=False)


class ReturnRequestForm(_Form):
    reason = TextAreaField(_l("Why do you return it? (optional: seven-day returns need no reason)"),
                           render_kw={"rows": 3, "maxlength": 500})


class AnswerForm(_Form):
    """The shop's one reply to a complaint, or its reason for declining a refund."""
    text = TextAreaField(_l("Your answer"), render_kw={"rows": 3, "maxlength": 1000})


class DecisionForm(_Form):
    outcome = RadioField(_l("Decision"), choices=[SelectChoice("upheld", _l("Upheld: the shop was at fault")),
                                                   SelectChoice("rejected", _l("Not upheld"))], validate_choice=False)
    text = TextAreaField(_l("Answer to the resident"), render_kw={"rows": 4, "maxlength": 1000})
