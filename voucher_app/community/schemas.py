"""What the community workers' API accepts and answers."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from voucher_app.accounts.models import User
from voucher_app.core.clock import iso


class ResidentIn(BaseModel):
    """``POST /proxy/residents``: the ID number and the consent are checked by the service (their
    refusals name the field in the resident's words)."""
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(min_length=1, max_length=32)
    district: str = Field(min_length=1, max_length=32)
    phone: str | None = Field(default=None, max_length=20)
    consent: bool = False


class OnBehalfIn(BaseModel):
    """A claim or an entry for a resident: ``POST /proxy/residents/{id}/claims`` and ``/entries``."""
    model_config = ConfigDict(extra="ignore")
    campaign_id: str = Field(min_length=1, max_length=26)
    tier_id: str = Field(min_length=1, max_length=26)


def resident_out(user: User) -> dict:
    """A registered resident as their worker sees them: the phone masked, never the ID number."""
    return {"id": user.id, "name": user.display_name, "district": user.district, "birth_year": user.birth_year,
            "phone": user.masked_phone, "consent_at": iso(user.consent_at)}
