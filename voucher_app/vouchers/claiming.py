"""Claiming vouchers (抢券): the moment the whole city presses "claim" at once.

Why the claim path cannot oversell or exceed a resident's limits
----------------------------------------------------------------
Every voucher a round releases already exists as a row (``minting.py``). A claim is

1. cheap refusals first, without any write lock: the campaign's state by the clock (from a snapshot
   of its immutable facts), and the resident's counts against the limits. A rush is mostly refusals,
   so once a tier is found sold out this process remembers it until the next release (or for a
   second at most) and answers ``sold_out`` without a write transaction;
2. then one short write: take one unclaimed, released row of the tier with a single ``UPDATE …
   RETURNING``, numbered with the resident's next campaign slot and round slot, move the discount
   from ``available`` to ``reserved`` in the ledger, and store the idempotency record — all or
   nothing. On SQLite that is a transaction of three statements that read nothing first; on
   PostgreSQL it is one statement (data-modifying CTEs), which commits atomically by itself. On both
   the campaign's status is a condition of the take. Both run on the hot-path connection
   (``core/hotpath.py``).

No oversell: a voucher is a row, and a row is claimed by an UPDATE that only matches it while it is
still ``available``.
* PostgreSQL (READ COMMITTED, many writers at once): the row is picked with ``FOR UPDATE SKIP
  LOCKED``, so concurrent claims lock *different* rows instead of queueing on one counter, and a row
  locked by another claim is skipped rather than double-taken. When no unlocked row is left the
  claim is ``sold_out``.
* SQLite: the transaction begins ``IMMEDIATE`` (see ``core/database.py``), so claims run one at a time
  and each sees the previous one's commit; there is nothing to race.

No claim over the limits: a resident's vouchers carry slot numbers 1..limit, and unique constraints
on (campaign, resident, slot) and (round, resident, slot) make the same slot impossible to take
twice. Two parallel claims by one resident both computing "slot 2" cannot both commit: the second
fails on the constraint, rolls back (its voucher row and ledger entry with it) and is retried, when
it sees slot 2 taken and either takes slot 3 or is refused with ``limit_reached``.

The idempotency record is inserted in the same transaction under the primary key (resident, key),
so a duplicate request either finds the first answer or fails on the key and rolls back.

No claimed voucher in a cancelled campaign: cancelling (``issuing.cancel_campaign``) locks the
campaign's row ``FOR UPDATE``, marks it cancelled and revokes its claimed vouchers in one
transaction, so a claim must either commit before that revocation reads the vouchers, or take nothing.
* SQLite: claim and cancel are both write transactions, one at a time; the take reads the status
  inside its own.
* PostgreSQL: a plain read of the status would see the statement's snapshot — "open" for a claim
  that began before the cancel committed — and the claim's UPDATE of an available voucher does not
  touch anything the cancel locks, so it could commit after the revocation and leave a claimed
  voucher behind (issue #15; ``tests/vouchers/test_cancel_during_rush.py``). So the take reads the
  campaign's row ``FOR KEY SHARE``, which conflicts with the cancel's ``FOR UPDATE``: a claim that
  locked it first holds the cancel back until it has committed (and the revocation then sees its
  voucher); a claim that comes second waits for the cancel, then reads the row's latest version,
  ``cancelled``, and takes nothing. Claims do not conflict with each other on it, and it costs a
  claim no new lock: the ledger entry's foreign key to the campaign takes that same ``KEY SHARE``
  lock in every claim anyway, at the end of the statement; it is only taken earlier, and only once a
  voucher has been picked.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Integer, String, and_, bindparam, case, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from campaigns.lifecycle import effective_status, no_such_campaign
from campaigns.models import Campaign, CampaignStatus, Round
from voucher_app.accounts.models import User
from voucher_app.accounts.profile import groups_of, has_profile
from voucher_app.core.cache import Kept
from voucher_app.core.clock import city_day, city_day_bounds, iso, parse_iso
from voucher_app.core.database import end_read_transaction, new_id
from voucher_app.core.errors import (
    CampaignClosed,
    DomainError,
    LimitReached,
    NotEligible,
    NotFound,
    NotOpen,
    SoldOut,
)
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import Prepared, hot
from voucher_app.core.idempotency import IdempotencyRecord, fingerprint, first_answer, replay
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.vouchers.availability import campaigns as public_campaigns
from voucher_app.vouchers.counts import counts
from voucher_app.vouchers.models import Voucher, VoucherStatus

CLAIM_RETRIES = 5
SNAPSHOT_SECONDS = 2.0


@dataclass(frozen=True)
class RoundFacts:
    id: str
    release_at: dt.datetime
    quantities: dict[str, int]  # tier id → quantity
    entry_opens_at: dt.datetime | None = None  # a lottery round's window
    entry_closes_at: dt.datetime | None = None


@dataclass(frozen=True)
class CampaignFacts:
    """What claiming (and the till) need to know of a campaign. After publishing only the status can
    change, and the write transaction reads that afresh; so a snapshot can serve many claims."""

    id: str
    name: str
    status: CampaignStatus
    starts_at: dt.datetime
    ends_at: dt.datetime
    valid_from: str | None
    valid_to: str | None
    valid_weekdays: tuple[int, ...] | None
    limit_per_resident: int
    limit_per_round: int
    valid_days: int
    tier_ids: frozenset[str]
    rounds: tuple[RoundFacts, ...]
    allocation: str = "fcfs"
    resident_districts: frozenset[str] = frozenset()
    requires_profile: bool = False
    limit_per_day: int | None = None
    limit_per_merchant_day: int | None = None  # the till's: sales per person per shop per city day
    reserved: tuple[tuple[str, str, dt.datetime], ...] = ()  # (tier id, group, until) of every reserved quota

    def pools(self, tier_id: str, groups: frozenset[str], now: dt.datetime) -> tuple[str, ...]:
        """The pools a resident in ``groups`` may take a voucher of the tier from, in the order tried:
        the quotas reserved for their groups, the general pool, then quotas whose time has passed."""
        quotas = [(group, until) for tier, group, until in self.reserved if tier == tier_id]
        own = tuple(group for group, until in quotas if group in groups and until > now)
        lapsed = tuple(group for group, until in quotas if until <= now)
        return own + ("",) + lapsed


class _Memo:
    """Per process: campaign snapshots (for ``SNAPSHOT_SECONDS``) and tiers found sold out (until
    their next release, at most a second). Both only make refusals and checks cheaper; every
    decision that changes anything is taken again inside the write transaction."""

    def __init__(self):
        self._campaigns: Kept[str, CampaignFacts] = Kept()
        self._live: Kept[str, tuple[str, ...]] = Kept()
        self._sold_out: Kept[str, bool] = Kept()
        self._frontier: Kept[str, tuple[dt.datetime, str]] = Kept()

    def campaign(self, campaign_id: str) -> CampaignFacts:
        facts = self._campaigns.get(campaign_id)
        if facts is None:
            facts = self._campaigns.put(campaign_id, _load_facts(campaign_id), SNAPSHOT_SECONDS)
        return facts

    def live(self) -> list[CampaignFacts]:
        """Every campaign published and neither closed nor cancelled, as of at most ``SNAPSHOT_SECONDS`` ago."""
        ids = self._live.get("live")
        if ids is None:
            ids = tuple(db.session.scalars(select(Campaign.id).where(Campaign.status.in_(_CLAIMABLE_STATUSES))))
            self._live.put("live", ids, SNAPSHOT_SECONDS)
        return [facts for facts in map(self._known, ids) if facts is not None]

    def _known(self, campaign_id: str) -> CampaignFacts | None:
        """A campaign of the snapshot's list, or None if it is gone since (a test empties the tables
        under a running server; a till must not fail on a campaign it was not asked about)."""
        try:
            return self.campaign(campaign_id)
        except NotFound:
            return None

    def is_sold_out(self, tier_id: str, pool: str = "") -> bool:
        return self._sold_out.get((tier_id, pool)) is not None

    def sold_out(self, tier_id: str, pool: str, now: dt.datetime, next_release: dt.datetime | None) -> None:
        ttl = 1.0
        if next_release is not None:
            ttl = min(ttl, max((next_release - now).total_seconds(), 0.0))
        self._sold_out.put((tier_id, pool), True, ttl)

    def frontier(self, tier_id: str, pool: str) -> tuple[dt.datetime, str] | None:
        return self._frontier.get((tier_id, pool))

    def advance(self, tier_id: str, pool: str, release_at: dt.datetime, voucher_id: str) -> None:
        """The last voucher of the pool this process took: unclaimed ones are after it (see ``_CLAIM_ALL``)."""
        self._frontier.put((tier_id, pool), (release_at, voucher_id))

    def forget(self) -> None:
        """Remember nothing about any campaign any more, its page counts included."""
        for kept in (self._campaigns, self._live, self._sold_out, self._frontier):
            kept.clear()
        counts.forget()
        public_campaigns.forget()


memo = _Memo()


def _load_facts(campaign_id: str) -> CampaignFacts:
    campaign = db.session.scalars(
        select(Campaign).where(Campaign.id == campaign_id)
        .options(selectinload(Campaign.tiers), selectinload(Campaign.rounds).selectinload(Round.allocations))
    ).first()
    if campaign is None or campaign.status is CampaignStatus.draft:
        raise no_such_campaign()
    return CampaignFacts(
        id=campaign.id, name=campaign.name, status=campaign.status, starts_at=campaign.starts_at,
        ends_at=campaign.ends_at, valid_from=campaign.valid_from, valid_to=campaign.valid_to,
        valid_weekdays=tuple(campaign.valid_weekdays) if campaign.valid_weekdays else None,
        limit_per_resident=campaign.limit_per_resident, limit_per_round=campaign.limit_per_round,
        valid_days=campaign.valid_days, tier_ids=frozenset(t.id for t in campaign.tiers),
        rounds=tuple(RoundFacts(r.id, r.release_at, {a.tier_id: a.quantity for a in r.allocations},
                                r.entry_opens_at, r.entry_closes_at) for r in campaign.rounds),
        allocation=campaign.allocation, resident_districts=frozenset(campaign.resident_districts or ()),
        requires_profile=campaign.requires_profile, limit_per_day=campaign.limit_per_day,
        limit_per_merchant_day=campaign.limit_per_merchant_day,
        reserved=tuple((tier.id, quota["group"], parse_iso(quota["until"]))
                       for tier in campaign.tiers for quota in tier.reserved or ()))


def _check_open(facts: CampaignFacts, tier_id: str, now: dt.datetime) -> tuple[RoundFacts, dt.datetime | None]:
    """The round a claim now falls in and the tier's next release; or the refusal."""
    status = effective_status(facts, now)
    if status is CampaignStatus.scheduled:
        raise NotOpen(_("The campaign has not started yet."), opens_at=iso(facts.starts_at))
    if status is not CampaignStatus.open:
        raise CampaignClosed()
    if tier_id not in facts.tier_ids:
        raise NotEligible(_("This voucher is not part of this campaign."))
    released = [r for r in facts.rounds if r.release_at <= now]
    next_release = min((r.release_at for r in facts.rounds
                        if r.release_at > now and r.quantities.get(tier_id, 0) > 0), default=None)
    if not any(r.quantities.get(tier_id, 0) > 0 for r in released):
        raise NotOpen(_("No round of this voucher has been released yet."), opens_at=iso(next_release))
    return max(released, key=lambda r: r.release_at), next_release


# The hot path's statements, compiled once and run on the hot-path connection (``core/hotpath.py``).
_vouchers = Voucher.__table__
_records = IdempotencyRecord.__table__
_ledger = LedgerEntry.__table__

# SQLite: the one read before the write — how many vouchers the resident holds in the campaign and
# the round, and for a repeated key the stored answer. A resident's slots are numbered 1, 2, 3 … as
# they claim, so the highest slot is the count: one step down the slot's unique index, where counting
# would visit every voucher the resident holds.
def _highest(slot, scope, scope_param: str):
    return func.coalesce(select(func.max(slot)).where(scope == bindparam(scope_param),
                                                      _vouchers.c.person_id == bindparam("p_person_id"))
                         .scalar_subquery(), 0)


# Claims today count only where the campaign limits them (``p_day_start`` is then the city day's start):
# the resident's few vouchers in the campaign, through the slot's unique index.
_in_day = case((bindparam("p_day_start", type_=_vouchers.c.claimed_at.type).is_(None), 0),
               else_=select(func.count()).where(_vouchers.c.campaign_id == bindparam("p_campaign_id"),
                                                _vouchers.c.person_id == bindparam("p_person_id"),
                                                _vouchers.c.claimed_at >= bindparam("p_day_start"))
               .scalar_subquery())
_held = select(_highest(_vouchers.c.resident_slot, _vouchers.c.campaign_id, "p_campaign_id").label("in_campaign"),
               _highest(_vouchers.c.round_slot, _vouchers.c.claim_round_id, "p_round_id").label("in_round"),
               _in_day.label("in_day")).subquery()
_LOOK = Prepared(
    select(_held.c.in_campaign, _held.c.in_round, _held.c.in_day, _records.c.request_hash, _records.c.status,
           _records.c.body)
    .select_from(_held.outerjoin(_records, and_(_records.c.user_id == bindparam("p_resident_id"),
                                                _records.c.key == bindparam("p_key")))))

_STATUS_OF_CAMPAIGN = select(Campaign.__table__.c.status).where(Campaign.__table__.c.id == bindparam("p_campaign_id"))
_STATUS = Prepared(_STATUS_OF_CAMPAIGN)
_CLAIMABLE_STATUSES = (CampaignStatus.scheduled, CampaignStatus.open)
_campaign_status = _STATUS_OF_CAMPAIGN.scalar_subquery()

_PICK = (select(_vouchers.c.id)
         .where(_vouchers.c.tier_id == bindparam("p_tier_id"), _vouchers.c.pool == bindparam("p_pool"),
                _vouchers.c.status == VoucherStatus.available.value,
                _vouchers.c.release_at <= bindparam("p_now", type_=_vouchers.c.release_at.type))
         .order_by(_vouchers.c.release_at, _vouchers.c.id).limit(1)
         .scalar_subquery())

_TAKE = Prepared(
    update(_vouchers)
    .where(_vouchers.c.id == _PICK, _vouchers.c.status == VoucherStatus.available.value,
           or_(*(_campaign_status == s.value for s in _CLAIMABLE_STATUSES)))
    .values(status=VoucherStatus.claimed.value, resident_id=bindparam("p_resident_id"),
            person_id=bindparam("p_person_id"), claim_round_id=bindparam("p_round_id"), resident_slot=bindparam("p_resident_slot"),
            round_slot=bindparam("p_round_slot"),
            claimed_at=bindparam("p_claimed_at", type_=_vouchers.c.claimed_at.type),
            expires_at=bindparam("p_expires_at", type_=_vouchers.c.expires_at.type))
    .returning(_vouchers.c.id, _vouchers.c.tier_id, _vouchers.c.threshold_cents, _vouchers.c.discount_cents,
               _vouchers.c.percent))

_RESERVE = Prepared(insert(_ledger).values(
    id=bindparam("p_id"), campaign_id=bindparam("p_campaign_id"), voucher_id=bindparam("p_voucher_id"),
    from_account=Account.available.value, to_account=Account.reserved.value,
    amount_cents=bindparam("p_amount_cents"), kind="claim", at=bindparam("p_at", type_=_ledger.c.at.type)))

_REMEMBER = Prepared(insert(_records).values(
    user_id=bindparam("p_user_id"), key=bindparam("p_key"), request_hash=bindparam("p_request_hash"), status=201,
    body=bindparam("p_body", type_=_records.c.body.type),
    created_at=bindparam("p_created_at", type_=_records.c.created_at.type)))


def refuse_ineligible(facts: CampaignFacts, resident: User) -> None:
    """The campaign's rules about who may take part: its profile and district conditions."""
    if facts.requires_profile and not has_profile(resident):
        raise NotEligible(_("This campaign is for residents who have completed their profile (district, "
                            "birth year and ID number). Please complete it first."), profile_required=True)
    if facts.resident_districts and resident.district not in facts.resident_districts:
        raise NotEligible(_("This campaign is for residents of certain districts only."),
                          resident_districts=sorted(facts.resident_districts))


def _refuse_over_limit(facts: CampaignFacts, in_campaign: int, in_round: int, in_day: int = 0) -> None:
    if facts.limit_per_day is not None and in_day >= facts.limit_per_day:
        raise LimitReached(_("You already claimed the most vouchers this campaign allows in one day (%(n)d). "
                             "Try again tomorrow.", n=facts.limit_per_day))
    if in_campaign >= facts.limit_per_resident:
        raise LimitReached(_("You already hold the most vouchers this campaign allows (%(n)d).",
                             n=facts.limit_per_resident))
    if in_round >= facts.limit_per_round:
        raise LimitReached(_("You already claimed the most vouchers this round allows (%(n)d). "
                             "Try again in the next round.", n=facts.limit_per_round))


def _found_sold_out(tier_id: str, pool: str, now: dt.datetime, next_release: dt.datetime | None) -> SoldOut:
    """The database found nothing left in the pool: remembered here (until the next release, a second at most)."""
    memo.sold_out(tier_id, pool, now, next_release)
    return _sold_out(next_release)


def _day_start(facts: CampaignFacts, now: dt.datetime) -> dt.datetime | None:
    """Where today's claims begin, when the campaign limits claims per day."""
    return city_day_bounds(city_day(now))[0] if facts.limit_per_day is not None else None


def _valid_until(facts: CampaignFacts, now: dt.datetime) -> dt.datetime:
    """A voucher claimed now expires ``valid_days`` later, or with the campaign if that comes first."""
    return min(now + dt.timedelta(days=facts.valid_days), facts.ends_at)


def _claimed(facts: CampaignFacts, taken, now: dt.datetime, valid_until: dt.datetime) -> tuple[dict, int]:
    """The answer to a claim that took ``taken`` (the taking statement's row)."""
    return {"id": taken.id, "campaign_id": facts.id, "tier_id": taken.tier_id, "status": VoucherStatus.claimed.value,
            "threshold_cents": taken.threshold_cents, "discount_cents": taken.discount_cents, "percent": taken.percent,
            "claimed_at": iso(now), "expires_at": iso(valid_until)}, 201


def _sold_out(next_release: dt.datetime | None) -> SoldOut:
    if next_release is not None:
        return SoldOut(_("This round is sold out. The next round opens at %(when)s.",
                         when=iso(next_release)), next_release_at=iso(next_release))
    return SoldOut()


def claim_voucher(campaign_id: str, tier_id: str, resident: User, now: dt.datetime,
                  key: str | None = None) -> tuple[dict, int]:
    """Claim one voucher of ``tier_id`` for ``resident``; returns the answer's body and HTTP status.

    A request repeating an earlier ``key`` gets the earlier answer, and nothing else happens. Limits
    count per person (``User.person``); a tier's reserved quotas are pools only their group may take
    from until their time has passed (``CampaignFacts.pools``), tried before the general pool.
    """
    request_hash = fingerprint("claim", {"campaign_id": campaign_id, "tier_id": tier_id})
    for _attempt in range(CLAIM_RETRIES):
        facts = memo.campaign(campaign_id)
        try:
            if facts.allocation == "lottery":
                raise NotEligible(_("This campaign's vouchers are given by a lottery draw: enter the draw instead."))
            current_round, next_release = _check_open(facts, tier_id, now)
            refuse_ineligible(facts, resident)
            pools = facts.pools(tier_id, groups_of(resident, now), now) if facts.reserved else ("",)
            pools = tuple(pool for pool in pools if not memo.is_sold_out(tier_id, pool))
            if not pools:  # the cheap refusal: a key lookup per pool, no counts
                raise _sold_out(next_release)  # not re-armed: a second at most from the database's word
        except DomainError:
            stored = replay(resident.id, key, request_hash)  # a first answer outlives the hours and the sell-out
            if stored is not None:
                return stored
            raise
        try:
            if not hot().sqlite:
                return _claim_in_one_statement(facts, tier_id, pools, resident, current_round, next_release, now,
                                               key, request_hash)
            look = hot().one(_LOOK, p_resident_id=resident.id, p_person_id=resident.person, p_campaign_id=campaign_id,
                             p_round_id=current_round.id, p_key=key, p_day_start=_day_start(facts, now))
            stored = first_answer(request_hash, look.request_hash, look.status, look.body)
            if stored is not None:
                return stored
            _refuse_over_limit(facts, look.in_campaign, look.in_round, look.in_day)
            return _take_voucher(facts, tier_id, pools, resident, current_round, next_release, now, key, request_hash,
                                 (look.in_campaign, look.in_round))
        except IntegrityError:
            continue  # a parallel request took the slot or the key first: look again
    raise LimitReached()


def _take_voucher(facts: CampaignFacts, tier_id: str, pools: tuple[str, ...], resident: User,
                  current_round: RoundFacts, next_release: dt.datetime | None, now: dt.datetime, key: str | None,
                  request_hash: str, held: tuple[int, int]):
    """SQLite's write transaction: three statements, nothing read first, so the write lock — which
    every claim of every worker queues for — is held as briefly as can be. The slots come from the
    read before (a parallel claim of the same resident that took them first makes this fail on the
    slot's unique constraint, and the caller looks again); the campaign's status is a condition of
    the take itself. A pool found empty is remembered, and the next one tried."""
    valid_until = _valid_until(facts, now)
    for pool in pools:
        end_read_transaction()
        with hot().transaction() as tx:
            taken = tx.one(_TAKE, p_tier_id=tier_id, p_pool=pool, p_now=now, p_resident_id=resident.id,
                           p_person_id=resident.person, p_round_id=current_round.id, p_resident_slot=held[0] + 1,
                           p_round_slot=held[1] + 1, p_claimed_at=now, p_expires_at=valid_until,
                           p_campaign_id=facts.id)
            if taken is not None:
                answer = _claimed(facts, taken, now, valid_until)
                tx.run(_RESERVE, p_id=new_id(), p_campaign_id=facts.id, p_voucher_id=taken.id,
                       p_amount_cents=taken.discount_cents, p_at=now)
                if key is not None:
                    tx.run(_REMEMBER, p_user_id=resident.id, p_key=key, p_request_hash=request_hash,
                           p_body=answer[0], p_created_at=now)
        if taken is not None:
            counts.claimed(facts.id, taken.tier_id)
            return answer
        refusal = _refusal_after_nothing_taken(facts, tier_id, pool, now, next_release)
        if not isinstance(refusal, SoldOut):
            raise refusal
    raise refusal


def _refusal_after_nothing_taken(facts: CampaignFacts, tier_id: str, pool: str, now: dt.datetime,
                                 next_release: dt.datetime | None) -> DomainError:
    """Nothing was taken: the campaign was cancelled or closed since the snapshot, or the pool is sold out.
    (The scheduler recording scheduled → open is no change: the period, which decides openness by
    the clock, never changes after publishing.)"""
    if CampaignStatus(hot().one(_STATUS, p_campaign_id=facts.id).status) not in _CLAIMABLE_STATUSES:
        memo.forget()
        return CampaignClosed()
    return _found_sold_out(tier_id, pool, now, next_release)


# PostgreSQL: the whole claim in one statement ---------------------------------------------------------
# Many claims run at once there, and each statement is a round trip: looking for a first answer,
# counting the resident's vouchers, taking one, reserving its value and remembering the answer
# travel together as CTEs, in one statement that commits atomically as it ends (autocommit).
# Nothing is taken when a first answer exists for the key or the resident is at a limit. The slots
# come from the counts in the same statement's snapshot: a parallel claim of the same resident that
# took them first makes this one fail on the slot's unique constraint, and the caller looks again.
# The campaign's status is a condition of the take itself, read with a lock (``still_open``; see the
# module's docstring: cancelling during a rush).
# Vouchers are taken in (release, id) order, so the unclaimed ones of a tier lie after the last one
# this process took (``memo.frontier``), and the search starts there (``:after_release``,
# ``:after_id``). The index of unclaimed vouchers keeps an entry for every voucher claimed since the
# last vacuum until vacuum removes it, and a search from the start steps over all of them: a claim
# got slower with every claim before it (0.7 → 1.2 ms in 8,000 claims on a vacuumed table). A
# voucher before the frontier can be free again only if a claim that had locked it failed; so when
# nothing is found after the frontier the search runs once more from the start before "sold out".
_CLAIM_ALL = Prepared(text("""
WITH prior AS (
    SELECT request_hash, status, body FROM idempotency_records WHERE user_id = :resident_id AND key = :key
), held AS (  -- the highest slots are the counts (see _LOOK)
    SELECT coalesce((SELECT max(resident_slot) FROM vouchers
                     WHERE campaign_id = :campaign_id AND person_id = :person_id), 0) AS in_campaign,
           coalesce((SELECT max(round_slot) FROM vouchers
                     WHERE claim_round_id = :round_id AND person_id = :person_id), 0) AS in_round,
           CASE WHEN CAST(:day_start AS timestamptz) IS NULL THEN 0
                ELSE (SELECT count(*) FROM vouchers WHERE campaign_id = :campaign_id AND person_id = :person_id
                        AND claimed_at >= :day_start) END AS in_day
), pick AS (
    SELECT id FROM vouchers
    WHERE tier_id = :tier_id AND pool = :pool AND status = 'available' AND release_at <= :now
      AND (release_at, id) >= (:after_release, :after_id)
      AND NOT EXISTS (SELECT 1 FROM prior)
      AND (SELECT in_campaign FROM held) < :limit_per_resident AND (SELECT in_round FROM held) < :limit_per_round
      AND (SELECT in_day FROM held) < coalesce(CAST(:limit_per_day AS integer), 2147483647)
    ORDER BY release_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
), still_open AS (  -- the latest status, locked against a cancel; only once a voucher is picked
    SELECT 1 FROM campaigns WHERE id = :campaign_id AND status IN ('scheduled', 'open')
      AND EXISTS (SELECT 1 FROM pick)
    FOR KEY SHARE
), taken AS (
    UPDATE vouchers v SET status = 'claimed', resident_id = :resident_id, person_id = :person_id,
        claim_round_id = :round_id,
        resident_slot = held.in_campaign + 1, round_slot = held.in_round + 1, claimed_at = :now,
        expires_at = :expires_at
    FROM pick, held
    WHERE v.id = pick.id AND v.status = 'available' AND EXISTS (SELECT 1 FROM still_open)
    RETURNING v.id, v.tier_id, v.threshold_cents, v.discount_cents, v.percent, v.release_at
), reserved AS (
    INSERT INTO ledger_entries (id, campaign_id, voucher_id, from_account, to_account, amount_cents, kind, at)
    SELECT :ledger_id, :campaign_id, id, 'available', 'reserved', discount_cents, 'claim', :now FROM taken
), remembered AS (
    INSERT INTO idempotency_records (user_id, key, request_hash, status, body, created_at)
    SELECT :resident_id, :key, :request_hash, 201,
           json_build_object('id', id, 'campaign_id', CAST(:campaign_id AS text), 'tier_id', tier_id,
                             'status', 'claimed', 'threshold_cents', threshold_cents,
                             'discount_cents', discount_cents, 'percent', percent,
                             'claimed_at', CAST(:claimed_at_iso AS text),
                             'expires_at', CAST(:expires_at_iso AS text)), :now
    FROM taken WHERE CAST(:key AS varchar) IS NOT NULL
)
SELECT held.in_campaign, held.in_round, held.in_day, prior.request_hash, prior.status AS answer_status, prior.body AS answer,
       taken.id, taken.tier_id, taken.threshold_cents, taken.discount_cents, taken.percent, taken.release_at
FROM held LEFT JOIN prior ON true LEFT JOIN taken ON true
""").columns(in_campaign=Integer, in_round=Integer, in_day=Integer, request_hash=String, answer_status=Integer,
             answer=_records.c.body.type, id=String, tier_id=String, threshold_cents=Integer,
             discount_cents=Integer, percent=Integer, release_at=_vouchers.c.release_at.type))
_THE_START = (dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), "")


def _claim_in_one_statement(facts: CampaignFacts, tier_id: str, pools: tuple[str, ...], resident: User,
                            current_round: RoundFacts, next_release: dt.datetime | None, now: dt.datetime,
                            key: str | None, request_hash: str):
    valid_until = _valid_until(facts, now)
    for pool in pools:
        after = memo.frontier(tier_id, pool)
        while True:
            after_release, after_id = after or _THE_START
            row = hot().write(_CLAIM_ALL, tier_id=tier_id, pool=pool, now=now, resident_id=resident.id,
                              person_id=resident.person, round_id=current_round.id,
                              limit_per_resident=facts.limit_per_resident, limit_per_round=facts.limit_per_round,
                              limit_per_day=facts.limit_per_day, day_start=_day_start(facts, now),
                              expires_at=valid_until, campaign_id=facts.id, ledger_id=new_id(), key=key,
                              request_hash=request_hash, claimed_at_iso=iso(now), expires_at_iso=iso(valid_until),
                              after_release=after_release, after_id=after_id)
            stored = first_answer(request_hash, row.request_hash, row.answer_status, row.answer)
            if stored is not None:
                return stored
            if row.id is not None:
                memo.advance(tier_id, pool, row.release_at, row.id)
                counts.claimed(facts.id, row.tier_id)
                return _claimed(facts, row, now, valid_until)
            _refuse_over_limit(facts, row.in_campaign, row.in_round, row.in_day)
            if after is None:
                break
            after = None  # nothing after the frontier: once more from the start before "sold out"
        refusal = _refusal_after_nothing_taken(facts, tier_id, pool, now, next_release)
        if not isinstance(refusal, SoldOut):
            raise refusal
    raise refusal
