"""What the fraud API accepts: the flags' filter, a resolution, and a rule's new settings.

The rules of a resolution (a known outcome, a note) and of a rule's thresholds live in ``service``, so
the pages and the API refuse the same things in the same words; these only check the shape.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from voucher_app.core.errors import ValidationError
from voucher_app.fraud.models import FlagStatus


class FlagQuery(BaseModel):
    status: str | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=200)

    @classmethod
    def from_args(cls, args) -> FlagQuery:
        status = args.get("status") or None
        if status is not None and status not in {s.value for s in FlagStatus}:
            raise ValidationError(errors=[{"field": "status", "message": _(
                "Choose one of: %(options)s.", options=", ".join(s.value for s in FlagStatus))}])
        limit = args.get("limit", "50")
        if not str(limit).isdigit() or not 1 <= int(limit) <= 200:
            raise ValidationError(errors=[{"field": "limit", "message": _("Must be at most %(n)s.", n=200)}])
        return cls(status=status, cursor=args.get("cursor") or None, limit=int(limit))


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    outcome: Any = None
    note: Any = None


class RuleUpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = Field(default=None, strict=True)
    params: dict[str, Any] = Field(default_factory=dict)
