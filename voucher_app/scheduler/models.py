"""One row per (job, scheduled time): the claim a scheduler stakes before running a trigger."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.database import UTCDateTime, new_id
from voucher_app.core.extensions import db


class JobRun(db.Model):
    __tablename__ = "job_runs"
    # One run per trigger; manual runs (``voucher jobs run NAME``) are each their own.
    __table_args__ = (Index("uq_job_runs_trigger", "job", "scheduled_for", unique=True,
                            postgresql_where=text("NOT manual"), sqlite_where=text("NOT manual")),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    job: Mapped[str] = mapped_column(String(64))
    scheduled_for: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # the trigger's time, or now for a manual run
    manual: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16), default="running")  # running, ok, failed
    # "host pid token" of the process running it: a scheduler starting again takes over a run whose
    # process died (``runs.reclaim_abandoned``). Empty on runs from before the column.
    owner: Mapped[str | None] = mapped_column(String(160))
    summary: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
