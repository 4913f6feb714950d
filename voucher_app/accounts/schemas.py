"""Shapes of what the accounts API accepts and answers."""
from __future__ import annotations

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from voucher_app.accounts.models import User
from voucher_app.core.phones import normalize_phone


def _phone(value: str) -> str:
    phone = normalize_phone(value if isinstance(value, str) else "")
    if phone is None:
        raise ValueError(_("Enter an 11-digit mainland mobile number, such as 13800138000."))
    return phone


class OtpRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    phone: str

    _check_phone = field_validator("phone")(_phone)


class OtpLogin(BaseModel):
    model_config = ConfigDict(extra="ignore")
    phone: str
    code: str = Field(min_length=1, max_length=12)

    _check_phone = field_validator("phone")(_phone)

    @field_validator("code")
    @classmethod
    def _six_digits(cls, value: str) -> str:
        value = value.strip()
        if not (len(value) == 6 and value.isdigit()):
            raise ValueError(_("The code is the 6 digits in the SMS."))
        return value


class PasswordLogin(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    totp: str | None = Field(default=None, max_length=32)  # the authenticator's code, or a recovery code


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = Field(min_length=1, max_length=32)


class GroupIn(BaseModel):
    """``PUT /residents/groups/{group}``: the people (by ID number) put in the group or taken out."""
    model_config = ConfigDict(extra="ignore")
    id_numbers: list[str] = Field(min_length=1, max_length=10_000)
    member: bool = True


class ProfileIn(BaseModel):
    """``PUT /me/profile``: the birth year may be left out (the ID number carries it)."""
    model_config = ConfigDict(extra="ignore")
    district: str = Field(min_length=1, max_length=32)
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    id_number: str = Field(min_length=1, max_length=32)


def user_out(user: User, *, owner: bool) -> dict:
    """A user as shown to themselves (``owner``) or to anyone else (phone masked)."""
    return {
        "id": user.id,
        "role": user.role.value,
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.phone if owner else user.masked_phone,
        "merchant_id": user.merchant_id,
    }
