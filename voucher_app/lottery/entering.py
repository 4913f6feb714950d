"""Writing an entry: the rush of a lottery, run on the hot-path connection as claims are
(``core/hotpath.py``, ``vouchers/claiming.py``).

When a round opens for entries the whole city presses "enter" as it would press "claim", so an entry is
written the way a claim is: a few statements compiled once, on a connection of its own, with no ORM.

* SQLite: one write transaction (``BEGIN IMMEDIATE``, so entries, claims and the digest's publication
  run one at a time): read whether the round still takes entries and how many vouchers the person
  holds or awaits, then insert the entry, the idempotency record and, for a community worker's entry,
  the audit record.
* PostgreSQL: all of it in one statement (data-modifying CTEs), which commits atomically. The round's
  row is read ``FOR KEY SHARE``, and publishing the entries' digest locks it ``FOR UPDATE`` first, so an
  entry either commits before the digest is computed (and is in it) or waits, reads the row's latest
  version and finds the round closed. It costs an entry no new lock: the entry's foreign key to the
  round takes that same lock anyway (``FOR SHARE`` would, and made every entry of a rush queue on the
  one row's shared lockers: 0.6× the claims' rate instead of about theirs).

One entry per person per round is the unique constraint (round, person): a parallel second entry fails
on it, as a repeated ``Idempotency-Key`` fails on the record's key, and the caller tells which.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import Integer, String, bindparam, func, select, text

from campaigns.models import Round
from voucher_app.core.audit import AuditRecord
from voucher_app.core.database import new_id
from voucher_app.core.hotpath import Prepared, hot, insert_row
from voucher_app.core.idempotency import IdempotencyRecord
from voucher_app.lottery.models import Entry
from voucher_app.vouchers.models import Voucher

_e, _v, _r = Entry.__table__, Voucher.__table__, Round.__table__


@dataclass(frozen=True)
class Written:
    round_open: bool  # the round still took entries
    taken: int  # vouchers the person holds in the campaign, and entries awaiting a draw
    written: bool  # the entry was written


_held = (select(func.count()).where(_v.c.campaign_id == bindparam("c"), _v.c.person_id == bindparam("p"))
         .scalar_subquery())
_pending = (select(func.count()).select_from(_e.join(_r, _r.c.id == _e.c.round_id))
            .where(_e.c.campaign_id == bindparam("c"), _e.c.person_id == bindparam("p"), _r.c.drawn_at.is_(None))
            .scalar_subquery())
_open = select(func.count()).where(_r.c.id == bindparam("rid"), _r.c.entries_digest.is_(None)).scalar_subquery()
_LOOK = Prepared(select(_open.label("round_open"), (_held + _pending).label("taken")))
_INSERT = insert_row(_e, ["id", "campaign_id", "round_id", "tier_id", "resident_id", "person_id", "pool", "proxy_id",
                          "created_at"], status="entered")
_REMEMBER = insert_row(IdempotencyRecord.__table__, ["user_id", "key", "request_hash", "body", "created_at"],
                       status=201)
_AUDIT = insert_row(AuditRecord.__table__, ["id", "at", "actor_id", "target_id", "detail"],
                    action="proxy.enter", target_type="entry", outcome="ok")

_ENTER_AT_ONCE = Prepared(text("""
WITH open_round AS (
    SELECT id FROM rounds WHERE id = :rid AND entries_digest IS NULL FOR KEY SHARE
), taken AS (
    SELECT (SELECT count(*) FROM vouchers WHERE campaign_id = :c AND person_id = :p)
         + (SELECT count(*) FROM entries e JOIN rounds r ON r.id = e.round_id
            WHERE e.campaign_id = :c AND e.person_id = :p AND r.drawn_at IS NULL) AS n
), entered AS (
    INSERT INTO entries (id, campaign_id, round_id, tier_id, resident_id, person_id, pool, status, proxy_id, created_at)
    SELECT :id, :c, :rid, :tier_id, :resident_id, :p, :pool, 'entered', :proxy_id, :now
    FROM open_round, taken WHERE taken.n < :limit
    RETURNING id
), remembered AS (
    INSERT INTO idempotency_records (user_id, key, request_hash, status, body, created_at)
    SELECT :resident_id, :key, :request_hash, 201, CAST(:body AS json), :now
    FROM entered WHERE CAST(:key AS varchar) IS NOT NULL
), audited AS (
    INSERT INTO audit_records (id, at, actor_id, action, target_type, target_id, outcome, detail)
    SELECT :audit_id, :now, :proxy_id, 'proxy.enter', 'entry', id, 'ok', CAST(:audit_detail AS json)
    FROM entered WHERE CAST(:proxy_id AS varchar) IS NOT NULL
)
SELECT (SELECT count(*) FROM open_round) AS round_open, (SELECT n FROM taken) AS taken,
       (SELECT id FROM entered) AS id
""").columns(round_open=Integer, taken=Integer, id=String))


def write_entry(answer: dict, *, resident_id: str, person_id: str, pool: str, proxy_id: str | None, limit: int,
                key: str | None, request_hash: str, now: dt.datetime) -> Written:
    """Write the entry ``answer`` describes unless the round has closed or the person holds or awaits
    ``limit`` vouchers already; ``IntegrityError`` if the person entered the round (or the key was
    used) in parallel."""
    detail = {"resident_id": resident_id, "campaign_id": answer["campaign_id"]} if proxy_id else None
    if not hot().sqlite:
        row = hot().write(_ENTER_AT_ONCE, rid=answer["round_id"], c=answer["campaign_id"], p=person_id,
                          id=answer["id"], tier_id=answer["tier_id"], resident_id=resident_id, pool=pool,
                          proxy_id=proxy_id, now=now, limit=limit, key=key, request_hash=request_hash,
                          body=json.dumps(answer), audit_id=new_id(), audit_detail=json.dumps(detail))
        return Written(bool(row.round_open), row.taken, row.id is not None)
    with hot().transaction() as tx:
        look = tx.one(_LOOK, rid=answer["round_id"], c=answer["campaign_id"], p=person_id)
        if not look.round_open or look.taken >= limit:
            return Written(bool(look.round_open), look.taken, False)
        tx.run(_INSERT, id=answer["id"], campaign_id=answer["campaign_id"], round_id=answer["round_id"],
               tier_id=answer["tier_id"], resident_id=resident_id, person_id=person_id, pool=pool, proxy_id=proxy_id,
               created_at=now)
        if key is not None:
            tx.run(_REMEMBER, user_id=resident_id, key=key, request_hash=request_hash, body=answer, created_at=now)
        if proxy_id is not None:
            tx.run(_AUDIT, id=new_id(), at=now, actor_id=proxy_id, target_id=answer["id"], detail=detail)
    return Written(True, look.taken, True)
