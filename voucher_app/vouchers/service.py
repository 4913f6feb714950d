"""Claiming vouchers (抢券) and reading the wallet.

Why the claim path cannot oversell or exceed a resident's limits
----------------------------------------------------------------
Every voucher a round releases already exists as a row (``minting.py``). A claim is

1. cheap refusals first, without any write lock: the campaign's state by the clock, the resident's
   counts against the limits, and whether any released voucher of the tier is left. A rush is mostly
   refusals, so once a tier is found sold out this process remembers it until the next release
   (or for a second at most) and answers ``sold_out`` without touching the database;
2. then one write transaction that takes one unclaimed, released row of the tier and marks it claimed
   by the resident, numbers the claim with the resident's next campaign slot and round slot, moves the
   discount from ``available`` to ``reserved`` in the ledger, and stores the idempotency record.

No oversell: a voucher is a row, and a row is claimed by an UPDATE that only matches it while it is
still ``available``.
* PostgreSQL (READ COMMITTED, many writers at once): the row is picked with ``FOR UPDATE SKIP
  LOCKED``, so concurrent claims lock *different* rows instead of queueing on one counter, and a row
  locked by another claim is skipped rather than double-taken. When no unlocked row is left the
  claim is ``sold_out``.
* SQLite: the transaction begins ``IMMEDIATE`` (see ``database.py``), so claims run one at a time
  and each sees the previous one's commit; there is nothing to race.

No claim over the limits: a resident's vouchers carry slot numbers 1..limit, and unique constraints
on (campaign, resident, slot) and (round, resident, slot) make the same slot impossible to take
twice. Two parallel claims by one resident both computing "slot 2" cannot both commit: the second
fails on the constraint, rolls back (its voucher row and ledger entry with it) and is retried, when
it sees slot 2 taken and either takes slot 3 or is refused with ``limit_reached``.

The idempotency record is inserted in the same transaction under the primary key (resident, key),
so a duplicate request either finds the first answer or fails on the key and rolls back.
"""
from __future__ import annotations

import datetime as dt
import threading
import time

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from campaigns.lifecycle import effective_status
from campaigns.models import Campaign, CampaignStatus, Round
from campaigns.schemas import iso

from ..accounts.models import User
from ..database import write_transaction
from ..errors import Conflict, NotFound
from ..extensions import db
from ..idempotency import fingerprint, remember, replay
from ..ledger.models import Account, LedgerEntry
from . import tokens
from .errors import (AlreadyRedeemed, CampaignClosed, LimitReached, NotEligible, NotOpen, SoldOut, VoucherExpired,
                     VoucherRevoked)
from .models import Voucher, VoucherStatus
from .schemas import voucher_out

CLAIM_RETRIES = 5


# Sold-out memory -------------------------------------------------------------------------------------

class _SoldOutMemo:
    """Per process: tiers found sold out, until their next release (at most ``ttl`` seconds).

    Only ever makes a refusal cheaper: a tier is remembered after the database said it was empty.
    """

    def __init__(self, ttl: float = 1.0):
        self.ttl = ttl
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def is_sold_out(self, tier_id: str) -> bool:
        until = self._until.get(tier_id)
        return until is not None and time.monotonic() < until

    def remember(self, tier_id: str, now: dt.datetime, next_release: dt.datetime | None) -> None:
        ttl = self.ttl
        if next_release is not None:
            ttl = min(ttl, max((next_release - now).total_seconds(), 0))
        with self._lock:
            self._until[tier_id] = time.monotonic() + ttl

    def forget(self) -> None:
        with self._lock:
            self._until.clear()


sold_out_memo = _SoldOutMemo()


# Claiming --------------------------------------------------------------------------------------------

def _load_campaign(campaign_id: str) -> Campaign:
    campaign = db.session.scalars(
        select(Campaign).where(Campaign.id == campaign_id)
        .options(selectinload(Campaign.tiers), selectinload(Campaign.rounds).selectinload(Round.allocations))
    ).first()
    if campaign is None or campaign.status is CampaignStatus.draft:
        raise NotFound(_("There is no such campaign."))
    return campaign


def _check_open(campaign: Campaign, tier_id: str, now: dt.datetime) -> tuple[Round, Round | None]:
    """The round a claim now falls in and the tier's next release; or the refusal."""
    status = effective_status(campaign, now)
    if status is CampaignStatus.scheduled:
        raise NotOpen(_("The campaign has not started yet."), opens_at=iso(campaign.starts_at))
    if status is not CampaignStatus.open:
        raise CampaignClosed()
    if not any(t.id == tier_id for t in campaign.tiers):
        raise NotEligible(_("This voucher is not part of this campaign."))
    released = [r for r in campaign.rounds if r.release_at <= now]
    upcoming = [r for r in campaign.rounds if r.release_at > now and r.quantity_of(tier_id) > 0]
    next_release = min((r.release_at for r in upcoming), default=None)
    if not any(r.quantity_of(tier_id) > 0 for r in released):
        raise NotOpen(_("No round of this voucher has been released yet."), opens_at=iso(next_release))
    return max(released, key=lambda r: r.release_at), next_release


def _counts(resident_id: str, campaign_id: str, round_id: str) -> tuple[int, int]:
    row = db.session.execute(
        select(func.count(), func.count().filter(Voucher.claim_round_id == round_id))
        .where(Voucher.resident_id == resident_id, Voucher.campaign_id == campaign_id)
    ).one()
    return row[0], row[1]


def _check_limits(campaign: Campaign, resident_id: str, current_round: Round) -> tuple[int, int]:
    in_campaign, in_round = _counts(resident_id, campaign.id, current_round.id)
    if in_campaign >= campaign.limit_per_resident:
        raise LimitReached(_("You already hold the most vouchers this campaign allows (%(n)d).",
                             n=campaign.limit_per_resident))
    if in_round >= campaign.limit_per_round:
        raise LimitReached(_("You already claimed the most vouchers this round allows (%(n)d). "
                             "Try again in the next round.", n=campaign.limit_per_round))
    return in_campaign + 1, in_round + 1


def _sold_out(tier_id: str, now: dt.datetime, next_release: dt.datetime | None) -> SoldOut:
    sold_out_memo.remember(tier_id, now, next_release)
    if next_release is not None:
        return SoldOut(_("This round is sold out. The next round opens at %(when)s.",
                         when=iso(next_release)), next_release_at=iso(next_release))
    return SoldOut()


def _any_left(tier_id: str, now: dt.datetime) -> bool:
    return db.session.scalar(
        select(Voucher.id).where(Voucher.tier_id == tier_id, Voucher.status == VoucherStatus.available,
                                 Voucher.release_at <= now).limit(1)) is not None


def claim_voucher(campaign_id: str, tier_id: str, resident: User, now: dt.datetime,
                  key: str | None = None) -> tuple[dict, int]:
    """Claim one voucher of ``tier_id`` for ``resident``; returns the answer's body and HTTP status.

    A request repeating an earlier ``key`` gets the earlier answer, and nothing else happens.
    """
    request_hash = fingerprint("claim", {"campaign_id": campaign_id, "tier_id": tier_id})
    stored = replay(resident.id, key, request_hash)
    if stored is not None:
        return stored.body, stored.status

    campaign = _load_campaign(campaign_id)
    current_round, next_release = _check_open(campaign, tier_id, now)
    if sold_out_memo.is_sold_out(tier_id):
        raise _sold_out(tier_id, now, next_release)
    _check_limits(campaign, resident.id, current_round)
    if not _any_left(tier_id, now):
        raise _sold_out(tier_id, now, next_release)

    valid_until = min(now + dt.timedelta(days=campaign.valid_days), campaign.ends_at)
    for _attempt in range(CLAIM_RETRIES):
        try:
            with write_transaction():
                stored = replay(resident.id, key, request_hash)
                if stored is not None:
                    return stored.body, stored.status
                status = db.session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))
                if status is not campaign.status:  # cancelled (or closed) since we looked
                    raise CampaignClosed()
                resident_slot, round_slot = _check_limits(campaign, resident.id, current_round)
                voucher_id = db.session.scalar(
                    select(Voucher.id)
                    .where(Voucher.tier_id == tier_id, Voucher.status == VoucherStatus.available,
                           Voucher.release_at <= now)
                    .order_by(Voucher.release_at, Voucher.id).limit(1)
                    .with_for_update(skip_locked=True))
                if voucher_id is None:
                    raise _sold_out(tier_id, now, next_release)
                taken = db.session.execute(
                    update(Voucher).where(Voucher.id == voucher_id, Voucher.status == VoucherStatus.available)
                    .values(status=VoucherStatus.claimed, resident_id=resident.id, claim_round_id=current_round.id,
                            resident_slot=resident_slot, round_slot=round_slot, claimed_at=now,
                            expires_at=valid_until)
                ).rowcount
                if taken != 1:  # cannot happen under the lock; refuse rather than guess
                    raise Conflict(_("Please try again."))
                voucher = db.session.get(Voucher, voucher_id, populate_existing=True)
                db.session.add(LedgerEntry(campaign_id=campaign.id, voucher_id=voucher_id,
                                           from_account=Account.available, to_account=Account.reserved,
                                           amount_cents=voucher.discount_cents, kind="claim", at=now))
                body = voucher_out(voucher)
                remember(resident.id, key, request_hash, 201, body, now)
            return body, 201
        except IntegrityError:
            continue  # a parallel claim took the slot (or the key) first: look again
    raise LimitReached()


# Counts for campaign pages ---------------------------------------------------------------------------

def claimed_by_tier(campaign_ids: list[str]) -> dict[str, dict[str, int]]:
    """Per tier: how many vouchers have been claimed (whatever happened to them since)."""
    if not campaign_ids:
        return {}
    rows = db.session.execute(
        select(Voucher.tier_id, func.count())
        .where(Voucher.campaign_id.in_(campaign_ids), Voucher.status != VoucherStatus.available)
        .group_by(Voucher.tier_id))
    return {tier_id: {"claimed": count} for tier_id, count in rows}


# The wallet --------------------------------------------------------------------------------------------

def state_at(voucher: Voucher, now: dt.datetime) -> VoucherStatus:
    """The state a resident meets: a claimed voucher past its expiry is expired, job or no job."""
    if voucher.status is VoucherStatus.claimed and voucher.expires_at is not None and now >= voucher.expires_at:
        return VoucherStatus.expired
    return voucher.status


def my_vouchers(resident_id: str) -> list[tuple[Voucher, Campaign]]:
    """The resident's vouchers, newest first, each with its campaign."""
    rows = db.session.execute(
        select(Voucher, Campaign).join(Campaign, Campaign.id == Voucher.campaign_id)
        .where(Voucher.resident_id == resident_id).order_by(Voucher.claimed_at.desc(), Voucher.id.desc()))
    return [(voucher, campaign) for voucher, campaign in rows]


def owned_voucher(voucher_id: str, resident_id: str) -> Voucher:
    """The resident's own voucher; anyone else's is "not found", so ids reveal nothing."""
    voucher = db.session.get(Voucher, voucher_id)
    if voucher is None or voucher.resident_id != resident_id:
        raise NotFound(_("There is no such voucher in your wallet."))
    return voucher


def fresh_token(voucher: Voucher, now: dt.datetime) -> dict:
    """A new QR token (and typed code) for a voucher that can still be used."""
    state = state_at(voucher, now)
    if state is VoucherStatus.redeemed:
        raise AlreadyRedeemed()
    if state is VoucherStatus.revoked:
        raise VoucherRevoked()
    if state is VoucherStatus.expired:
        raise VoucherExpired()
    token, expires_at = tokens.sign(voucher.id, now)
    return {"voucher_id": voucher.id, "token": token, "expires_at": iso(expires_at),
            "code": tokens.typed_code(voucher.id, now), "refresh_in": tokens.TOKEN_TTL_SECONDS - 15}


def saved_cents(resident_id: str) -> int:
    """What the resident has saved: the discounts of their vouchers that were used."""
    return db.session.scalar(select(func.coalesce(func.sum(Voucher.discount_cents), 0)).where(
        Voucher.resident_id == resident_id, Voucher.status == VoucherStatus.redeemed))


def campaigns_for_residents(now: dt.datetime) -> list[dict]:
    """Open campaigns first, then those opening soon, as the campaign pages show them."""
    from campaigns import service as campaign_service

    shown = []
    for status in ("open", "scheduled"):
        campaigns, _cursor = campaign_service.list_campaigns(now, status=status, include_drafts=False, limit=100)
        shown += campaign_service.campaign_views(campaigns, now)
    return shown
