"""Demo disclosure: the trusted-merchant badge on two shops with a clean record (and no fraud flag
awaiting review), and two consumption warnings (the whole city, and one kind of shop). Running it
again changes nothing."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from merchants import credit
from merchants.models import Merchant, MerchantStatus
from merchants.service import grant_badge
from voucher_app.accounts.models import User
from voucher_app.core.errors import DomainError
from voucher_app.core.extensions import db
from voucher_app.disclosure.models import ConsumptionWarning
from voucher_app.disclosure.schemas import WarningIn
from voucher_app.disclosure.service import publish_warning
from voucher_app.fraud.models import Flag, FlagStatus

WARNINGS = [
    (None, "节假日期间请认准“放心舒心消费示范单位”标识；如遇拒收消费券、先涨价后打折，请在钱包中一键投诉。", 30),
    ("catering", "近期有餐饮商户以“包间费”“服务费”名义变相加价，用券前请先确认价格。", 14),
]


def load_demo_disclosure(admin: User, now: dt.datetime) -> list[str]:
    if db.session.scalars(select(ConsumptionWarning.id)).first() is None:
        _publish(admin, now)
    warnings = db.session.scalar(select(func.count(ConsumptionWarning.id)))
    badged = db.session.scalars(select(Merchant.name).where(Merchant.badge_granted_at.is_not(None))
                                .order_by(Merchant.name)).all()
    return [f"disclosure: {warnings} consumption warnings; the trusted-merchant badge on "
            f"{', '.join(badged) or 'no shop'} (public pages at /shops)"]


def _publish(admin: User, now: dt.datetime) -> None:
    for category, text, days in WARNINGS:
        try:
            publish_warning(WarningIn(text=text, category=category, starts_at=now - dt.timedelta(hours=1),
                                      ends_at=now + dt.timedelta(days=days)), admin, now)
        except DomainError:
            continue  # a category this city's plan does not have
    badged = []
    under_review = set(db.session.scalars(select(Flag.merchant_id).where(Flag.status == FlagStatus.open)))
    for merchant in db.session.scalars(select(Merchant).where(Merchant.status == MerchantStatus.approved)
                                       .order_by(Merchant.name)):
        if len(badged) == 2:
            break
        if merchant.id in under_review or credit.badge_unmet(merchant, now):
            continue
        grant_badge(merchant.id, "信用记录良好，无投诉成立、无违规记录。", admin, now)
        badged.append(merchant.name)
