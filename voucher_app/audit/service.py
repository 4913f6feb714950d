"""Writing the audit trail.

A successful action's record joins the action's own transaction, so it exists exactly when the
action does. A refused action rolls back, so its record is written afterwards in a transaction of
its own: the bureau sees attempts that failed, too.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from ..database import write_transaction
from ..errors import DomainError, NotFound
from ..extensions import db
from .models import AuditRecord

ID_LENGTH = 26


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
