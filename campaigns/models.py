"""The city's plan as data: districts, the plan's actions and measures, and its targets.

Loaded from the city's data file (``voucher city load``); nothing here is specific to one city.
"""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, BigInteger
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher_app.extensions import db


class District(db.Model):
    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    gb_code: Mapped[str | None] = mapped_column(String(12))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Action(db.Model):
    """One of the plan's actions (行动), grouping its measures."""

    __tablename__ = "actions"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)

    measures: Mapped[list["Measure"]] = relationship(back_populates="action", order_by="Measure.position")


class Measure(db.Model):
    """An item of the plan (举措); every campaign funds one or more."""

    __tablename__ = "measures"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    action_code: Mapped[str] = mapped_column(ForeignKey("actions.code"))
    item: Mapped[str | None] = mapped_column(String(32))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300))
    lead: Mapped[str | None] = mapped_column(String(200))
    campaign_kinds: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    targets: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    action: Mapped[Action] = relationship(back_populates="measures")


class PlanTarget(db.Model):
    """A city-wide target of the plan, such as total retail sales by 2022."""

    __tablename__ = "plan_targets"

    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300))
    at_least_cents: Mapped[int | None] = mapped_column(BigInteger)
    by: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CitySetting(db.Model):
    """Facts about the city itself (name, plan period, source), one row per key."""

    __tablename__ = "city_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict | list | str | None] = mapped_column(JSON)
