"""The audit trail: append-only, one row per bureau action, refused attempts included.

A successful action's record joins the action's own transaction, so it exists exactly when the
action does. A refused action rolls back, so its record is written afterwards in a transaction of
its own: the bureau sees attempts that failed, too.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.database import UTCDateTime, new_id, write_transaction
from voucher_app.core.errors import DomainError, NotFound
from voucher_app.core.extensions import db

ID_LENGTH = 26

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


@contextlib.contextmanager
def audited(action: str, target_type: str, target_id: str, actor_id: str | None, now: dt.datetime,
            reason: str | None = None) -> Iterator[dict]:
    """Run a bureau action in one write transaction and record its outcome.

    The block may put extra facts into the yielded dict; they are stored as the record's detail.
    """
    if not target_id or len(target_id) > ID_LENGTH:
        raise NotFound()  # no such id can exist; nothing to do and nothing to record
    detail: dict = {}
    try:
        with write_transaction():
            yield detail
            db.session.add(AuditRecord(at=now, actor_id=actor_id, action=action, target_type=target_type,
                                       target_id=target_id, outcome="ok", reason=reason, detail=detail or None))
    except DomainError as err:
        with write_transaction():
            db.session.add(AuditRecord(at=now, actor_id=actor_id, action=action, target_type=target_type,
                                       target_id=target_id, outcome=err.code, reason=reason,
                                       detail={"error": str(err.detail or err.title)}))
        raise
