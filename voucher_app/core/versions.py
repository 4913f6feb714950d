"""Data versions: how every worker (and every host) learns, at once or within a second, that data the
public reads show has changed.

Public reads — the city's plan, residents' campaigns — are asked thousands of times for each change.
A worker keeps what it built (``conditional.py``) under the versions of the data it was built from.
Each kind of data has one row in ``data_versions`` (``PLAN``, ``CAMPAIGNS``), and every service that
changes such data calls ``bump`` inside its own write transaction, so the new version commits exactly
when the data does: a reader that sees the new version also sees the new data.

* A bump sets the row to a fresh random 62-bit number, not the old one plus one: a database restored
  from a backup, or a table emptied by the tests, must never bring back a version a worker has
  already kept something under.
* ``bump`` is a single statement issued as late as the caller can (at the end of its transaction):
  the row's lock is held only until the commit, and nothing on the claim or redemption paths bumps —
  claimed counts are the readers' short-lived part (``vouchers/counts.py``), never a version.
* ``current`` reads the whole (tiny) table in one query and keeps it ``DATA_VERSIONS_SECONDS``
  (default 1 s; 0 in the tests). That is the staleness bound: a worker may answer from data up to
  that much older than a change committed by another worker or host; the worker that made the change
  forgets its copy at the commit and sees it at once.
* A kind with no row (a database whose tables were emptied, data written around the services) has no
  version: readers then keep nothing and build every answer afresh.
"""
from __future__ import annotations

import secrets
import threading
from time import monotonic

from flask import current_app, has_request_context, request
from sqlalchemy import BigInteger, String, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.core.extensions import db

PLAN = "plan"  # districts, actions, measures, targets and city settings (``load_city_data``)
CAMPAIGNS = "campaigns"  # published campaigns as residents see them: tiers, rounds, draws, status


class DataVersion(db.Model):
    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


def bump(*names: str) -> None:
    """Give ``names`` new versions, in the caller's write transaction (call it last in the block)."""
    session = db.session()
    rows = [{"name": name, "version": secrets.randbits(62)} for name in names]
    upsert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert(DataVersion)
    session.execute(upsert.values(rows).on_conflict_do_update(index_elements=["name"],
                                                             set_={"version": upsert.excluded.version}))
    if not session.info.get(_FORGET_AT_COMMIT):
        session.info[_FORGET_AT_COMMIT] = True
        event.listen(session, "after_commit", _forget_at_commit, once=True)


_FORGET_AT_COMMIT = "voucher.versions.forget"


def _forget_at_commit(session) -> None:
    session.info.pop(_FORGET_AT_COMMIT, None)
    _kept.forget()


class _Kept:
    """This process's copy of the table, good for ``DATA_VERSIONS_SECONDS``."""

    def __init__(self):
        self._versions: dict[str, int] = {}
        self._deadline = 0.0
        self._lock = threading.Lock()

    def get(self) -> dict[str, int]:
        if monotonic() < self._deadline:
            return self._versions
        read_at = monotonic()
        versions = dict(db.session.execute(select(DataVersion.name, DataVersion.version)).tuples().all())
        with self._lock:
            self._versions = versions
            self._deadline = read_at + float(current_app.config["DATA_VERSIONS_SECONDS"])
        return versions

    def forget(self) -> None:
        with self._lock:
            self._deadline = 0.0


_kept = _Kept()


def current(name: str) -> int | None:
    """The version of ``name`` as of at most ``DATA_VERSIONS_SECONDS`` ago; None if it has none.
    One request sees one set of versions, however often it asks."""
    if not has_request_context():
        return _kept.get().get(name)
    if _PER_REQUEST not in request.environ:
        request.environ[_PER_REQUEST] = _kept.get()
    return request.environ[_PER_REQUEST].get(name)


_PER_REQUEST = "voucher.versions"
