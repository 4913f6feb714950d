"""Request validation with pydantic, and its errors told in the user's language."""
from __future__ import annotations

from typing import TypeVar

import pydantic
from flask import request
from flask_babel import gettext as _

from voucher_app.core.errors import ValidationError

Schema = TypeVar("Schema", bound=pydantic.BaseModel)


def _message(error: dict) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("This field is not accepted.")
    if kind in ("string_too_short", "too_short"):
        return _("Too short: at least %(n)s.", n=ctx.get("min_length"))
    if kind in ("string_too_long", "too_long"):
        return _("Too long: at most %(n)s.", n=ctx.get("max_length"))
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number.")
    if kind == "greater_than":
        return _("Must be more than %(n)s.", n=ctx.get("gt"))
    if kind == "greater_than_equal":
        return _("Must be at least %(n)s.", n=ctx.get("ge"))
    if kind == "less_than":
        return _("Must be less than %(n)s.", n=ctx.get("lt"))
    if kind == "less_than_equal":
        return _("Must be at most %(n)s.", n=ctx.get("le"))
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return _("Enter a date and time such as 2026-12-01T20:00:00+08:00.")
    if kind == "timezone_aware":
        return _("Give the time with its offset, such as +08:00.")
    if kind in ("string_type", "list_type", "dict_type", "bool_type", "model_type", "bool_parsing"):
        return _("This value has the wrong type.")
    if kind == "enum" or kind == "literal_error":
        return _("Choose one of: %(options)s.", options=ctx.get("expected", ""))
    if kind == "value_error":
        # Our own validators raise ValueError with an already translated message.
        return str(ctx.get("error") or error.get("msg"))
    return _("This value is not valid.")


def _field(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "body"


def validate(schema: type[Schema], data: object) -> Schema:
    """``data`` checked against ``schema``, or a ``validation_error`` listing every field's problem."""
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = [{"field": _field(e["loc"]), "message": _message(e)} for e in exc.errors()]
        raise ValidationError(errors=errors) from None


def json_body(schema: type[Schema]) -> Schema:
    """The request's JSON body checked against ``schema``."""
    data = request.get_json(silent=True)
    if data is None:
        raise ValidationError(_("Send the request body as a JSON object."))
    return validate(schema, data)
