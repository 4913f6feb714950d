"""What the merchants API accepts and answers.

Requests ignore fields they do not name, so ``status``, ``id`` or ``merchant_id`` in a registration
change nothing (mass assignment): the server makes the id and every shop starts ``pending``. Each
field is checked on its own, so one answer lists every field that needs correcting.
"""
from __future__ import annotations

import datetime as dt
import re

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from campaigns.models import MERCHANT_CATEGORIES, District
from merchants import credit
from merchants.hours import MAX_LENGTH as HOURS_MAX_LENGTH
from merchants.hours import OpeningHoursError, normalize_opening_hours
from merchants.models import Enrolment, Merchant, MerchantEvent
from merchants.uscc import normalize_uscc
from voucher_app.accounts.models import User
from voucher_app.accounts.service import MIN_PASSWORD_LENGTH
from voucher_app.core.clock import to_city
from voucher_app.core.extensions import db
from voucher_app.core.phones import mask_phone, normalize_phone
from voucher_app.core.roles import Role

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
# Three-digit area codes are 010 (Beijing) and 02x; every other one has four digits. Knowing that
# lets "08391234567" and "0839-1234567" be stored the same way.
_LANDLINE = re.compile(r"^(0(?:10|2\d)|0[3-9]\d{2})(\d{7,8})$")


def normalize_contact_phone(raw: str) -> str | None:
    """A mainland mobile as 11 digits, a landline as ``0839-1234567``; None if it is neither."""
    mobile = normalize_phone(raw)
    if mobile:
        return mobile
    digits = re.sub(r"[\s\-()]", "", raw or "")
    landline = _LANDLINE.match(digits)
    return f"{landline.group(1)}-{landline.group(2)}" if landline else None


def _opening_hours(value: object) -> str | None:
    """Spans ``HH:MM-HH:MM`` separated by commas, in city time (``merchants/hours.py``); blank is none."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(_("This value has the wrong type."))
    try:
        hours = normalize_opening_hours(value)
    except OpeningHoursError as err:
        raise ValueError(_("%(span)s is not an opening time. Write spans such as 09:00-22:00 in the city's time, "
                           "separated by commas (17:00-02:00,10:00-14:00); a span may cross midnight.",
                           span=str(err) or '""')) from None
    if hours and len(hours) > HOURS_MAX_LENGTH:
        raise ValueError(_("Too long: at most %(n)s.", n=HOURS_MAX_LENGTH))
    return hours


def _filled(value: object) -> object:
    """A blank text field is "required", not "too short": what a person left empty on a form."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(_("This field is required."))
    return value.strip() if isinstance(value, str) else value


def _username(value: str) -> str:
    if not _USERNAME.match(value):
        raise ValueError(_("Use 3 to 64 letters, digits, dots, dashes or underscores, starting with a letter "
                           "or a digit."))
    return value


def _password(value: str) -> str:
    if len(value) < MIN_PASSWORD_LENGTH:
        raise ValueError(_("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    return value


def _password_given(value: object) -> object:
    """Passwords are kept exactly as typed (spaces included); only a missing one is refused here."""
    if value is None or value == "":
        raise ValueError(_("This field is required."))
    return value


class MerchantIn(BaseModel):
    """The body of ``POST /merchants``: the shop and its owner's account."""

    model_config = ConfigDict(extra="ignore")
    name: str = Field(max_length=200)
    uscc: str = Field(max_length=40)
    category: str
    district: str = Field(max_length=32)
    address: str = Field(max_length=300)
    contact_phone: str = Field(max_length=30)
    owner_username: str
    owner_password: str = Field(max_length=200)
    opening_hours: str | None = None  # optional: "09:00-22:00", "17:00-02:00,10:00-14:00"

    _check_opening_hours = field_validator("opening_hours", mode="before")(_opening_hours)
    _check_filled = field_validator("name", "uscc", "category", "district", "address", "contact_phone",
                                    "owner_username", mode="before")(_filled)
    _check_password_given = field_validator("owner_password", mode="before")(_password_given)
    _check_username = field_validator("owner_username")(_username)
    _check_password = field_validator("owner_password")(_password)

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, value: str) -> str:
        return normalize_uscc(value)

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in MERCHANT_CATEGORIES:
            raise ValueError(_("Choose one of: %(options)s.", options=", ".join(MERCHANT_CATEGORIES)))
        return value

    @field_validator("district")
    @classmethod
    def _district(cls, value: str) -> str:
        # Looked up here rather than in the service, so that an unknown district is listed together
        # with every other bad field in one answer.
        if db.session.get(District, value) is None:
            codes = db.session.scalars(db.select(District.code).order_by(District.position)).all()
            raise ValueError(_("Choose one of the city's districts: %(options)s.", options=", ".join(codes)))
        return value

    @field_validator("contact_phone")
    @classmethod
    def _contact_phone(cls, value: str) -> str:
        phone = normalize_contact_phone(value)
        if phone is None:
            raise ValueError(_("Enter a mainland mobile number such as 13800138000, or a landline with its "
                               "area code such as 0839-1234567."))
        return phone


class StaffIn(BaseModel):
    """The body of ``POST /merchants/{id}/staff``: a cashier's sign-in."""

    model_config = ConfigDict(extra="ignore")
    username: str
    password: str = Field(max_length=200)

    _check_filled = field_validator("username", mode="before")(_filled)
    _check_password_given = field_validator("password", mode="before")(_password_given)
    _check_username = field_validator("username")(_username)
    _check_password = field_validator("password")(_password)


class ReasonIn(BaseModel):
    """The optional body of a bureau decision; the service says when a reason is required."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    reason: str | None = Field(default=None, max_length=2000)


class DecisionIn(ReasonIn):
    """The body of a decision on a merchant; ``public`` only means something to a suspension: joint
    punishment for fraud, shown with its reason on the public list of suspended shops."""

    public: bool = False


class OpeningHoursIn(BaseModel):
    """The body of ``PUT /merchants/{id}/opening-hours``; null or blank clears the hours."""

    model_config = ConfigDict(extra="ignore")
    opening_hours: str | None

    _check_opening_hours = field_validator("opening_hours", mode="before")(_opening_hours)


class EnrolmentIn(BaseModel):
    """The body of ``POST /campaigns/{id}/enrolments``."""

    model_config = ConfigDict(extra="ignore")
    merchant_id: str = Field(max_length=64)

    _check_filled = field_validator("merchant_id", mode="before")(_filled)


def iso(value: dt.datetime | None) -> str | None:
    """A time as the API shows it: ISO 8601 in the city's zone, with its offset."""
    return to_city(value).isoformat() if value else None


def merchant_out(merchant: Merchant, *, full_phone: bool) -> dict:
    """A merchant as the API shows it; the contact phone is masked unless ``full_phone``."""
    return {
        "id": merchant.id,
        "name": merchant.name,
        "uscc": merchant.uscc,
        "category": merchant.category,
        "district": merchant.district,
        "address": merchant.address,
        "contact_phone": merchant.contact_phone if full_phone else mask_phone(merchant.contact_phone),
        "status": merchant.status.value,
        "status_reason": merchant.status_reason,
        "opening_hours": merchant.opening_hours,
        "badge": merchant.badge_granted_at is not None,
        "badge_granted_at": iso(merchant.badge_granted_at),
        "suspended_at": iso(merchant.suspended_at),
        "suspension_public": merchant.suspension_public,
        "created_at": iso(merchant.created_at),
        "updated_at": iso(merchant.updated_at),
        "reviewed_at": iso(merchant.reviewed_at),
    }


def staff_out(user: User) -> dict:
    """An account of a shop (its owner or a cashier); staff sign in by username, so no phone here."""
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role.value,
        "merchant_id": user.merchant_id,
        "is_active": user.is_active,
        "refunds_allowed": user.role is Role.merchant_owner or bool(user.refunds_allowed),
        "created_at": iso(user.created_at),
    }


def enrolment_out(enrolment: Enrolment) -> dict:
    """An enrolment, with the names a reader needs to tell which campaign and shop it is about."""
    return {
        "id": enrolment.id,
        "campaign_id": enrolment.campaign_id,
        "campaign_name": enrolment.campaign.name,
        "merchant_id": enrolment.merchant_id,
        "merchant_name": enrolment.merchant.name,
        "status": enrolment.status.value,
        "reason": enrolment.reason,
        "created_at": iso(enrolment.created_at),
        "reviewed_at": iso(enrolment.reviewed_at),
    }


def event_out(event: MerchantEvent) -> dict:
    """One event of a shop's credit record, as its owner and the bureau read it (reason included)."""
    return {"kind": event.kind, "label": credit.kind_label(event.kind), "at": iso(event.at), "reason": event.reason,
            "ref_type": event.ref_type, "ref_id": event.ref_id}


def credit_out(view) -> dict:
    """A shop's credit (``service.CreditView``): score, badge, the criteria it misses, and its record."""
    return {"merchant_id": view.merchant.id, "score": view.score, "badge": view.badge_since is not None,
            "badge_granted_at": iso(view.badge_since),
            "badge_unmet": [{"criterion": u.criterion, "message": u.message} for u in view.unmet],
            "events": [event_out(e) for e in view.events]}
