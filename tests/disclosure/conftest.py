"""Builders the disclosure tests share: shops, complaints written directly as rows, and an admin."""
from __future__ import annotations

import datetime as dt

import pytest

from merchants.models import MerchantStatus
from tests.builders import TEST_NOW, make_account, make_merchant, next_phone, token_for
from voucher_app.accounts.models import User
from voucher_app.complaints.models import Complaint, ComplaintKind, ComplaintStatus
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role

SHOP_PHONE = "13812345678"  # every shop's contact phone here: it must never reach a public answer


@pytest.fixture
def admin(city) -> User:
    return make_account(Role.admin)


@pytest.fixture
def admin_headers(admin) -> dict:
    return token_for(admin)


def shop(status: MerchantStatus = MerchantStatus.approved, **changes):
    """A shop (and its owner) in ``status``, approved a year before the test clock unless told otherwise."""
    merchant, owner = make_merchant(status, contact_phone=SHOP_PHONE, **changes)
    if status in (MerchantStatus.approved, MerchantStatus.suspended):
        merchant.reviewed_at = TEST_NOW - dt.timedelta(days=365)
        db.session.commit()
    return merchant, owner


def resident(phone: str | None = None) -> User:
    user = User(role=Role.resident, phone=phone or next_phone(), is_active=True)
    db.session.add(user)
    db.session.commit()
    return user


def complaint(merchant, *, status: ComplaintStatus = ComplaintStatus.open, made: dt.datetime = TEST_NOW,
              replied_after: dt.timedelta | None = None, decided_after: dt.timedelta | None = None,
              author: User | None = None) -> Complaint:
    """A complaint row about ``merchant`` made at ``made`` (the complaints domain is built elsewhere)."""
    row = Complaint(resident_id=(author or resident()).id, merchant_id=merchant.id, kind=ComplaintKind.surcharge,
                    text="收银员要求另付服务费", status=status, created_at=made, due_at=made + dt.timedelta(days=7),
                    replied_at=made + replied_after if replied_after else None,
                    reply_text="已整改" if replied_after else None,
                    decided_at=made + decided_after if decided_after else None)
    db.session.add(row)
    db.session.commit()
    return row
