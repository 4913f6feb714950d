"""Demo data for development: the city's plan and accounts anyone trying the platform can use.

Running it again changes nothing that is already there.
"""
from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import select

from campaigns.demo import load_demo_campaigns
from campaigns.service import city_data_file, load_city_data
from merchants.demo import load_demo_merchants

from .accounts.models import Role, User
from .accounts.service import create_staff
from .clock import now
from .extensions import db
from .vouchers.demo import load_demo_activity

DEMO_STAFF = [
    ("admin", "admin-demo-2026", Role.admin, "商务局管理员"),
    ("viewer", "viewer-demo-2026", Role.viewer, "责任单位查看员"),
]


def load_demo() -> list[str]:
    """Load the demo; return lines telling a person how to sign in."""
    counts = load_city_data(city_data_file())
    lines = ["city data: " + ", ".join(f"{n} {what}" for what, n in counts.items())]
    with force_locale("zh"):
        for username, password, role, name in DEMO_STAFF:
            if db.session.scalars(select(User.id).where(User.username == username)).first() is None:
                create_staff(username, password, role, display_name=name)
            lines.append(f"{role.value}: sign in at /staff/login as {username} / {password}")
    admin = db.session.scalars(select(User).where(User.username == DEMO_STAFF[0][0])).one()
    lines += load_demo_campaigns(admin, now())
    lines += load_demo_merchants(admin, now())
    lines += load_demo_activity(admin, now())
    lines.append("resident: sign in at /login with any mobile number; the code appears at /dev/outbox")
    return lines
