"""The bureau's report pages and their exports, as a browser and a spreadsheet meet them: the figures of
the known world in ``scenario.py`` (worked out by hand in ``test_reports.py``) after the scheduler's
tally, the charts as well-formed SVG, the live monitor's JSON, and who may read any of it."""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook

from tests.app.test_pages import sign_in_resident, sign_in_staff, text
from tests.builders import PASSWORD, make_account, make_staff, next_phone
from tests.scenario import World, at, make_resident, tallied_world
from voucher_app.core.roles import Role
from voucher_app.reports.charts import WIDTH, Series, horizontal_bars, nice_scale, vertical_bars

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


def signed_in(client, role: Role):
    user = make_staff(role)
    assert sign_in_staff(client, user.username, PASSWORD).status_code == 302
    return client


@pytest.fixture
def world(city, clock) -> World:
    """The world of ``test_reports.py``, played, with one refusal, and tallied at 12-09 03:00."""
    return tallied_world(clock)


@pytest.fixture
def viewer(client, city, request):
    if "world" in request.fixturenames:
        request.getfixturevalue("world")  # sign in once the world's clock has moved: sign-ins expire
    return signed_in(client, Role.viewer)


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, text(response)
    return text(response)


def charts_on(html: str) -> list[ET.Element]:
    """Every inline SVG chart of the page, parsed as XML (a parse error fails the test)."""
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def chart(html: str, testid: str) -> ET.Element:
    match = re.search(rf'data-testid="{testid}">(<svg\b.*?</svg>)', html, flags=re.S)
    assert match, f"no chart {testid} on the page"
    return ET.fromstring(match.group(1))


def hover_texts(svg: ET.Element) -> list[str]:
    return [t.text for t in svg.iter(f"{SVG}title")]


def row(html: str, marker: str) -> list[str]:
    """The cells' text of the table row carrying ``marker`` in its opening tag."""
    match = re.search(rf"<tr[^>]*{marker}[^>]*>(.*?)</tr>", html, flags=re.S)
    assert match, f"no row with {marker}"
    return [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>",
                                                                          match.group(1), flags=re.S)]


def tile(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">.*?class="kpi-value"[^>]*>([^<]*)<', html, flags=re.S)
    assert match, f"no tile {testid}"
    return match.group(1).strip()


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    return list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))


def by_section(rows: list, section: str) -> dict:
    """The export's rows of one section, by their code (as text)."""
    return {str(r[1]): r for r in rows if r[0] == section}


# The measures report ------------------------------------------------------------------------------------

def test_the_viewer_reads_the_measures_report(viewer, world):
    html = page(viewer, "/bureau/reports")
    for code in ("M12", "M13"):  # the campaign funds both, and counts fully in each
        assert row(html, f'data-code="{code}"')[2:] == ["1", "4", "3", "70", "328", "4.69", "1", "4"]
    assert row(html, 'data-code="M03"')[2:] == ["0", "0", "0", "0", "0", "—", "0", "0"]
    assert row(html, 'data-testid="totals"')[1:] == ["1", "4", "3", "70", "328", "4.69", "—", "—"]
    assert 'href="/bureau/reports/measures/M12"' in html
    assert "2026-12-09 03:00" in re.search(r'data-testid="as-of">(.*?)</p>', html, flags=re.S).group(1)
    retail = row(html, 'data-metric="retail_sales_total"')
    assert retail[2:4] == ["50,000,000,000", "328"]
    assert 'href="/bureau/reports/measures.csv"' in html and 'href="/bureau/reports/measures.xlsx"' in html

    measures = chart(html, "chart-measures")
    assert measures.get("viewBox") == f"0 0 {WIDTH} 154"  # two rows (measures with campaigns) of two bars
    m12 = [t for t in hover_texts(measures) if t.startswith("M12 ")]
    assert len(m12) == 1 and ": ¥70; " in m12[0] and m12[0].endswith(": ¥328")


def test_the_admin_reads_the_reports_too(client, city, world):
    admin = signed_in(client, Role.admin)
    html = page(admin, "/bureau/reports")
    assert row(html, 'data-code="M12"')[5:7] == ["70", "328"]
    assert 'href="/bureau/reports"' in html  # the header's link


def test_before_any_campaign_the_report_says_there_is_nothing_yet(viewer):
    html = page(viewer, "/bureau/reports?lang=en")
    assert "Nothing has been counted yet." in html
    empty = chart(html, "chart-measures")
    assert "chart-empty" in empty.get("class") and "No data yet" in ET.tostring(empty, encoding="unicode")


def test_the_measures_report_in_english(viewer, world):
    html = page(viewer, "/bureau/reports?lang=en")
    assert '<html lang="en">' in html and "Night-time consumption support services" in html
    assert "every 5 minutes" in html and "Figures as of 2026-12-09 03:00" in html


# One measure ----------------------------------------------------------------------------------------

def test_one_measure_with_its_campaigns_and_breakdowns(viewer, world):
    html = page(viewer, "/bureau/reports/measures/M12?lang=en")
    assert tile(html, "kpi-campaigns") == "1" and tile(html, "kpi-subsidy") == "70"
    assert tile(html, "kpi-consumption") == "328" and tile(html, "kpi-leverage") == "4.69"
    assert tile(html, "kpi-residents") == "4" and tile(html, "kpi-budget") == "50,000"
    campaign = row(html, 'data-testid="campaign-row"')
    assert campaign[0] == world.c.name and campaign[2:] == ["50,000", "0.14%", "4", "3", "1", "1", "70", "328", "4.69"]
    assert f'href="/bureau/reports/campaigns/{world.c.id}"' in html
    districts = re.search(r'data-testid="by-district">(.*?)</table>', html, flags=re.S).group(1)
    assert "Lizhou" in districts and ">70<" in districts and ">328<" in districts
    assert len(charts_on(html)) == 4
    assert "Lizhou District — Subsidy: ¥70; Consumption: ¥328" in hover_texts(chart(html, "chart-district"))
    assert "2026-12-09 03:00" in html


def test_an_unknown_measure_is_not_found(viewer, world):
    assert viewer.get("/bureau/reports/measures/M99").status_code == 404


# One campaign ---------------------------------------------------------------------------------------

def test_the_campaign_report_shows_the_figures_of_the_world(viewer, world):
    html = page(viewer, f"/bureau/reports/campaigns/{world.c.id}")
    tiles = {name: tile(html, f"kpi-{name}") for name in (
        "claimed", "redeemed", "expired", "refunded", "subsidy", "consumption", "leverage", "merchants", "residents",
        "budget-used")}
    assert tiles == {"claimed": "4", "redeemed": "3", "expired": "1", "refunded": "1", "subsidy": "70",
                     "consumption": "328", "leverage": "4.69", "merchants": "1", "residents": "4",
                     "budget-used": "0.14%"}
    assert row(html, 'data-testid="merchant-row"')[3:] == ["3", "0", "70", "328", "4.69"]
    assert row(html, 'data-testid="merchant-row"')[0] == world.a.name
    assert f'href="/bureau/reports/campaigns/{world.c.id}/live"' in html
    assert f'href="/bureau/reports/campaigns/{world.c.id}.csv"' in html
    assert "2026-12-09 03:00" in html
    assert not re.search(r"(?<![\w-])1[3-9]\d{9}(?![\w-])", html)  # no resident's phone


def test_the_campaign_report_draws_its_charts(viewer, world):
    html = page(viewer, f"/bureau/reports/campaigns/{world.c.id}?lang=en")
    assert len(charts_on(html)) == 4
    days = chart(html, "chart-day")
    assert days.get("viewBox") == f"0 0 {WIDTH} 300"
    day_titles = [t for t in hover_texts(days) if "—" in t]
    assert day_titles[0] == "12-01 — Claimed: 4; Redeemed: 1"
    assert len(day_titles) == 8  # 12-01 to 12-08: the quiet days between are drawn at zero
    hours = [t for t in hover_texts(chart(html, "chart-hour")) if "—" in t]
    assert len(hours) == 24
    assert (hours[0], hours[21]) == ("0 — Claimed: 0; Redeemed: 1", "21 — Claimed: 4; Redeemed: 1")
    categories = hover_texts(chart(html, "chart-category"))
    assert "Catering — Subsidy: ¥70; Consumption: ¥328" in categories
    assert "Retail — Subsidy: ¥0; Consumption: ¥0" in categories
    assert chart(html, "chart-hour").find(f"{SVG}title").text == "Claims and redemptions by hour of day"


def test_refusals_are_shown_in_words(viewer, world):
    english = page(viewer, f"/bureau/reports/campaigns/{world.c.id}?lang=en")
    assert row(english, 'data-code="voucher_expired"') == ["This voucher has expired.", "voucher_expired", "1"]
    chinese = page(viewer, f"/bureau/reports/campaigns/{world.c.id}")
    label = row(chinese, 'data-code="voucher_expired"')[0]
    assert label and label != "voucher_expired"


def test_a_draft_has_no_report_page(viewer, clock):
    from campaigns.schemas import CampaignIn
    from campaigns.service import create_campaign
    from tests.campaign_data import campaign_body

    draft = create_campaign(CampaignIn(**campaign_body()), make_staff(Role.admin), clock.now())
    assert viewer.get(f"/bureau/reports/campaigns/{draft.id}").status_code == 404
    assert viewer.get(f"/bureau/reports/campaigns/{draft.id}/live").status_code == 404
    assert viewer.get(f"/bureau/reports/campaigns/{draft.id}.csv").status_code == 404
    detail = page(viewer, f"/bureau/campaigns/{draft.id}")
    assert "campaign-report" not in detail and "campaign-live" not in detail


def test_the_campaign_page_links_to_its_report_and_monitor(viewer, world):
    detail = page(viewer, f"/bureau/campaigns/{world.c.id}")
    assert f'href="/bureau/reports/campaigns/{world.c.id}" data-testid="campaign-report"' in detail
    assert f'href="/bureau/reports/campaigns/{world.c.id}/live" data-testid="campaign-live"' in detail


# Exports --------------------------------------------------------------------------------------------

def test_the_measures_export_in_csv(viewer, world):
    rows = csv_rows(viewer.get("/bureau/reports/measures.csv?lang=en"))
    assert rows[0][:3] == ["Section", "Code", "Name"] and rows[0][10:13] == [
        "Subsidy (yuan)", "Consumption (yuan)", "Leverage"]
    m12 = by_section(rows, "Measure")["M12"]
    assert m12[3:15] == ["1", "50000.00", "4", "3", "1", "0", "1", "70.00", "328.00", "4.69", "1", "4"]
    assert len(by_section(rows, "Measure")) == 22
    total = next(r for r in rows if r[0] == "Total")
    assert total[3] == "1" and total[10:13] == ["70.00", "328.00", "4.69"]
    retail = by_section(rows, "Plan target")["retail_sales_total"]
    assert retail[11] == "328.00" and retail[15:17] == ["50000000000.00", "2022"]
    assert float(retail[17]) == pytest.approx(32_800 * 100 / 5_000_000_000_000)


def test_the_measures_export_in_xlsx(viewer, world):
    rows = xlsx_rows(viewer.get("/bureau/reports/measures.xlsx?lang=en"))
    assert rows[0][:3] == ("Section", "Code", "Name")
    m12 = by_section(rows, "Measure")["M12"]
    assert m12[3:15] == (1, 50000.0, 4, 3, 1, 0, 1, 70.0, 328.0, 4.69, 1, 4)


def test_the_measure_export(viewer, world):
    rows = csv_rows(viewer.get("/bureau/reports/measures/M12.csv?lang=en"))
    assert rows[1][:3] == ["Measure", "M12", rows[1][2]] and rows[1][13:15] == ["70.00", "328.00"]
    assert by_section(rows, "Campaign")[world.c.id][5:8] == ["open", "50000.00", "0.14"]
    assert by_section(rows, "District")["lizhou"][13:15] == ["70.00", "328.00"]
    assert by_section(rows, "Category")["catering"][9] == "3"
    assert set(by_section(rows, "Day")) == {"2026-12-01", "2026-12-02", "2026-12-03", "2026-12-08"}
    assert len(by_section(rows, "Hour")) == 24
    sheet = xlsx_rows(viewer.get("/bureau/reports/measures/M12.xlsx?lang=en"))
    assert by_section(sheet, "District")["lizhou"][13:15] == (70.0, 328.0)


def test_the_campaign_export_carries_every_figure_of_the_page(viewer, world):
    rows = csv_rows(viewer.get(f"/bureau/reports/campaigns/{world.c.id}.csv?lang=en"))
    header = rows[0]
    assert header == ["Section", "Code", "Name", "District", "Category", "Status", "Budget (yuan)",
                      "Budget used (%)", "Claimed", "Redeemed", "Expired", "Revoked", "Refunded", "Subsidy (yuan)",
                      "Consumption (yuan)", "Leverage", "Merchants with sales", "Residents who claimed",
                      "Refused attempts"]
    campaign = dict(zip(header, by_section(rows, "Campaign")[world.c.id]))
    assert campaign == {
        "Section": "Campaign", "Code": world.c.id, "Name": world.c.name, "District": "", "Category": "",
        "Status": "open",
        "Budget (yuan)": "50000.00", "Budget used (%)": "0.14", "Claimed": "4", "Redeemed": "3", "Expired": "1",
        "Revoked": "0", "Refunded": "1", "Subsidy (yuan)": "70.00", "Consumption (yuan)": "328.00",
        "Leverage": "4.69", "Merchants with sales": "1", "Residents who claimed": "4", "Refused attempts": ""}
    day = dict(zip(header, by_section(rows, "Day")["2026-12-01"]))
    assert (day["Claimed"], day["Redeemed"], day["Refunded"], day["Subsidy (yuan)"], day["Consumption (yuan)"]) == (
        "4", "1", "1", "30.00", "128.00")
    hour = dict(zip(header, by_section(rows, "Hour")["21"]))
    assert (hour["Name"], hour["Claimed"], hour["Redeemed"], hour["Subsidy (yuan)"]) == (
        "21:00–22:00", "4", "1", "30.00")
    shop = dict(zip(header, by_section(rows, "Merchant")[world.a.id]))
    assert (shop["Name"], shop["District"], shop["Category"], shop["Redeemed"], shop["Subsidy (yuan)"]) == (
        world.a.name, "Lizhou District", "Catering", "3", "70.00")
    refusal = dict(zip(header, by_section(rows, "Refusal")["voucher_expired"]))
    assert (refusal["Name"], refusal["Refused attempts"]) == ("This voucher has expired.", "1")
    assert len(by_section(rows, "District")) == 8 and len(by_section(rows, "Category")) == 2

    sheet = xlsx_rows(viewer.get(f"/bureau/reports/campaigns/{world.c.id}.xlsx?lang=en"))
    assert list(sheet[0]) == header
    figures = dict(zip(header, by_section(sheet, "Campaign")[world.c.id]))
    assert [figures[k] for k in ("Subsidy (yuan)", "Consumption (yuan)", "Leverage", "Budget used (%)")] == [
        70.0, 328.0, 4.69, 0.14]


def test_the_exports_default_to_chinese_headers(viewer, world):
    header = csv_rows(viewer.get(f"/bureau/reports/campaigns/{world.c.id}.csv"))[0]
    assert len(header) == 19  # the same columns, in the default language (Chinese once the catalog has them)


@pytest.mark.parametrize("path", ["/bureau/reports/measures.pdf", "/bureau/reports/measures/M12.json",
                                  "/bureau/reports/campaigns/{id}.pdf", "/bureau/reports/campaigns/{id}.CSV"])
def test_an_unknown_export_format_is_not_found(viewer, world, path):
    assert viewer.get(path.format(id=world.c.id)).status_code == 404


# The live monitor -------------------------------------------------------------------------------------

def test_the_live_monitor_shows_the_rush_without_script(viewer, clock):
    w = World(clock)
    clock.set(at(12, 1, 21, 5))
    w.claim(make_resident(), w.tier30)
    w.claim(make_resident(), w.tier10)
    html = page(viewer, f"/bureau/reports/campaigns/{w.c.id}/live")
    assert re.search(r'data-testid="live-claimed"[^>]*>2<', html)
    assert re.search(r'data-testid="live-remaining"[^>]*>748<', html)
    assert re.search(r'data-testid="live-released"[^>]*>750<', html)
    assert row(html, f'data-tier-id="{w.tier30}"')[1:4] == ["500", "1", "499"]
    assert f'data-url="/bureau/reports/campaigns/{w.c.id}/live.json"' in html
    assert "/static/js/live_monitor.js" in html and "21:05:00" in html  # the reading's time, in the city
    assert "2026-12-11 20:00" in re.search(r'data-testid="next-round">(.*?)</p>', html).group(1)


def test_the_live_json_counts_claims_as_they_happen(viewer, clock):
    w = World(clock)
    clock.set(at(12, 1, 21, 5))
    w.claim(make_resident(), w.tier30)
    response = viewer.get(f"/bureau/reports/campaigns/{w.c.id}/live.json")
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    first = response.get_json()
    assert (first["released"], first["claimed"], first["remaining"], first["status"]) == (750, 1, 749, "open")
    clock.advance(seconds=2)
    w.claim(make_resident(), w.tier10)
    second = viewer.get(f"/bureau/reports/campaigns/{w.c.id}/live.json").get_json()
    assert (second["claimed"], second["remaining"]) == (2, 748)
    assert [(t["claimed"], t["remaining"]) for t in second["tiers"]] == [(1, 499), (1, 249)]
    assert second["at"] > first["at"]


# Who may read ---------------------------------------------------------------------------------------

def report_paths(world) -> list[str]:
    c = world.c.id
    return ["/bureau/reports", "/bureau/reports/measures.csv", "/bureau/reports/measures/M12",
            "/bureau/reports/measures/M12.xlsx", f"/bureau/reports/campaigns/{c}", f"/bureau/reports/campaigns/{c}.csv",
            f"/bureau/reports/campaigns/{c}/live", f"/bureau/reports/campaigns/{c}/live.json"]


def test_anyone_signed_out_is_sent_to_the_staff_sign_in(client, world):
    for path in report_paths(world):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/staff/login?next="), path


def test_a_cashier_may_not_read_reports(client, world):
    cashier = make_account(Role.cashier, world.a)
    assert sign_in_staff(client, cashier.username, PASSWORD).status_code == 302
    for path in report_paths(world):
        assert client.get(path).status_code == 403, path
    assert "/bureau/reports" not in page(client, "/")  # no link in the header either


def test_a_resident_may_not_read_reports(client, world):
    assert sign_in_resident(client, next_phone()).status_code == 302
    for path in report_paths(world):
        assert client.get(path).status_code == 403, path


# The charts alone -------------------------------------------------------------------------------------

def test_a_chart_escapes_its_labels_and_stays_well_formed():
    svg = vertical_bars(["<b>&", "x\"y"], [Series("a<script>", [3, 0]), Series("b'", [1, 2])], title="t&<",
                        x_label="<x>", y_label="<y>", empty_text="none")
    parsed = ET.fromstring(str(svg))
    assert "<script>" not in str(svg) and "&lt;script&gt;" in str(svg)
    assert parsed.find(f"{SVG}title").text == "t&<"
    assert "<b>& — a<script>: 3; b': 1" in hover_texts(parsed)
    assert len([r for r in parsed.iter(f"{SVG}rect") if "chart-bar" in r.get("class") and r.get("height")
                and float(r.get("height")) > 0 and r.get("y") != "8"]) == 3  # zero draws no bar
    bars = horizontal_bars(["很长很长很长很长很长很长很长的区县名字"], [Series("s", [5])], title="t",
                           x_label="x", empty_text="none", value_text=lambda v: f"¥{v}")
    parsed = ET.fromstring(str(bars))
    assert any(t.text.endswith("…") for t in parsed.iter(f"{SVG}text"))
    assert hover_texts(parsed)[1].startswith("很长很长很长很长很长很长很长的区县名字 — s: ¥5")


def test_an_empty_chart_says_so():
    for svg in (vertical_bars([], [], title="t", x_label="x", y_label="y", empty_text="No data yet"),
                horizontal_bars(["a", "b"], [Series("s", [0, 0])], title="t", x_label="x", empty_text="No data yet")):
        parsed = ET.fromstring(str(svg))
        assert "chart-empty" in parsed.get("class")
        assert [t.text for t in parsed.iter(f"{SVG}text")] == ["No data yet"]


def test_the_scale_ends_on_a_round_number():
    assert nice_scale(4) == (4, 1)
    assert nice_scale(7) == (8, 2)
    assert nice_scale(99) == (100, 25)
    assert nice_scale(32_800) == (40_000, 10_000)
    assert nice_scale(0) == (1, 1)
