"""The claim's rules give the same answers on both databases: one table of cases, run on each.

Why this proves agreement
-------------------------
Whether a claim may take a voucher is decided twice in the code, once per database. On SQLite the
rules are Python around a small transaction: ``_LOOK`` reads the resident's holdings and a first
answer, ``_refuse_over_limit`` judges the limits, and ``_TAKE`` takes a released voucher while the
campaign's stored status allows. On PostgreSQL the whole claim is one statement, ``_CLAIM_ALL``, in
which the limits, the first answer, the release time, availability and the stored status are all
conditions; Python only names the refusal when it took nothing. Both share the checks of the clock
(``_check_open``) and the campaign snapshot.

``make test`` runs this module on SQLite and again on PostgreSQL (the fixtures choose the database).
Every case's outcome is written here by hand — a status and, for a refusal, the contract's code —
never computed by the code under test; so each database's path must give the table's answer, and two
paths equal to the same constants agree with each other. Effects are checked too: an accepted claim
leaves the resident one more voucher and moves its value from ``available`` to ``reserved``; a
refusal changes neither.

Two cases keep the campaign snapshot a worker holds (``claiming.memo``) from before the bureau's
change, with the caches' clock standing still (as in the second after a cancellation): the claim then
reaches the database believing the campaign open, and the database's own reading of the status must
refuse it — on PostgreSQL the statement's condition, on SQLite ``_TAKE``'s.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select, update

from campaigns.models import Campaign, CampaignStatus
from tests.builders import bearer, make_staff, resident_token, staff_token
from tests.campaign_data import T0, campaign_body
from voucher_app.accounts.models import User
from voucher_app.core import cache
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.vouchers.issuing import cancel_campaign
from voucher_app.vouchers.models import Voucher, VoucherStatus

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
FIRST = T0 + HOUR  # the campaign starts, and its first round is released (12-01 21:00 in the city)
END = T0 + 10 * DAY


def rounds(*quantities: list[int], first: dt.datetime = FIRST) -> list[dict]:
    """Rounds a day apart from ``first``, each with its quantities per tier."""
    return [{"release_at": (first + i * DAY).isoformat(), "quantities": q} for i, q in enumerate(quantities)]


BASE = dict(  # two tiers, three rounds a day apart; 2 vouchers per resident, 1 per round
    starts_at=FIRST.isoformat(), ends_at=END.isoformat(), limit_per_resident=2, limit_per_round=1, valid_days=7,
    tiers=[{"name": "满100减30", "threshold_cents": 10_000, "discount_cents": 3_000, "quantity": 6},
           {"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": 3}],
    rounds=rounds([2, 0], [2, 2], [2, 1]))


@dataclass
class World:
    client: object
    admin: dict
    admin_user: User
    clock: object
    campaign: dict
    resident: dict = field(default_factory=dict)

    def claim(self, headers: dict, tier: int = 0, key: str | None = None, body: dict | None = None):
        return self.client.post(f"/api/v1/campaigns/{self.campaign['id']}/claims",
                                json=body if body is not None else {"tier_id": self.campaign["tiers"][tier]["id"]},
                                headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex})

    first: dict | None = None  # the resident's first answer under a key

    def someone(self) -> dict:
        """Another resident, signed in."""
        return bearer(resident_token(self.client))

    def at(self, moment: dt.datetime) -> None:
        self.clock.set(moment)


# Steps a case takes before the claim it is judged by -----------------------------------------------

def at(moment: dt.datetime) -> Callable[[World], None]:
    return lambda w: w.at(moment)


def claimed_by_me(tier: int = 0, key: str | None = None) -> Callable[[World], None]:
    def step(w: World) -> None:
        response = w.claim(w.resident, tier, key)
        assert response.status_code == 201
        w.first = response.get_json() if key else w.first
    return step


def claimed_by_others(n: int, tier: int = 0) -> Callable[[World], None]:
    def step(w: World) -> None:
        for _ in range(n):
            assert w.claim(w.someone(), tier).status_code == 201
    return step


def snapshot_kept(w: World) -> None:
    """Another resident's claim: this worker takes its campaign snapshot now, and keeps it (the case
    stops the caches' clock)."""
    assert w.claim(w.someone()).status_code == 201


def cancelled(w: World) -> None:
    cancel_campaign(w.campaign["id"], "test", w.admin_user, w.clock.now())


def recorded_closed(w: World) -> None:
    db.session.execute(update(Campaign).where(Campaign.id == w.campaign["id"]).values(status=CampaignStatus.closed))
    db.session.commit()


@dataclass(frozen=True)
class Case:
    name: str
    steps: tuple[Callable[[World], None], ...]
    expect: int | str  # 201, or the refusal's code
    tier: int = 0
    key: str | None = None
    body: Callable[[World], dict] | None = None  # another request body than {"tier_id": …}
    campaign: dict = field(default_factory=dict)  # changes to BASE
    freeze_caches: bool = False
    replays: bool = False  # the answer is the first answer under ``key``, and nothing else happens


CASES = [
    # Accepted
    Case("at the first round's release", (at(FIRST),), 201),
    Case("the last second of the campaign", (at(END - dt.timedelta(seconds=1)),), 201),
    Case("one per round: the next round's", (at(FIRST), claimed_by_me(), at(FIRST + DAY)), 201),
    Case("what a round left is claimable later", (at(FIRST + 2 * DAY),), 201),
    Case("the other tier, once released", (at(FIRST + DAY),), 201, tier=1),
    Case("a repeated key: the first answer again", (at(FIRST), claimed_by_me(key="same-key")), 201, key="same-key",
         replays=True),
    # not_open
    Case("before the campaign starts", (at(FIRST - dt.timedelta(seconds=1)),), "not_open"),
    Case("started, first round one second away", (at(FIRST - dt.timedelta(seconds=1)),), "not_open",
         campaign=dict(starts_at=T0.isoformat())),
    Case("a tier with nothing released yet", (at(FIRST),), "not_open", tier=1),
    # campaign_closed
    Case("at the campaign's end", (at(END),), "campaign_closed"),
    Case("cancelled", (at(FIRST), cancelled), "campaign_closed"),
    Case("cancelled after this worker's snapshot", (at(FIRST), snapshot_kept, cancelled), "campaign_closed",
         freeze_caches=True),
    Case("recorded closed after this worker's snapshot", (at(FIRST), snapshot_kept, recorded_closed),
         "campaign_closed", freeze_caches=True),
    # not_eligible
    Case("a tier of another campaign", (at(FIRST),), "not_eligible",
         body=lambda w: {"tier_id": w.campaign["other_tier_id"]}),
    # sold_out
    Case("the round's vouchers all claimed", (at(FIRST), claimed_by_others(2)), "sold_out"),
    Case("every round's vouchers all claimed", (at(FIRST + 2 * DAY), claimed_by_others(6)), "sold_out"),
    # limit_reached
    Case("a second in the same round", (at(FIRST), claimed_by_me()), "limit_reached"),
    Case("a second in the same round, of the other tier", (at(FIRST + DAY), claimed_by_me(0)), "limit_reached",
         tier=1),
    Case("a third in the campaign", (at(FIRST), claimed_by_me(), at(FIRST + DAY), claimed_by_me(),
                                     at(FIRST + 2 * DAY)), "limit_reached"),
    # idempotency_conflict, validation_error
    Case("a repeated key with another tier", (at(FIRST + DAY), claimed_by_me(0, key="same-key")),
         "idempotency_conflict", tier=1, key="same-key"),
    Case("no tier", (at(FIRST),), "validation_error", body=lambda w: {}),
    Case("a tier id that is not a string", (at(FIRST),), "validation_error", body=lambda w: {"tier_id": 7}),
]

STATUS = {"not_open": 409, "campaign_closed": 409, "not_eligible": 403, "sold_out": 409, "limit_reached": 409,
          "idempotency_conflict": 409, "validation_error": 422}


@pytest.fixture
def world(client, city, clock) -> World:
    admin_user = make_staff(Role.admin)
    return World(client, bearer(staff_token(client, admin_user.username)), admin_user, clock, {})


def publish(w: World, changes: dict) -> dict:
    body = w.client.post("/api/v1/campaigns", json=campaign_body(**{**BASE, **changes}), headers=w.admin).get_json()
    published = w.client.post(f"/api/v1/campaigns/{body['id']}/publish", headers=w.admin)
    assert published.status_code == 200, published.get_json()
    return published.get_json()


def holdings(resident_id: str) -> tuple[int, int]:
    """The resident's claimed vouchers, and the campaign's value moved into ``reserved``."""
    db.session.commit()  # end the test's read transaction: on SQLite its snapshot predates the server's writes
    held = db.session.scalar(select(func.count()).select_from(Voucher).where(
        Voucher.resident_id == resident_id, Voucher.status == VoucherStatus.claimed))
    reserved = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
        LedgerEntry.to_account == Account.reserved))
    return held, reserved


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_claim_rules_answer_as_the_table_says(world, case, monkeypatch):
    other = publish(world, dict(name="另一个活动"))
    world.campaign = {**publish(world, case.campaign), "other_tier_id": other["tiers"][0]["id"]}
    world.resident = world.someone()
    me = world.client.get("/api/v1/me", headers=world.resident).get_json()["id"]
    if case.freeze_caches:
        frozen = cache.monotonic()
        monkeypatch.setattr(cache, "monotonic", lambda: frozen)
    for step in case.steps:
        step(world)
    before = holdings(me)
    body = case.body(world) if case.body else None
    response = world.claim(world.resident, case.tier, case.key, body)
    answer = response.get_json()
    if case.expect == 201:
        assert response.status_code == 201, answer
        assert answer["status"] == "claimed" and answer["tier_id"] == world.campaign["tiers"][case.tier]["id"]
        if case.replays:
            assert answer == world.first and holdings(me) == before
        else:
            assert holdings(me) == (before[0] + 1, before[1] + answer["discount_cents"])
    else:
        assert (response.status_code, answer["code"]) == (STATUS[case.expect], case.expect), answer
        assert holdings(me) == before
