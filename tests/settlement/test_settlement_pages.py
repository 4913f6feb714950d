"""The settlement pages as a shop owner and the bureau meet them: the statements of the known world to
the fen, what held and negative days mean, filters, paging, one statement traced to its sales, who
may see what, and the CSV and XLSX exports."""
from __future__ import annotations

import csv
import html
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.app.test_pages import sign_in_staff, text
from tests.builders import PASSWORD, make_account
from tests.settlement.test_settlements_api import owner_of, settle, settled, world  # noqa: F401  (fixtures)
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.settlement.models import SettlementStatement


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


def sign_in(client, user) -> None:
    response = sign_in_staff(client, user.username, PASSWORD)
    assert response.status_code == 302, text(response)


def page(client, path: str, **query) -> str:
    response = client.get(path, query_string=query or None)
    assert response.status_code == 200, text(response)
    return text(response)


def rows(body: str) -> list[tuple[str, str]]:
    """(day, the row's text) of each statement row, in the page's order."""
    found = re.findall(r'<tr data-testid="statement-row" data-statement-id="\w+" data-day="([\d-]+)">(.*?)</tr>',
                       body, re.S)
    return [(day, words(row)) for day, row in found]


def words(fragment: str) -> str:
    """What a reader sees of an HTML fragment: its text, spaces squeezed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def shown(body: str, name: str) -> str:
    return words(re.search(rf'data-testid="{name}"[^>]*>(.*?)</(?:p|div|dd|td)>', body, re.S).group(1))


def statement_ids(body: str) -> dict[str, str]:
    return dict(re.findall(r'data-statement-id="(\w+)" data-day="([\d-]+)"', body))


# The shop's statements -------------------------------------------------------------------------------

def test_the_owner_reads_the_shops_statements_to_the_fen(client, settled):
    sign_in(client, owner_of(settled.a))
    body = page(client, "/shop/settlements", lang="en")
    assert rows(body) == [
        ("2026-12-03", "2026-12-03 1 ¥150 ¥30 ¥0 ¥30 paid"),
        ("2026-12-02", "2026-12-02 1 ¥50 ¥10 ¥0 ¥10 paid"),
        ("2026-12-01", "2026-12-01 1 ¥128 ¥30 ¥0 ¥30 paid"),
    ]
    assert shown(body, "totals") == ("Statements: 3 · redemptions: 3 · consumption ¥328 · subsidy owed ¥70 · "
                                     "refunds ¥0 · net ¥70")
    how = words(body.split('data-testid="how-it-works"')[1].split("</section>")[0])
    assert "02:00" in how and "the day before" in how and "day of the refund" in how
    assert 'href="/shop/settlements.csv"' in body and 'href="/shop/settlements.xlsx"' in body
    assert 'data-testid="more"' not in body and settled.a.name in body
    assert '<a href="/shop/settlements">' in body  # in the header


def test_the_page_is_in_chinese_by_default(client, settled):
    sign_in(client, owner_of(settled.a))
    body = page(client, "/shop/settlements")
    assert '<html lang="zh-CN">' in body and "¥128" in body


def test_a_day_with_more_refunds_than_sales_says_it_is_deducted(client, settled):
    sign_in(client, owner_of(settled.b))
    body = page(client, "/shop/settlements", lang="en")
    day, row = rows(body)[0]
    assert (day, row.split(" More")[0]) == ("2026-12-02", "2026-12-02 0 ¥0 ¥0 1 · ¥30 -¥30 paid")
    assert shown(body, "negative-note") == ("More was refunded than sold this day: ¥30 is deducted from your "
                                            "next payment.")
    assert shown(body, "totals").endswith("refunds ¥30 · net ¥0")


def test_a_suspended_shops_statements_are_held_and_say_why(client, world, clock):
    settle(clock, suspend=world.b)
    sign_in(client, owner_of(world.b))
    body = page(client, "/shop/settlements", lang="en")
    assert [row.split(" held")[0] + " held" for _, row in rows(body)] == [
        "2026-12-02 0 ¥0 ¥0 1 · ¥30 -¥30 held", "2026-12-01 1 ¥200 ¥30 ¥0 ¥30 held"]
    assert shown(body, "held-note") == "Held while your shop is suspended; paid once it is reinstated."
    assert 'data-testid="suspended-note"' in body


def test_the_owner_filters_by_days_and_the_exports_follow(client, settled):
    sign_in(client, owner_of(settled.a))
    body = page(client, "/shop/settlements", lang="en", **{"from": "2026-12-02", "to": "2026-12-03"})
    assert [day for day, _ in rows(body)] == ["2026-12-03", "2026-12-02"]
    assert shown(body, "totals").startswith("Statements: 2 · redemptions: 2 · consumption ¥200 · subsidy owed ¥40")
    assert 'value="2026-12-02"' in body and 'value="2026-12-03"' in body
    assert 'href="/shop/settlements.csv?from=2026-12-02&amp;to=2026-12-03"' in body
    exported = client.get("/shop/settlements.csv?from=2026-12-02&to=2026-12-03&lang=en")
    assert [r[0] for r in csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")))][1:] == [
        "2026-12-03", "2026-12-02"]
    assert 'filename="settlements_2026-12-02_2026-12-03.csv"' in exported.headers["Content-Disposition"]


def test_more_pages_keep_the_filter(client, settled):
    sign_in(client, owner_of(settled.a))
    first = page(client, "/shop/settlements", lang="en", limit=2, **{"to": "2026-12-03"})
    assert [day for day, _ in rows(first)] == ["2026-12-03", "2026-12-02"]
    more = html.unescape(re.search(r'data-testid="more" href="([^"]+)"', first).group(1))
    assert "to=2026-12-03" in more and "limit=2" in more and "cursor=" in more
    second = page(client, more + "&lang=en")
    assert [day for day, _ in rows(second)] == ["2026-12-01"] and 'data-testid="more"' not in second
    assert shown(second, "totals").startswith("Statements: 3 ")  # the totals are the filter's, not the page's


def test_a_bad_date_is_explained(client, settled):
    sign_in(client, owner_of(settled.a))
    response = client.get("/shop/settlements", query_string={"from": "2026-02-30", "lang": "en"})
    assert response.status_code == 422
    assert "Enter a date such as 2026-12-01." in text(response)


def test_one_statement_traces_every_sale_and_refund(client, settled):
    sign_in(client, owner_of(settled.b))
    days = {day: sid for sid, day in statement_ids(page(client, "/shop/settlements")).items()}
    sale_day = page(client, f"/shop/settlements/{days['2026-12-01']}", lang="en")
    assert shown(sale_day, "owed") == "¥30" and shown(sale_day, "bill") == "¥200"
    assert shown(sale_day, "refunded") == "0 refunds, ¥0"
    assert shown(sale_day, "paid-at") == "2026-12-04 02:30"
    line = words(re.search(r'data-testid="line"[^>]*>(.*?)</tr>', sale_day, re.S).group(1))
    assert line.startswith("广元夜间消费券·第一期 1 ¥200 ¥30 ¥0 ¥30")
    sale = words(re.search(r'data-testid="sale"[^>]*>(.*?)</tr>', sale_day, re.S).group(1))
    assert sale == "22:15 广元夜间消费券·第一期 ¥200 ¥30 refunded 2026-12-02 19:00"
    refund_day = page(client, f"/shop/settlements/{days['2026-12-02']}", lang="en")
    assert "No voucher sales this day." in refund_day and shown(refund_day, "refunded") == "1 refund, ¥30"
    refund = words(re.search(r'data-testid="refund"[^>]*>(.*?)</tr>', refund_day, re.S).group(1))
    assert refund == "19:00 2026-12-01 22:15 广元夜间消费券·第一期 ¥200 ¥30"
    assert shown(refund_day, "net") == "-¥30"


def test_the_shop_page_links_to_the_statements(client, settled):
    sign_in(client, owner_of(settled.a))
    shop = page(client, "/shop")
    assert 'data-testid="settlements-link"' in shop and 'href="/shop/settlements"' in shop


# Who may see what ------------------------------------------------------------------------------------

def test_an_owner_cannot_open_another_shops_statement(client, settled):
    theirs = db.session.scalars(select(SettlementStatement.id)
                                .where(SettlementStatement.merchant_id == settled.b.id)).first()
    sign_in(client, owner_of(settled.a))
    assert client.get(f"/shop/settlements/{theirs}").status_code == 404
    assert client.get("/bureau/settlements").status_code == 403
    assert client.get(f"/bureau/settlements/{theirs}").status_code == 403
    assert client.get("/bureau/settlements.csv").status_code == 403


def test_cashiers_see_no_statements(client, settled):
    sign_in(client, settled.cashier_a)
    assert client.get("/shop/settlements").status_code == 403
    assert client.get("/shop/settlements.csv").status_code == 403
    shop = page(client, "/shop")
    assert 'data-testid="settlements-link"' not in shop and 'href="/shop/settlements"' not in shop


def test_the_pages_need_a_sign_in(client, settled):
    for path in ("/shop/settlements", "/bureau/settlements", "/bureau/settlements.csv"):
        assert client.get(path).headers["Location"].startswith("/staff/login")


# The bureau ------------------------------------------------------------------------------------------

def test_the_bureau_sees_every_shop_with_totals(client, settled):
    sign_in(client, make_account(Role.viewer))
    body = page(client, "/bureau/settlements", lang="en")
    listed = rows(body)
    assert [day for day, _ in listed] == ["2026-12-03", "2026-12-02", "2026-12-02", "2026-12-01", "2026-12-01"]
    assert listed[0][1] == f"2026-12-03 {settled.a.name} 1 ¥150 ¥30 ¥0 ¥30 paid"
    assert f"2026-12-02 {settled.b.name} 0 ¥0 ¥0 1 · ¥30 -¥30 paid" in [row.split(" More")[0] for _, row in listed]
    assert shown(body, "totals") == ("Statements: 5 · redemptions: 4 · consumption ¥528 · subsidy owed ¥100 · "
                                     "refunds ¥30 · net ¥70")
    assert f'<option value="{settled.a.id}">{settled.a.name}</option>' in body
    assert '<a href="/bureau/settlements">' in body  # in the header


def test_the_bureau_filters_by_shop_and_reaches_held_statements_in_one_click(client, world, clock):
    settle(clock, suspend=world.b)
    sign_in(client, make_account(Role.admin))
    body = page(client, "/bureau/settlements", lang="en")
    held_tab = re.search(r'<a href="([^"]+)" data-testid="held-tab"[^>]*>(.*?)</a>', body)
    assert words(held_tab.group(2)) == "held (2)"
    held = page(client, html.unescape(held_tab.group(1)) + "&lang=en")
    assert {row.split(" ")[1] for _, row in rows(held)} == {world.b.name}
    assert shown(held, "held-note") == ("Held while the shop is suspended; paid at the first settlement after "
                                        "it is reinstated.")
    assert shown(held, "totals").startswith("Statements: 2 · redemptions: 1 ")
    only_a = page(client, "/bureau/settlements", lang="en", merchant_id=world.a.id)
    assert len(rows(only_a)) == 3 and f'<option value="{world.a.id}" selected>' in only_a
    assert 'href="/bureau/settlements.xlsx?merchant_id=' + world.a.id in only_a
    one = page(client, f"/bureau/settlements/{next(iter(statement_ids(held)))}", lang="en")
    assert world.b.name in one and 'data-status="held"' in one and shown(one, "paid-at") == "not yet"


def test_the_bureau_csv_opens_in_excel_with_yuan(client, settled):
    sign_in(client, make_account(Role.admin))
    response = client.get("/bureau/settlements.csv", query_string={"lang": "en", "to": "2026-12-01"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == ["Day", "Shop", "Redemptions", "Consumption (yuan)", "Subsidy owed (yuan)", "Refunds",
                        "Refunded subsidy (yuan)", "Clawbacks", "Clawed-back subsidy (yuan)", "Net (yuan)", "Status",
                        "Paid at", "Why held"]
    assert sorted(table[1:]) == sorted([
        ["2026-12-01", settled.a.name, "1", "128.00", "30.00", "0", "0.00", "0", "0.00", "30.00", "paid",
         "2026-12-04 02:30", ""],
        ["2026-12-01", settled.b.name, "1", "200.00", "30.00", "0", "0.00", "0", "0.00", "30.00", "paid",
         "2026-12-04 02:30", ""]])


def test_the_xlsx_keeps_numbers_as_numbers(client, settled):
    sign_in(client, owner_of(settled.b))
    response = client.get("/shop/settlements.xlsx", query_string={"lang": "en"})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["Day", "Redemptions", "Consumption (yuan)"]
    assert values[1:] == [["2026-12-02", 0, 0, 0, 1, 30, 0, 0, -30, "paid", "2026-12-04 02:30", None],
                          ["2026-12-01", 1, 200, 30, 0, 0, 0, 0, 30, "paid", "2026-12-04 02:30", None]]
    assert sheet["D3"].number_format == "#,##0.00"
