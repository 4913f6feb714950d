"""What the complaints API accepts, and how a complaint or a return request is shown to whom.

Residents are personal data: the bureau sees a complainant's phone masked (``138****8000``), the shop
never sees it at all, only the complaint and the sale it names."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from voucher_app.complaints.models import Complaint, ComplaintStatus, ReturnRequest
from voucher_app.core.clock import iso
from voucher_app.core.phones import mask_phone

# The kinds a resident may choose; ``return_unanswered`` is the platform's own.
RESIDENT_KINDS = ("refused_voucher", "surcharge", "minimum_spend", "quality", "other")
RESIDENT, SHOP, BUREAU = "resident", "shop", "bureau"  # who a complaint is shown to


class ComplaintIn(BaseModel):
    """``POST /complaints``: the kind, the text's length and the shop are checked by the service, so every
    refusal names its field in the resident's words."""
    model_config = ConfigDict(extra="ignore")
    merchant_id: str = Field(default="", max_length=64)
    kind: str = Field(default="", max_length=32)
    text: str = Field(default="", max_length=5000)
    redemption_id: str | None = Field(default=None, max_length=64)


class TextIn(BaseModel):
    """``POST /complaints/{id}/reply`` and ``/return-requests/{id}/decline``: the text is checked by the service."""
    model_config = ConfigDict(extra="ignore")
    text: str = Field(default="", max_length=5000)


class DecisionIn(BaseModel):
    """``POST /complaints/{id}/decide``."""
    model_config = ConfigDict(extra="ignore")
    outcome: Literal["upheld", "rejected"]
    text: str = Field(default="", max_length=5000)


class AssignIn(BaseModel):
    """``POST /complaints/{id}/assign``: to another officer, or to oneself without ``user_id``."""
    model_config = ConfigDict(extra="ignore")
    user_id: str | None = Field(default=None, max_length=64)


class ReturnRequestIn(BaseModel):
    """``POST /return-requests``: seven-day returns need no reason (七日无理由), one may be given."""
    model_config = ConfigDict(extra="ignore")
    redemption_id: str = Field(default="", max_length=64)
    reason: str = Field(default="", max_length=5000)


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str | None = Field(default=None, max_length=16)
    cursor: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=50, ge=1, le=200)


def is_overdue(complaint: Complaint, now: dt.datetime) -> bool:
    """Open past its due date: the bureau's queue shows it first."""
    return complaint.status is ComplaintStatus.open and now > complaint.due_at


def complaint_out(complaint: Complaint, now: dt.datetime, audience: str, *, merchant_name: str | None = None,
                  resident_phone: str | None = None) -> dict:
    """A complaint as ``audience`` sees it: the resident their own, the shop without who filed it, the
    bureau with the complainant's phone masked and who handles it."""
    body = {
        "id": complaint.id, "merchant_id": complaint.merchant_id, "merchant_name": merchant_name,
        "kind": complaint.kind.value, "text": complaint.text, "redemption_id": complaint.redemption_id,
        "return_request_id": complaint.return_request_id, "status": complaint.status.value,
        "created_at": iso(complaint.created_at), "due_at": iso(complaint.due_at),
        "overdue": is_overdue(complaint, now),
        "reply": complaint.reply_text, "replied_at": iso(complaint.replied_at),
        "decision": complaint.decision_text, "decided_at": iso(complaint.decided_at),
    }
    if audience == BUREAU:
        body.update(resident=mask_phone(resident_phone) if resident_phone else None,
                    assigned_to=complaint.assigned_to, assigned_at=iso(complaint.assigned_at),
                    decided_by=complaint.decided_by)
    return body


def return_request_out(request: ReturnRequest, *, merchant_name: str | None = None, redemption: dict | None = None,
                       resident_phone: str | None = None) -> dict:
    """A return request with the sale it names (bill, saving, when); the bureau sees the phone masked,
    the shop never."""
    body = {
        "id": request.id, "redemption_id": request.redemption_id, "merchant_id": request.merchant_id,
        "merchant_name": merchant_name, "reason": request.reason, "status": request.status.value,
        "created_at": iso(request.created_at), "due_at": iso(request.due_at),
        "answered_at": iso(request.answered_at), "answer": request.answer_text,
        "complaint_id": request.complaint_id, "redemption": redemption,
    }
    if resident_phone is not None:
        body["resident"] = mask_phone(resident_phone)
    return body
