"""Demo data for development: the city's plan and accounts anyone trying the platform can use.

Running it again changes nothing that is already there.
"""
from __future__ import annotations

import click
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from campaigns.demo import load_demo_campaigns
from campaigns.service import city_data_file, load_city_data
from merchants.demo import load_demo_merchants
from voucher_app.accounts.models import User
from voucher_app.accounts.service import create_staff
from voucher_app.complaints.demo import load_demo_complaints
from voucher_app.core.clock import now
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.disclosure.demo import load_demo_disclosure
from voucher_app.fraud.demo import load_demo_fraud
from voucher_app.lottery.demo import enter_demo_residents, load_demo_lottery
from voucher_app.redemptions.demo import load_demo_activity
from voucher_app.vouchers.issuing import publish_campaign

DEMO_STAFF = [  # (username, password, role, name, district)
    ("admin", "admin-demo-2026", Role.admin, "商务局管理员", None),
    ("viewer", "viewer-demo-2026", Role.viewer, "责任单位查看员", None),
    ("worker1", "worker-demo-2026", Role.community_worker, "利州区社区工作者", "lizhou"),
]


def load_demo() -> list[str]:
    """Load the demo; return lines telling a person how to sign in."""
    counts = load_city_data(city_data_file())
    lines = ["city data: " + ", ".join(f"{n} {what}" for what, n in counts.items())]
    with force_locale("zh"):
        for username, password, role, name, district in DEMO_STAFF:
            if db.session.scalars(select(User.id).where(User.username == username)).first() is None:
                create_staff(username, password, role, display_name=name, district=district)
            lines.append(f"{role.value}: sign in at /staff/login as {username} / {password}"
                         + (f" (district {district}: registers and helps residents at /community)" if district else ""))
    admin = db.session.scalars(select(User).where(User.username == DEMO_STAFF[0][0])).one()
    lines += load_demo_campaigns(admin, now(), publish_campaign)
    lines += load_demo_lottery(admin, now(), publish_campaign)
    lines += load_demo_merchants(admin, now())
    lines += load_demo_activity(admin, now())
    lines += load_demo_fraud(now())
    lines += load_demo_complaints(admin, now())
    lines += load_demo_disclosure(admin, now())
    enter_demo_residents(now())
    lines.append("resident: sign in at /login with any mobile number; the code appears at /dev/outbox")
    return lines


@click.command("demo")
def demo_command():
    """Load the city's data and demo accounts (development and testing only)."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("the demo has well-known passwords: it is not loaded in production")
    for line in load_demo():
        click.echo(line)
