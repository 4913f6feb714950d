"""The world the accessibility audit walks: the demo (``voucher demo``), loaded by the wall clock because
the real server answers by it, plus the few objects the demo leaves out (a draft campaign, settled days, a
resident a community worker registered); and the list of page visits, each page as the person who sees it.

The demo is the richest world the app knows: long tables, charts, open and decided complaints, fraud
flags, a lottery taking entries, vouchers claimed, used and refunded. A page shows most of its markup
there, which is what an audit of that markup needs.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from campaigns.models import Campaign, CampaignStatus, Round
from campaigns.schemas import CampaignIn
from campaigns.service import create_campaign
from tests.builders import id_number
from tests.campaign_data import campaign_body
from voucher_app.accounts.models import User
from voucher_app.community.service import register_resident
from voucher_app.complaints.models import Complaint
from voucher_app.core.extensions import db
from voucher_app.demo import DEMO_STAFF, load_demo
from voucher_app.fraud.models import Flag
from voucher_app.redemptions.models import Redemption
from voucher_app.settlement.models import SettlementStatement
from voucher_app.settlement.service import settle
from voucher_app.vouchers.models import Voucher, VoucherStatus

ANONYMOUS, RESIDENT, OWNER, CASHIER = "anonymous", "resident", "shop owner", "cashier"
ADMIN, VIEWER, WORKER = "bureau admin", "viewer", "community worker"
ROLES = (ANONYMOUS, RESIDENT, OWNER, CASHIER, ADMIN, VIEWER, WORKER)
LANGUAGES = ("zh", "en")
DEMO_PASSWORDS = {username: password for username, password, *_ in DEMO_STAFF}
SHOP_PASSWORD, CASHIER_PASSWORD = "merchant-demo-2026", "cashier-demo-2026"  # the demo's (merchants/demo.py)


@dataclass(frozen=True)
class Visit:
    """One page as one person sees it; ``large`` in large type."""

    role: str
    rule: str  # the route, as ``app.url_map`` names it
    path: str
    large: bool = False

    def __str__(self) -> str:
        return f"{self.path} as {self.role}" + (" in large type" if self.large else "")


@dataclass
class A11yWorld:
    resident_phone: str
    staff: dict[str, tuple[str, str]]  # each staff role's username and password
    ids: dict[str, str]

    def visits(self) -> list[Visit]:
        """Every HTML page, as each person who sees it: the bureau's pages as the admin, who sees all their
        forms, and those a viewer sees otherwise (without the forms) as the viewer too; the resident's
        pages and the sign-in again in large type."""
        i = self.ids
        public = [
            ("/", "/"), ("/login", "/login"), ("/staff/login", "/staff/login"),
            ("/merchants/register", "/merchants/register"), ("/campaigns", "/campaigns"),
            ("/campaigns/<campaign_id>", f"/campaigns/{i['campaign']}"),
            ("/campaigns/<campaign_id>/rounds/<round_id>/draw", f"/campaigns/{i['lottery']}/rounds/{i['round']}/draw"),
            ("/shops", "/shops"), ("/shops/<merchant_id>", f"/shops/{i['shop']}"),
            ("/public/complaints", "/public/complaints"), ("/public/suspended", "/public/suspended"),
            ("/dev/outbox", "/dev/outbox"),
        ]
        resident = [
            ("/", "/"), ("/campaigns", "/campaigns"), ("/campaigns/<campaign_id>", f"/campaigns/{i['campaign']}"),
            ("/campaigns/<campaign_id>", f"/campaigns/{i['lottery']}"),
            ("/wallet", "/wallet"), ("/wallet/<voucher_id>", f"/wallet/{i['voucher']}"),
            ("/me/profile", "/me/profile"), ("/me/complaints", "/me/complaints"),
            ("/complaints/new", "/complaints/new"),
            ("/complaints/new", f"/complaints/new?merchant_id={i['sale_shop']}&redemption_id={i['sale']}"),
            ("/me/return-requests/new", f"/me/return-requests/new?redemption_id={i['sale']}"),
        ]
        shop = [
            ("/shop", "/shop"), ("/shop/settlements", "/shop/settlements"),
            ("/shop/settlements/<statement_id>", f"/shop/settlements/{i['statement']}"),
            ("/merchant/complaints", "/merchant/complaints"), ("/merchant/returns", "/merchant/returns"),
            ("/till", "/till"), ("/staff/security", "/staff/security"),
        ]
        cashier = [("/till", "/till"), ("/shop", "/shop")]
        bureau = [
            ("/bureau/campaigns", "/bureau/campaigns"),
            ("/bureau/campaigns/<campaign_id>", f"/bureau/campaigns/{i['campaign']}"),
            ("/bureau/campaigns/<campaign_id>", f"/bureau/campaigns/{i['lottery']}"),
            ("/bureau/enrolments", "/bureau/enrolments"), ("/bureau/merchants", "/bureau/merchants?status=approved"),
            ("/bureau/merchants/<merchant_id>", f"/bureau/merchants/{i['shop']}"),
            ("/bureau/reports", "/bureau/reports"), ("/bureau/reports/measures/<code>", "/bureau/reports/measures/M12"),
            ("/bureau/reports/campaigns/<campaign_id>", f"/bureau/reports/campaigns/{i['campaign']}"),
            ("/bureau/reports/campaigns/<campaign_id>/live", f"/bureau/reports/campaigns/{i['campaign']}/live"),
            ("/bureau/settlements", "/bureau/settlements"),
            ("/bureau/settlements/<statement_id>", f"/bureau/settlements/{i['statement']}"),
            ("/bureau/complaints", "/bureau/complaints"),
            ("/bureau/complaints/<complaint_id>", f"/bureau/complaints/{i['complaint']}"),
            ("/bureau/flags", "/bureau/flags"), ("/bureau/flags/<flag_id>", f"/bureau/flags/{i['flag']}"),
            ("/bureau/fraud-rules", "/bureau/fraud-rules"), ("/bureau/warnings", "/bureau/warnings"),
            ("/staff/security", "/staff/security"),
        ]
        admin_only = [
            ("/bureau/campaigns/new", "/bureau/campaigns/new"),
            ("/bureau/campaigns/<campaign_id>/edit", f"/bureau/campaigns/{i['draft']}/edit"),
            ("/bureau/residents/low-income", "/bureau/residents/low-income"),
        ]
        worker = [("/community", "/community"),
                  ("/community/residents/<resident_id>", f"/community/residents/{i['registered']}")]
        read_only = [page for page in bureau if page[0] in (
            "/bureau/campaigns/<campaign_id>", "/bureau/merchants/<merchant_id>", "/bureau/complaints/<complaint_id>",
            "/bureau/flags/<flag_id>", "/bureau/fraud-rules", "/bureau/warnings")]
        by_role = {ANONYMOUS: public, RESIDENT: resident, OWNER: shop, CASHIER: cashier,
                   ADMIN: bureau + admin_only, VIEWER: read_only, WORKER: worker}
        visits = [Visit(role, rule, path) for role, pages in by_role.items() for rule, path in pages]
        visits += [Visit(RESIDENT, rule, path, large=True) for rule, path in resident]
        visits += [Visit(ANONYMOUS, rule, path, large=True) for rule, path in public if path in ("/login", "/campaigns")]
        return visits


def build_world(app: Flask) -> A11yWorld:
    """The demo by the app's clock (which the caller sets to the wall clock), and what it leaves out."""
    clock = app.extensions["voucher.clock"]
    with app.app_context():
        load_demo()
        now = clock.now()
        settle(now + dt.timedelta(days=1))  # the demo's sales, settled as the nightly job would
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        worker = db.session.scalars(select(User).where(User.username == "worker1")).one()
        starts = now.replace(microsecond=0) + dt.timedelta(days=20)
        draft = create_campaign(CampaignIn(**campaign_body(
            name="春节消费券（草稿）", starts_at=starts.isoformat(), ends_at=(starts + dt.timedelta(days=30)).isoformat(),
            rounds=[{"release_at": starts.isoformat(), "quantities": [500, 250]}])), admin, now)
        registered = register_resident(worker, "王秀英", id_number("51080219500101001"), "lizhou", None, True, now)
        db.session.commit()

        open_campaign = db.session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.open,
                                                                  Campaign.allocation != "lottery")
                                           .order_by(Campaign.created_at)).first()
        lottery_round = db.session.scalars(select(Round).join(Campaign, Campaign.id == Round.campaign_id)
                                           .where(Campaign.allocation == "lottery")).first()
        # A resident with a voucher to show and a purchase to complain about or ask back.
        sale = db.session.execute(
            select(Redemption.id, Redemption.merchant_id, Voucher.resident_id)
            .join(Voucher, Voucher.id == Redemption.voucher_id)
            .where(Redemption.refunded_at.is_(None), Redemption.clawed_back_at.is_(None),
                   Voucher.resident_id.in_(select(Voucher.resident_id)
                                           .where(Voucher.status == VoucherStatus.claimed, Voucher.expires_at > now)))
            .order_by(Redemption.redeemed_at.desc())).first()
        assert sale is not None, "the demo has no resident with a purchase and a voucher still to use"
        resident = db.session.get(User, sale.resident_id)
        voucher = db.session.scalars(select(Voucher.id).where(Voucher.resident_id == resident.id,
                                                              Voucher.status == VoucherStatus.claimed,
                                                              Voucher.expires_at > now)).first()
        owner = db.session.scalars(select(User).where(User.username == "shop1")).one()
        statement = db.session.scalars(select(SettlementStatement.id)
                                       .where(SettlementStatement.merchant_id == owner.merchant_id)).first()
        assert statement, "shop1 has no settlement statement"
        ids = {"campaign": open_campaign.id, "lottery": lottery_round.campaign_id, "round": lottery_round.id,
               "draft": draft.id, "shop": owner.merchant_id, "voucher": voucher, "sale": sale.id,
               "sale_shop": sale.merchant_id, "statement": statement, "registered": registered.id,
               "complaint": db.session.scalars(select(Complaint.id).order_by(Complaint.created_at)).first(),
               "flag": db.session.scalars(select(Flag.id)).first()}
        assert all(ids.values()), ids
        staff = {OWNER: ("shop1", SHOP_PASSWORD), CASHIER: ("cashier1", CASHIER_PASSWORD),
                 ADMIN: ("admin", DEMO_PASSWORDS["admin"]), VIEWER: ("viewer", DEMO_PASSWORDS["viewer"]),
                 WORKER: ("worker1", DEMO_PASSWORDS["worker1"])}
        return A11yWorld(resident_phone=resident.phone, staff=staff, ids=ids)
