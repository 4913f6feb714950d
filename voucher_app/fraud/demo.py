"""Demo fraud: one shop of the autumn campaign "cashes out" vouchers, so the bureau's queue has a case.

Residents who claimed an autumn voucher and never used it hand it to the shop, which rings up a bill
a few fen above the threshold for each (满100 → 100.00–100.40) without a sale: the pattern Hong Kong's
and Shanghai's schemes met. The rules are then evaluated as the scheduler would, and the flag waits at
``/bureau/flags``. Seeded; running it again changes nothing.
"""
from __future__ import annotations

import datetime as dt
import random
import uuid

from sqlalchemy import func, select

from campaigns.models import Campaign
from merchants.models import Merchant
from voucher_app.core.clock import city_zone
from voucher_app.core.errors import DomainError
from voucher_app.core.extensions import db
from voucher_app.fraud import service
from voucher_app.fraud.models import Flag, FlagStatus
from voucher_app.redemptions.demo import AUTUMN, enrolled_tills
from voucher_app.redemptions.hours import within
from voucher_app.redemptions.service import redeem
from voucher_app.vouchers.models import Voucher, VoucherStatus
from voucher_app.vouchers.tokens import sign

CASH_OUT_SALES = 60
LOOKBACK = dt.timedelta(days=60)  # the autumn campaign lies further back than the scheduler's window


def load_demo_fraud(now: dt.datetime) -> list[str]:
    if db.session.scalars(select(Flag.id)).first() is None:
        _cash_out(now)
    flagged = db.session.execute(
        select(Merchant.name, func.count(Flag.id)).join(Flag, Flag.merchant_id == Merchant.id)
        .where(Flag.status == FlagStatus.open).group_by(Merchant.name).order_by(Merchant.name)).all()
    if not flagged:
        return []
    shops = ", ".join(f"{name} ({count})" for name, count in flagged)
    return [f"fraud: a shop rang up autumn vouchers at a few fen over the threshold without a sale; open flags "
            f"about {shops} wait for review at /bureau/flags (as admin)"]


def _cash_out(now: dt.datetime) -> None:
    autumn = db.session.scalars(select(Campaign).where(Campaign.name == AUTUMN)).first()
    tills = enrolled_tills(autumn) if autumn is not None else []
    if not tills:
        return
    _, cashier = min(tills, key=lambda till: till[0].name)  # the first shop by name: the same on every install
    rng = random.Random(17)
    unused = db.session.scalars(select(Voucher).where(Voucher.campaign_id == autumn.id,
                                                      Voucher.status == VoucherStatus.claimed,
                                                      Voucher.threshold_cents > 0, Voucher.discount_cents > 0)
                                .order_by(Voucher.id).limit(CASH_OUT_SALES)).all()
    for voucher in unused:
        moment = _evening(voucher, autumn, rng, now)
        if moment is None:
            continue
        token, _ = sign(voucher.id, moment)
        try:
            redeem(token, voucher.threshold_cents + rng.randrange(0, 41), cashier, moment, uuid.uuid4().hex)
        except DomainError:
            continue
    service.evaluate(now, since=now - LOOKBACK)


def _evening(voucher: Voucher, campaign: Campaign, rng: random.Random, now: dt.datetime) -> dt.datetime | None:
    """A moment on one of the evenings after the claim at which the voucher could be used."""
    for days in range(1, 4):
        local = (voucher.claimed_at + dt.timedelta(days=days)).astimezone(city_zone())
        moment = local.replace(hour=19, minute=rng.randrange(60), second=rng.randrange(60))
        if moment >= now or (voucher.expires_at is not None and moment >= voucher.expires_at):
            return None
        if within(moment, city_zone(), campaign.valid_from, campaign.valid_to, campaign.valid_weekdays):
            return moment
    return None
