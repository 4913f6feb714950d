"""What the lottery API accepts."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tier_id: str = Field(min_length=1, max_length=26)
