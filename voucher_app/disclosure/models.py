"""Consumption warnings (消费预警) the bureau publishes on a shop, a category or the whole city."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.database import UTCDateTime, enum_column, new_id
from voucher_app.core.extensions import db


class WarningScope(str, enum.Enum):
    merchant = "merchant"
    category = "category"
    city = "city"


class ConsumptionWarning(db.Model):
    __tablename__ = "consumption_warnings"
    __table_args__ = (Index("ix_consumption_warnings_ends_at", "ends_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    scope: Mapped[WarningScope] = mapped_column(enum_column(WarningScope, "warning_scope", length=10))
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    category: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
