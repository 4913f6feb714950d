"""Lottery rounds: entering, publishing the entries' digest, the draw, and what residents see of it.

A lottery campaign (``Campaign.allocation == "lottery"``) releases each round's vouchers at its draw
instead of to the fastest thumbs. Residents enter inside the round's window — the same rules as a
claim decide who may (the campaign's state, its district and profile rules, the limits counted per
person) — one entry per person per round, held by a unique constraint. When the window closes the
digest of the entries is published (``publish_digests``, or the draw itself if nobody ran it before);
from then on no entry can be added: entering reads the round's row with a key-share lock and refuses
once the digest is set, and publishing it locks that row FOR UPDATE first, so the two cannot cross.

The draw (``draw_round``) is one transaction: the winners (``draw.winners``) get a voucher of the
round exactly as a claim would give it — slot numbers within the person's limits, the expiry, the
ledger's reservation — and the round records the seed and when it was drawn. It runs once: the
round's row is locked and a drawn round answers with its document, so the scheduler running late,
twice, or beside an administrator changes nothing. An entry not among the winners is ``lost`` once
its round is drawn (not written entry by entry: a million rows to touch for nothing).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from campaigns.lifecycle import effective_status, no_such_campaign
from campaigns.models import Campaign, CampaignStatus, Round
from voucher_app.accounts.models import User
from voucher_app.accounts.profile import groups_of
from voucher_app.core import versions
from voucher_app.core.audit import AuditRecord
from voucher_app.core.cache import Kept
from voucher_app.core.clock import iso
from voucher_app.core.database import end_read_transaction, new_id, write_transaction
from voucher_app.core.errors import CampaignClosed, LimitReached, NotEligible, NotFound, NotOpen, TooEarly
from voucher_app.core.extensions import db
from voucher_app.core.idempotency import fingerprint, replay
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.lottery import draw, entering
from voucher_app.lottery.models import Entry, EntryStatus
from voucher_app.vouchers.claiming import CampaignFacts, RoundFacts, memo, refuse_ineligible
from voucher_app.vouchers.models import Voucher, VoucherStatus

STREAM = 10_000  # rows fetched at a time when a draw reads its entries
_vouchers, _entries, _ledger = Voucher.__table__, Entry.__table__, LedgerEntry.__table__


# Entering -----------------------------------------------------------------------------------------------

def _round_open_for_entries(campaign_id: str, tier_id: str, now: dt.datetime) -> tuple[CampaignFacts, RoundFacts]:
    """The round whose entry window is open now for ``tier_id``, or the refusal (from the campaign's
    snapshot, as a claim decides: a rush of entries reads no round from the database)."""
    facts = memo.campaign(campaign_id)
    status = effective_status(facts, now)
    if status not in (CampaignStatus.open, CampaignStatus.scheduled):
        raise CampaignClosed()
    if facts.allocation != "lottery":
        raise NotEligible(_("This campaign gives its vouchers first come, first served: claim one instead."))
    if tier_id not in facts.tier_ids:
        raise NotEligible(_("This voucher is not part of this campaign."))
    offering = sorted((r for r in facts.rounds if r.quantities.get(tier_id, 0) > 0 and r.entry_opens_at),
                      key=lambda r: r.entry_opens_at)
    for rnd in offering:
        if rnd.entry_opens_at <= now < rnd.entry_closes_at:
            return facts, rnd
    upcoming = min((r.entry_opens_at for r in offering if r.entry_opens_at > now), default=None)
    if upcoming is not None:
        raise NotOpen(_("Entries for the next draw open at %(when)s.", when=iso(upcoming)), opens_at=iso(upcoming))
    raise NotOpen(_("No draw of this voucher is taking entries any more."))


def enter(campaign_id: str, tier_id: str, resident: User, now: dt.datetime, key: str | None = None,
          proxy: User | None = None) -> tuple[dict, int]:
    """Enter ``resident`` in the draw of the round now taking entries; returns the answer and status.
    A repeated ``key`` returns the first answer; a second entry of the same person in the round is
    ``limit_reached``. ``proxy`` is the community worker entering on the resident's behalf."""
    request_hash = fingerprint("entry", {"campaign_id": campaign_id, "tier_id": tier_id})
    stored = replay(resident.id, key, request_hash)
    if stored is not None:
        return stored
    facts, rnd = _round_open_for_entries(campaign_id, tier_id, now)
    refuse_ineligible(facts, resident)
    groups = groups_of(resident, now)
    pool = next((group for tier, group, until in facts.reserved
                 if tier == tier_id and group in groups and until > rnd.release_at), "")
    answer = {"id": new_id(), "campaign_id": campaign_id, "round_id": rnd.id, "tier_id": tier_id,
              "status": EntryStatus.entered.value, "voucher_id": None, "created_at": iso(now),
              "draw_at": iso(rnd.release_at)}
    end_read_transaction()  # the session's reads are done: the hot path's write must not wait on them
    try:
        written = entering.write_entry(answer, resident_id=resident.id, person_id=resident.person, pool=pool,
                                       proxy_id=proxy.id if proxy else None, limit=facts.limit_per_resident,
                                       key=key, request_hash=request_hash, now=now)
    except IntegrityError:
        stored = replay(resident.id, key, request_hash)
        if stored is not None:
            return stored
        raise LimitReached(_("You have already entered this draw. One entry per person per round.")) from None
    if not written.written:  # a parallel request with the same key may have entered first: its answer
        stored = replay(resident.id, key, request_hash)
        if stored is not None:
            return stored
    if not written.round_open:
        raise NotOpen(_("Entries for this draw have closed."))
    if not written.written:
        raise LimitReached(_("You already hold or await the most vouchers this campaign allows (%(n)d).",
                             n=facts.limit_per_resident))
    return answer, 201


def my_entries(resident_id: str) -> list[dict]:
    """The resident's entries, newest first, with what became of them."""
    rows = db.session.execute(
        select(Entry, Round.draw_at, Round.drawn_at).join(Round, Round.id == Entry.round_id)
        .where(Entry.resident_id == resident_id).order_by(Entry.created_at.desc(), Entry.id.desc())).all()
    return [entry_out(entry, draw_at, drawn_at) for entry, draw_at, drawn_at in rows]


def entry_out(entry: Entry, draw_at: dt.datetime | None, drawn_at: dt.datetime | None) -> dict:
    status = entry.status
    if status is EntryStatus.entered and drawn_at is not None:
        status = EntryStatus.lost
    return {"id": entry.id, "campaign_id": entry.campaign_id, "round_id": entry.round_id, "tier_id": entry.tier_id,
            "status": status.value, "voucher_id": entry.voucher_id, "created_at": iso(entry.created_at),
            "draw_at": iso(draw_at), "drawn_at": iso(drawn_at), "on_behalf": entry.proxy_id is not None}


# Publishing and drawing ---------------------------------------------------------------------------------

def _lottery_round(campaign_id: str, round_id: str, *, lock: bool = False) -> tuple[Campaign, Round]:
    query = select(Round).where(Round.id == round_id, Round.campaign_id == campaign_id)
    rnd = db.session.scalars(query.with_for_update() if lock else query).first()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status is CampaignStatus.draft:
        raise no_such_campaign()
    if rnd is None or campaign.allocation != "lottery":
        raise NotFound(_("There is no such draw."))
    return campaign, rnd


def _stream(query) -> Iterator[tuple]:
    """The rows of a Core query, fetched ``STREAM`` at a time (a draw reads a million entries: the
    ORM's per-row work would double its time, and a full fetch its memory)."""
    # The option goes on the statement: on the connection it would stay for every later statement.
    yield from db.session.connection().execute(query.execution_options(yield_per=STREAM))


def _sorted_entry_ids(round_id: str) -> Iterator[str]:
    for (entry_id,) in _stream(select(_entries.c.id).where(_entries.c.round_id == round_id).order_by(_entries.c.id)):
        yield entry_id


def _publish_digest(rnd: Round, now: dt.datetime) -> None:
    """Fix the round's entries (in the caller's transaction, the round's row locked). The campaign's
    ``updated_at`` moves too: the residents' views of campaigns are kept until it does."""
    if rnd.entries_digest is None:
        rnd.entries_digest, rnd.entry_count = draw.entries_digest(_sorted_entry_ids(rnd.id))
        db.session.execute(update(Campaign).where(Campaign.id == rnd.campaign_id).values(updated_at=now))
        versions.bump(versions.CAMPAIGNS)


def publish_digests(now: dt.datetime) -> int:
    """Publish the entries' digest of every round whose window has closed; how many."""
    due = db.session.scalars(select(Round.id).join(Campaign, Campaign.id == Round.campaign_id).where(
        Campaign.allocation == "lottery", Round.entries_digest.is_(None), Round.entry_closes_at <= now)).all()
    for round_id in due:
        with write_transaction():
            rnd = db.session.scalars(select(Round).where(Round.id == round_id).with_for_update()).one()
            _publish_digest(rnd, now)
    return len(due)


def due_draws(now: dt.datetime) -> list[tuple[str, str]]:
    """(campaign id, round id) of every lottery round whose draw time has passed and is not drawn."""
    return [tuple(row) for row in db.session.execute(
        select(Round.campaign_id, Round.id).join(Campaign, Campaign.id == Round.campaign_id).where(
            Campaign.allocation == "lottery", Campaign.status.in_((CampaignStatus.scheduled, CampaignStatus.open,
                                                                   CampaignStatus.closed)),
            Round.drawn_at.is_(None), Round.draw_at <= now))]


def draw_round(campaign_id: str, round_id: str, actor: User | None, now: dt.datetime,
               document: bool = True) -> dict | None:
    """Draw a round (from the close of its entries on) and give the winners their vouchers, once;
    returns the draw's public document (unless ``document`` is false: the scheduler does not need
    it). ``actor`` is the administrator, or None for the scheduler."""
    with write_transaction():
        campaign, rnd = _lottery_round(campaign_id, round_id, lock=True)
        if rnd.drawn_at is None:
            if now < rnd.entry_closes_at:
                raise TooEarly(_("Entries close at %(when)s; the draw can run from then on.",
                                 when=iso(rnd.entry_closes_at)), entry_closes_at=iso(rnd.entry_closes_at))
            if campaign.status is CampaignStatus.cancelled:
                raise CampaignClosed()
            _publish_digest(rnd, now)
            outcome = _give_vouchers(campaign, rnd, now)
            rnd.drawn_at = campaign.updated_at = now
            versions.bump(versions.CAMPAIGNS)
            db.session.add(AuditRecord(at=now, actor_id=actor.id if actor else None, action="lottery.draw",
                                       target_type="round", target_id=rnd.id, outcome="ok", detail=outcome))
    memo.forget()
    return draw_document(campaign_id, round_id, now) if document else None


def _give_vouchers(campaign: Campaign, rnd: Round, now: dt.datetime) -> dict:
    """Choose the winners of each tier and hand each a voucher of the round, as a claim would."""
    valid_until = min(now + dt.timedelta(days=campaign.valid_days), campaign.ends_at)
    given, skipped_all = 0, []
    for tier in campaign.tiers:
        pools = _available_by_pool(rnd.id, tier.id)
        if not pools:
            continue
        quotas = {pool: len(ids) for pool, (until, ids) in pools.items() if pool and until and until > now}
        vouchers = sum(len(ids) for _until, ids in pools.values())
        entries = ((entry_id, pool if pool in quotas else "") for entry_id, pool in _stream(
            select(_entries.c.id, _entries.c.pool).where(_entries.c.round_id == rnd.id,
                                                         _entries.c.tier_id == tier.id)))
        of_group, overall = draw.candidates(rnd.seed, entries, vouchers, quotas)
        who = _who_entered({entry_id for ids in (*of_group.values(), overall) for entry_id in ids})
        held = _slots_held(campaign.id, {person for person, _resident, _proxy in who.values()})

        def may_win(entry_id: str) -> bool:
            person = who[entry_id][0]
            if held.get(person, 0) >= campaign.limit_per_resident:
                return False
            held[person] = held.get(person, 0) + 1
            return True

        won, skipped = draw.choose(of_group, overall, vouchers, quotas, may_win)
        skipped_all.extend(skipped)
        given += _hand_out(campaign.id, rnd.id, won, pools, quotas, who, now, valid_until)
    for chunk in _chunks(skipped_all):
        db.session.execute(update(Entry).where(Entry.id.in_(chunk)).values(status=EntryStatus.lost, drawn_at=now))
    return {"vouchers_given": given, "skipped": len(skipped_all)}


def _chunks(items: list, size: int = 1000) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _who_entered(entry_ids: set[str]) -> dict[str, tuple[str, str, str | None]]:
    """entry id → (person, resident, proxy) of the draw's candidates."""
    who = {}
    for chunk in _chunks(sorted(entry_ids)):
        for entry_id, person, resident, proxy in db.session.execute(
                select(Entry.id, Entry.person_id, Entry.resident_id, Entry.proxy_id).where(Entry.id.in_(chunk))):
            who[entry_id] = (person, resident, proxy)
    return who


def _slots_held(campaign_id: str, people: set[str]) -> dict[str, int]:
    """The highest slot (= the count) each person holds in the campaign."""
    held = {}
    for chunk in _chunks(sorted(people)):
        held.update(db.session.execute(
            select(Voucher.person_id, func.max(Voucher.resident_slot))
            .where(Voucher.campaign_id == campaign_id, Voucher.person_id.in_(chunk)).group_by(Voucher.person_id)).all())
    return held


def _available_by_pool(round_id: str, tier_id: str) -> dict[str, tuple[dt.datetime | None, list[str]]]:
    """The round's unclaimed vouchers of the tier by pool: (the quota's time, their ids in order)."""
    pools: dict[str, tuple[dt.datetime | None, list[str]]] = {}
    for voucher_id, pool, until in db.session.execute(
            select(Voucher.id, Voucher.pool, Voucher.pool_until)
            .where(Voucher.round_id == round_id, Voucher.tier_id == tier_id,
                   Voucher.status == VoucherStatus.available).order_by(Voucher.id)):
        pools.setdefault(pool, (until, []))[1].append(voucher_id)
    return pools


_GIVE = (update(_vouchers).where(_vouchers.c.id == bindparam("v_id"),
                                 _vouchers.c.status == VoucherStatus.available.value)
         .values(status=VoucherStatus.claimed.value, resident_id=bindparam("v_resident"),
                 person_id=bindparam("v_person"), claim_round_id=bindparam("v_round"),
                 resident_slot=bindparam("v_slot"), round_slot=1, claimed_at=bindparam("v_now"),
                 expires_at=bindparam("v_expires"), proxy_id=bindparam("v_proxy")))
_WON = (update(_entries).where(_entries.c.id == bindparam("e_id"))
        .values(status=EntryStatus.won.value, voucher_id=bindparam("e_voucher"), drawn_at=bindparam("e_now")))


def _hand_out(campaign_id: str, round_id: str, won: list[tuple[str, str]], pools: dict, quotas: dict[str, int],
              who: dict[str, tuple[str, str, str | None]], now: dt.datetime, valid_until: dt.datetime) -> int:
    """Give the winners, in winning order, their vouchers: a quota's winners from its pool, the
    others from the general pool, then from quotas that lapsed or that their group did not fill."""
    by_quota = {pool: list(ids) for pool, (_until, ids) in pools.items() if pool in quotas}
    general = [voucher_id for pool, (_until, ids) in sorted(pools.items()) if pool not in quotas for voucher_id in ids]
    filled = {group: sum(1 for _entry_id, won_in in won if won_in == group) for group in quotas}
    for group, ids in by_quota.items():
        general.extend(ids[filled[group]:])  # what a group did not fill goes to everyone
    next_general = iter(general)
    next_of = {group: iter(ids) for group, ids in by_quota.items()}
    slots: dict[str, int] = _slots_held(campaign_id, {who[entry_id][0] for entry_id, _g in won})
    voucher_rows, entry_rows, ledger_rows = [], [], []
    for entry_id, group in won:
        voucher_id = next(next_of[group]) if group else next(next_general)
        person, resident, proxy = who[entry_id]
        slots[person] = slots.get(person, 0) + 1
        voucher_rows.append({"v_id": voucher_id, "v_resident": resident, "v_person": person, "v_round": round_id,
                             "v_slot": slots[person], "v_now": now, "v_expires": valid_until, "v_proxy": proxy})
        entry_rows.append({"e_id": entry_id, "e_voucher": voucher_id, "e_now": now})
    if not voucher_rows:
        return 0
    amounts = {}
    for chunk in _chunks([row["v_id"] for row in voucher_rows]):
        amounts.update(db.session.execute(select(Voucher.id, Voucher.discount_cents).where(Voucher.id.in_(chunk))).all())
    for row in voucher_rows:
        ledger_rows.append({"id": new_id(), "campaign_id": campaign_id, "voucher_id": row["v_id"],
                            "from_account": Account.available.value, "to_account": Account.reserved.value,
                            "amount_cents": amounts[row["v_id"]], "kind": "claim", "at": now})
    connection = db.session.connection()
    connection.execute(_GIVE, voucher_rows)
    connection.execute(_WON, entry_rows)
    connection.execute(insert(_ledger), ledger_rows)
    return len(voucher_rows)


# The public document ------------------------------------------------------------------------------------

def draw_document(campaign_id: str, round_id: str, now: dt.datetime, entries: bool = True) -> dict:
    """What anyone may read of a draw, as far as it has gone: the commitment from the opening of the
    entries, the entries and their digest from their closing, the seed and the winners after the draw.
    ``entries=False`` leaves out the lists of entry ids (the page shows counts)."""
    campaign, rnd = _lottery_round(campaign_id, round_id)
    opened = rnd.entry_opens_at is not None and now >= rnd.entry_opens_at
    closed = rnd.entries_digest is not None
    drawn = rnd.drawn_at is not None
    document = {
        "campaign_id": campaign.id, "round_id": rnd.id, "algorithm": draw.ALGORITHM,
        "entry_opens_at": iso(rnd.entry_opens_at), "entry_closes_at": iso(rnd.entry_closes_at),
        "draw_at": iso(rnd.draw_at), "drawn_at": iso(rnd.drawn_at),
        "commitment": rnd.commitment if opened else None,
        "entries_digest": rnd.entries_digest, "entry_count": rnd.entry_count,
        "seed": rnd.seed if drawn else None,
        "entries": list(_sorted_entry_ids(rnd.id)) if closed and entries else None,
        "winners": [], "skipped": [], "tiers": [],
        "winner_count": db.session.scalar(select(func.count()).select_from(Entry).where(
            Entry.round_id == rnd.id, Entry.status == EntryStatus.won)) if drawn else None,
    }
    if not drawn or not entries:
        return document
    several_tiers = len({a.tier_id for a in rnd.allocations if a.quantity > 0}) > 1
    for tier in campaign.tiers:
        if rnd.quantity_of(tier.id) <= 0:
            continue
        won = db.session.scalars(select(Entry.id).where(Entry.round_id == rnd.id, Entry.tier_id == tier.id,
                                                        Entry.status == EntryStatus.won).order_by(Entry.id)).all()
        document["winners"].extend(won)
        given = db.session.execute(select(Voucher.pool, func.count()).join(Entry, Entry.voucher_id == Voucher.id)
                                   .where(Entry.round_id == rnd.id, Entry.tier_id == tier.id).group_by(Voucher.pool)
                                   ).all()
        quotas = _quotas_at_draw(rnd, tier.id)
        entry = {"tier_id": tier.id, "vouchers": rnd.quantity_of(tier.id), "given": sum(n for _p, n in given),
                 "quotas": [{"group": group, "vouchers": vouchers, "entries": db.session.scalars(
                     select(Entry.id).where(Entry.round_id == rnd.id, Entry.tier_id == tier.id, Entry.pool == group)
                     .order_by(Entry.id)).all()} for group, vouchers in quotas.items()]}
        if several_tiers:
            entry["entries"] = db.session.scalars(select(Entry.id).where(
                Entry.round_id == rnd.id, Entry.tier_id == tier.id).order_by(Entry.id)).all()
        document["tiers"].append(entry)
    document["skipped"] = db.session.scalars(select(Entry.id).where(
        Entry.round_id == rnd.id, Entry.status == EntryStatus.lost).order_by(Entry.id)).all()
    return document


_published: Kept[str, bytes] = Kept(max_entries=8)


def document_json(campaign_id: str, round_id: str, now: dt.datetime) -> bytes:
    """``draw_document`` as JSON. Once a round is drawn its document never changes, and for a round of
    a million entries it is tens of megabytes built in seconds: so a drawn round's is built once per
    process and kept (the few latest), and anyone may fetch it as often as they like."""
    kept = _published.get(round_id)
    if kept is not None:
        return kept
    document = draw_document(campaign_id, round_id, now)
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    if document["drawn_at"] is not None:
        _published.put(round_id, body)
    return body


def _quotas_at_draw(rnd: Round, tier_id: str) -> dict[str, int]:
    """The reserved quotas of the tier still in force when the round was drawn, and their vouchers."""
    return dict(db.session.execute(
        select(Voucher.pool, func.count()).where(Voucher.round_id == rnd.id, Voucher.tier_id == tier_id,
                                                 Voucher.pool != "", Voucher.pool_until > rnd.drawn_at)
        .group_by(Voucher.pool)).all())
