"""Demo complaints: what residents said about the shops where they used their vouchers.

One complaint the bureau upheld after the shop's reply (it shows on the shop's public page and in its
credit record), one still open and overdue in the bureau's queue, and a return request the shop has not
answered yet. Running it again changes nothing.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from merchants.models import Merchant, MerchantStatus
from voucher_app.accounts.models import User
from voucher_app.complaints import service
from voucher_app.complaints.models import Complaint, ComplaintStatus, ReturnRequest, ReturnStatus
from voucher_app.core.errors import DomainError
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.redemptions.models import Redemption
from voucher_app.vouchers.models import Voucher


def load_demo_complaints(admin: User, now: dt.datetime) -> list[str]:
    if db.session.scalars(select(Complaint.id)).first() is None:
        _file(admin, now)
    return _describe()


def _describe() -> list[str]:
    """What the demo's complaints look like now: the same lines on every run."""
    def shop_of(model, status) -> str | None:
        return db.session.scalars(select(Merchant.name).join(model, model.merchant_id == Merchant.id)
                                  .where(model.status == status).order_by(model.created_at)).first()

    upheld, open_ = shop_of(Complaint, ComplaintStatus.upheld), shop_of(Complaint, ComplaintStatus.open)
    if upheld is None or open_ is None:
        return []
    lines = [f"complaints: one upheld about {upheld}, one open and overdue about {open_} "
             "(/bureau/complaints as admin; public statistics at /public/complaints)"]
    pending = shop_of(ReturnRequest, ReturnStatus.pending)
    if pending is not None:
        lines.append(f"return request: a resident asked {pending} to refund a purchase (/merchant/returns as its owner)")
    return lines


def _file(admin: User, now: dt.datetime) -> None:
    sales = db.session.execute(
        select(Redemption, User, Merchant).join(Voucher, Voucher.id == Redemption.voucher_id)
        .join(User, User.id == Voucher.resident_id).join(Merchant, Merchant.id == Redemption.merchant_id)
        .where(Redemption.refunded_at.is_(None), Redemption.clawed_back_at.is_(None),
               Merchant.status == MerchantStatus.approved, Redemption.redeemed_at < now)
        .order_by(Redemption.redeemed_at.desc()).limit(200)).all()
    by_shop: dict[str, tuple[Redemption, User, Merchant]] = {}
    for sale, resident, shop in sales:
        by_shop.setdefault(shop.id, (sale, resident, shop))
    if len(by_shop) < 3:
        return
    (sale1, resident1, shop1), (sale2, resident2, shop2), (sale3, resident3, shop3) = list(by_shop.values())[:3]
    upheld = service.file_complaint(resident1, shop1.id, "surcharge", "用券后店家说要另收 20 元服务费，菜单上没有写。",
                                    sale1.id, now - dt.timedelta(days=6))
    owner = db.session.scalars(select(User).where(User.merchant_id == shop1.id,
                                                  User.role == Role.merchant_owner)).first()
    if owner is not None:
        service.reply(upheld.id, owner, "服务费是包间费，已向顾客说明，愿意退还。", now - dt.timedelta(days=5))
    service.decide(upheld.id, admin, "upheld", "经核查，服务费未事先公示，违反明码标价规定；商户已退还 20 元。",
                   now - dt.timedelta(days=4))
    service.file_complaint(resident2, shop2.id, "refused_voucher", "晚上九点去用券，收银员说这张券只能白天用，拒绝核销。",
                           sale2.id, now - dt.timedelta(days=5))
    try:
        service.ask_refund(resident3, sale3.id, "尺码不合适，想退货。", now - dt.timedelta(hours=2))
    except DomainError:
        pass  # the sale is past the refund window: no request to show
