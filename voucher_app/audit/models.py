"""Audit records: append-only, one row per bureau action, refused attempts included."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, new_id
from ..extensions import db


class AuditRecord(db.Model):
    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_records_target", "target_type", "target_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))  # "campaign.publish", "merchant.suspend", …
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(26))
    outcome: Mapped[str] = mapped_column(String(64))  # "ok" or the refusal's code
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict | None] = mapped_column(JSON)
