"""Demo merchants across the city's districts and trades, some on the night streets the plan names;
approved, with a cashier, and enrolled in the demo campaigns they are eligible for.

Built through the same services as registration and the bureau's review. Running it again changes
nothing that is already there.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from campaigns.models import Campaign, CampaignStatus, District
from merchants import service
from merchants.models import Merchant
from merchants.schemas import MerchantIn, StaffIn
from merchants.uscc import check_character
from voucher_app.accounts.models import User
from voucher_app.core.errors import DomainError
from voucher_app.core.extensions import db

OWNER_PASSWORD = "merchant-demo-2026"
CASHIER_PASSWORD = "cashier-demo-2026"

# name, category, district, address, landline or mobile
DEMO_MERCHANTS = [
    ("凤街老字号蒸凉面", "catering", "lizhou", "利州区皇泽寺凤街12号", "0839-3261001"),
    ("金橄榄夜宵烧烤", "catering", "lizhou", "利州区金橄榄广场B区8号", "0839-3261002"),
    ("凤街文创生活馆", "retail", "lizhou", "利州区皇泽寺凤街36号", "0839-3261003"),
    ("大华1939咖啡工坊", "catering", "lizhou", "利州区大华1939民族工业遗址文创园2栋", "0839-3261004"),
    ("利州万家惠超市", "supermarket", "lizhou", "利州区东坝南河路88号", "0839-3261005"),
    ("昭化西市酒肆", "catering", "zhaohua", "昭化区昭化古城西市街5号", "0839-3262001"),
    ("昭化古城客栈", "accommodation", "zhaohua", "昭化区昭化古城太守街18号", "0839-3262002"),
    ("朝天明月峡景区", "tourism", "chaotian", "朝天区明月峡景区游客中心", "0839-3263001"),
    ("旺苍红场夜市火锅", "catering", "wangcang", "旺苍县红场步行街3号", "0839-3264001"),
    ("旺苍红场影城", "entertainment", "wangcang", "旺苍县红场广场4楼", "0839-3264002"),
    ("青川唐家河山居", "accommodation", "qingchuan", "青川县唐家河景区入口", "0839-3265001"),
    ("剑门关豆腐宴", "catering", "jiange", "剑阁县剑门关镇翠屏街1号", "0839-3266001"),
    ("剑门关景区", "tourism", "jiange", "剑阁县剑门关景区", "0839-3266002"),
    ("苍溪红心猕猴桃直营店", "agriculture", "cangxi", "苍溪县陵江镇滨江路66号", "0839-3267001"),
    ("苍溪家电城", "appliances", "cangxi", "苍溪县北门大道120号", "0839-3267002"),
    ("经开区汽车生活广场", "auto", "etdz", "广元经济技术开发区袁家坝大道9号", "0839-3268001"),
]


def demo_uscc(n: int, division: str) -> str:
    """A valid code for demo shop ``n`` (organisation code with its GB 11714 check, then GB 32100)."""
    org = f"{7300_0000 + n:08d}"
    check = 11 - sum(int(c) * w for c, w in zip(org, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    first17 = "92" + division + org + {10: "X", 11: "0"}.get(check, str(check))
    return first17 + check_character(first17)


# The shops joined the platform before the autumn campaign (long enough for the credit record to
# allow the trusted-merchant badge, which asks for 90 days).
JOINED_BEFORE = dt.timedelta(days=120)


def load_demo_merchants(admin: User, now: dt.datetime) -> list[str]:
    """Register, approve and enrol the demo shops that do not exist yet; return sign-in help."""
    divisions = {d.code: d.gb_code or "510800" for d in db.session.scalars(select(District))}
    campaigns = list(db.session.scalars(select(Campaign).where(
        Campaign.status.in_([CampaignStatus.scheduled, CampaignStatus.open]))))
    joined = now - JOINED_BEFORE
    for n, (name, category, district, address, phone) in enumerate(DEMO_MERCHANTS, start=1):
        if db.session.scalars(select(Merchant.id).where(Merchant.name == name)).first():
            continue
        merchant, _owner = service.register_merchant(MerchantIn.model_validate({
            "name": name, "uscc": demo_uscc(n, divisions[district]), "category": category, "district": district,
            "address": address, "contact_phone": phone, "owner_username": f"shop{n}",
            "owner_password": OWNER_PASSWORD}), joined)
        service.approve_merchant(merchant.id, None, admin, joined)
        service.add_cashier(merchant.id, StaffIn.model_validate(
            {"username": f"cashier{n}", "password": CASHIER_PASSWORD}), admin, joined)
        owner = db.session.scalars(select(User).where(User.username == f"shop{n}")).one()
        for campaign in campaigns:
            if service.ineligibility(campaign, merchant):
                continue
            try:
                enrolment = service.apply_for_campaign(campaign.id, merchant.id, owner, now)
            except DomainError:
                continue
            service.approve_enrolment(enrolment.id, None, admin, now)
    return [f"merchants: {len(DEMO_MERCHANTS)} shops; owners shop1…shop{len(DEMO_MERCHANTS)} / {OWNER_PASSWORD}, "
            f"cashiers cashier1…cashier{len(DEMO_MERCHANTS)} / {CASHIER_PASSWORD} (at /staff/login)"]
