"""In a real browser: an officer opens the fraud queue, opens the top flag, reads the evidence table and
confirms the fraud with a note (accepting the warning that the subsidy is clawed back)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.builders import PASSWORD, make_staff
from tests.fraud.plant import EVALUATED_AT, Plant, city_time
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.fraud import service
from voucher_app.fraud.models import Flag, FlagStatus
from voucher_app.redemptions.models import Redemption


def test_an_officer_reviews_and_confirms_a_flag(desk_page, server, app):
    plant = Plant()
    shop, cashier = plant.shop(name="夜猫子烧烤", opening_hours="10:00-22:00")
    night = plant.sales(shop, cashier, [city_time(day, 3, 15) for day in range(2, 10)])
    service.evaluate(EVALUATED_AT.astimezone(dt.timezone.utc))
    admin = make_staff(Role.admin)

    page = desk_page
    page.goto("/staff/login")
    page.get_by_label("用户名").fill(admin.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="违规预警").click()
    row = page.get_by_test_id("flag-row").first
    assert "夜猫子烧烤" in row.inner_text() and "非营业时间核销" in row.inner_text()
    row.get_by_test_id("open-flag").click()

    assert "8 笔" in page.get_by_test_id("explanation").inner_text()
    evidence = page.get_by_test_id("evidence-row")
    assert evidence.count() == 8
    assert "03:15" in evidence.first.inner_text() and "R-" in evidence.first.inner_text()
    page.get_by_test_id("note").fill("店主承认凌晨替人刷券。")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("confirm").click()

    page.get_by_test_id("resolution").wait_for()
    assert "店主承认凌晨替人刷券。" in page.get_by_test_id("resolution").inner_text()
    assert page.get_by_test_id("evidence").get_by_text("已追回").count() == 8
    db.session.expire_all()
    flag = db.session.scalars(select(Flag)).one()
    assert flag.status is FlagStatus.confirmed
    assert all(db.session.get(Redemption, rid).clawed_back_at for rid in night)
