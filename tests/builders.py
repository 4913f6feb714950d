"""Builders for test data, in the domain's words."""
from __future__ import annotations

import datetime as dt
import itertools
import re
import threading

from stdnum.cn import ric
from werkzeug.security import generate_password_hash

from campaigns.models import Campaign, CampaignKind, CampaignStatus, Round, RoundAllocation, Tier
from merchants.models import Merchant, MerchantStatus
from merchants.schemas import MerchantIn
from merchants.service import register_merchant
from merchants.uscc import check_character
from voucher_app.accounts.models import User
from voucher_app.accounts.service import create_staff, issue_token
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role

PASSWORD = "Correct-Horse-42"
_phones = itertools.count(13900000001)
_names = itertools.count(1)


_id_serials = itertools.count(100)


def id_number(first17: str) -> str:
    """A valid resident ID number: ``first17`` (region, birth date, sequence) and its check digit."""
    return first17 + ric.calc_check_digit(first17 + "0")


def new_id_number(year: int = 1980) -> str:
    """A resident ID number not used before in the run: Lizhou (510802, a code from 1985, valid for anyone),
    born on 1 January of ``year``."""
    return id_number(f"510802{year}0101{next(_id_serials) % 1000:03d}")


def next_phone() -> str:
    return str(next(_phones))


def make_staff(role: Role = Role.admin, username: str | None = None, password: str = PASSWORD, **kw) -> User:
    return create_staff(username or f"{role.value}{next(_names)}", password, role, **kw)


def latest_code(client, phone: str) -> str:
    """The 6-digit code in the newest SMS the development outbox holds for ``phone``."""
    items = client.get(f"/api/v1/dev/outbox?phone={phone}").get_json()["items"]
    return re.search(r"(?<!\d)\d{6}(?!\d)", items[0]["text"]).group(0)


def resident_token(client, phone: str | None = None) -> str:
    """Sign a resident in through the API, as the phone app does, and return the bearer token."""
    phone = phone or next_phone()
    assert client.post("/api/v1/auth/otp", json={"phone": phone}).status_code == 202
    response = client.post("/api/v1/auth/token", json={"phone": phone, "code": latest_code(client, phone)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def staff_token(client, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# Merchants and campaigns ------------------------------------------------------------------------------

_usccs = itertools.count(1)
TEST_NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)  # where the ``clock`` fixture starts
# A deliberately cheap hash of PASSWORD for accounts that tests about access need in numbers: the
# real hash costs a tenth of a second, and these tests are about who may do what, not about passwords.
_CHEAP_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def valid_uscc() -> str:
    """A unified social credit code that passes the GB 32100 check, different on every call."""
    first17 = f"92510802{next(_usccs):09d}"
    return first17 + check_character(first17)


def merchant_body(**changes) -> dict:
    """A registration that breaks no rule (the city's districts must be loaded)."""
    n = next(_names)
    body = {"name": f"凤街小吃{n}号店", "uscc": valid_uscc(), "category": "catering", "district": "lizhou",
            "address": "利州区凤街1号", "contact_phone": "13800138000", "owner_username": f"owner{n}",
            "owner_password": PASSWORD}
    body.update(changes)
    return body


def make_merchant(status: MerchantStatus = MerchantStatus.pending, reason: str | None = None,
                  **changes) -> tuple[Merchant, User]:
    """A merchant registered through the service, then put in ``status`` directly; and its owner."""
    merchant, owner = register_merchant(MerchantIn(**merchant_body(**changes)), TEST_NOW)
    if status is not MerchantStatus.pending:
        merchant.status, merchant.status_reason = status, reason
        db.session.add(merchant)
        db.session.commit()
    return merchant, owner


def make_account(role: Role, merchant: Merchant | None = None, username: str | None = None) -> User:
    """A staff account (a cashier when given a merchant) with the cheap hash of PASSWORD."""
    user = User(role=role, username=username or f"{role.value}{next(_names)}", password_hash=_CHEAP_HASH,
                merchant_id=merchant.id if merchant else None, is_active=True)
    db.session.add(user)
    db.session.commit()
    return user


def token_for(user: User) -> dict:
    """Bearer headers for ``user``, issued as ``POST /auth/token`` would (without checking a password)."""
    return bearer(issue_token(user)["token"])


def make_campaign(status: CampaignStatus = CampaignStatus.open, *, categories: list[str] | None = None,
                  districts: list[str] | None = None, starts_at: dt.datetime | None = None,
                  ends_at: dt.datetime | None = None, name: str | None = None) -> Campaign:
    """A campaign with one tier and one round, written directly (not through the campaign service).

    By default it opened an hour before the test clock and runs for thirty days, for every kind of
    shop in every district.
    """
    starts_at = starts_at or TEST_NOW - dt.timedelta(hours=1)
    ends_at = ends_at or TEST_NOW + dt.timedelta(days=30)
    campaign = Campaign(
        name=name or f"夜间消费券{next(_names)}", kind=CampaignKind.night_economy, status=status,
        budget_cents=1_000_000, starts_at=starts_at, ends_at=ends_at, merchant_categories=categories or [],
        districts=districts or [], limit_per_resident=2, limit_per_round=1, valid_days=7,
        created_at=TEST_NOW - dt.timedelta(days=2), updated_at=TEST_NOW - dt.timedelta(days=2),
        published_at=None if status is CampaignStatus.draft else TEST_NOW - dt.timedelta(days=1))
    tier = Tier(position=0, name="满100减30", threshold_cents=10_000, discount_cents=3_000, quantity=100)
    campaign.tiers = [tier]
    db.session.add(campaign)
    db.session.flush()
    campaign.rounds = [Round(position=0, release_at=starts_at,
                             allocations=[RoundAllocation(tier_id=tier.id, quantity=100)])]
    db.session.commit()
    return campaign


def race_a_rival(rival_insert, action, app):
    """What ``action`` returns (or raises) when a rival transaction inserts the same row meanwhile.

    The rival executes ``rival_insert`` and keeps its transaction open while ``action`` runs in
    another thread (with its own app context), then commits. On PostgreSQL the action's own check
    cannot see the uncommitted row, so its insert waits on the unique index and fails when the rival
    commits: the path "the constraint has the last word". On SQLite the rival holds the write lock,
    so the action waits for it and then sees the row.
    """
    outcome: dict = {}

    def run():
        with app.app_context():
            try:
                outcome["result"] = action()
            except Exception as exc:  # handed to the test, which asserts what it should be
                outcome["error"] = exc
            finally:
                db.session.remove()

    with db.engine.connect() as rival:
        transaction = rival.begin()
        rival.execute(rival_insert)
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(timeout=0.5)  # long enough to reach the insert; the join below waits for the end
        transaction.commit()
    worker.join()
    db.session.commit()  # ends the test's own read transaction: on SQLite its snapshot predates the race
    return outcome
