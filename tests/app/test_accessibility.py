"""Accessibility (issue #20, item 6): axe-core audits every HTML page as each person who sees it, in
Chinese and English, and the resident's pages in large type: no serious or critical violation of WCAG 2.1
A/AA or of axe's best practices. Beside it, what axe cannot judge on its own: that every page route is
audited, that keyboard focus is visible, and that the voucher screen reads out to a screen reader.

axe-core comes from npm, pinned in ``tests/a11y/package-lock.json`` (``make install`` runs ``npm ci``),
and is injected into each page by Playwright, in the real browser, against the real server.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.app.a11y_world import ADMIN, ANONYMOUS, LANGUAGES, RESIDENT, ROLES, A11yWorld, Visit, build_world
from tests.conftest import ROOT, _empty_tables
from voucher_app.app import create_app
from voucher_app.core.clock import MovableClock
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import release

pytestmark = pytest.mark.browser

AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# Serious and critical violations fail; axe's "moderate" and "minor" ones are advice.
START_AXE = """(tags) => {
  window.auditResult = axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
    .then((results) => results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({rule: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 6).map((n) => n.target.join(' ') + (n.failureSummary ? ' (' +
                      n.failureSummary.split('\\n').slice(1).join(' ').trim().slice(0, 160) + ')' : ''))})));
}"""
# Routes that answer GET with something other than a page to audit: redirects, files, JSON, images.
NOT_PAGES = {
    "/lang/<code>",  # sets the language cookie and redirects back
    "/display/<size>",  # sets the text-size cookie and redirects back
    "/static/<path:filename>",
    "/wallet/<voucher_id>/qr.svg",  # the QR image the voucher screen fetches
    "/wallet/<voucher_id>/state.json",  # the voucher screen polls it
    "/bureau/reports/campaigns/<campaign_id>/live.json",  # the live monitor polls it
    # Downloads: CSV and Excel files.
    "/bureau/reports/measures.<any(csv, xlsx):fmt>",
    "/bureau/reports/measures/<code>.<any(csv, xlsx):fmt>",
    "/bureau/reports/campaigns/<campaign_id>.<any(csv, xlsx):fmt>",
    "/bureau/settlements.<any(csv, xlsx):fmt>",
    "/shop/settlements.<any(csv, xlsx):fmt>",
}
PHONE = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1366, "height": 900}}


@pytest.fixture(scope="module")
def audit_app(_schema, keys_dir):
    """One app for the module, on the wall clock as the real server is (the demo's campaigns are open now)."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": _schema, "SIGNING_KEYS_DIR": str(keys_dir)})
    app.extensions["voucher.clock"] = MovableClock(dt.datetime.now(dt.timezone.utc))
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        release(db.engine)
        db.engine.dispose()


@pytest.fixture(scope="module")
def world(audit_app) -> A11yWorld:
    return build_world(audit_app)


@pytest.fixture(scope="module")
def axe_script():
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE.relative_to(ROOT)}: run `make install` "
                    "(or `npm ci --prefix tests/a11y`)")
    return str(AXE)


@pytest.fixture(scope="module")
def contexts(browser, live_server, world):
    """A browser for each person, signed in: residents and visitors on a phone, staff at a desk."""
    made = {}
    for role in ROLES:
        context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                      **(PHONE if role in (ANONYMOUS, RESIDENT) else DESK))
        context.set_default_timeout(15_000)
        sign_in(context, world, role)
        made[role] = context
    yield made
    for context in made.values():
        context.close()


def sign_in(context, world: A11yWorld, role: str) -> None:
    """Sign ``role`` in through the pages' forms (CSRF is off in the testing configuration)."""
    request = context.request
    if role == ANONYMOUS:
        return
    if role == RESIDENT:
        phone = world.resident_phone
        assert request.post("/login/code", form={"phone": phone}, max_redirects=0).status == 302
        items = request.get(f"/api/v1/dev/outbox?phone={phone}").json()["items"]
        code = re.search(r"(?<!\d)\d{6}(?!\d)", items[0]["text"]).group(0)
        signed_in = request.post("/login", form={"phone": phone, "code": code}, max_redirects=0)
    else:
        username, password = world.staff[role]
        signed_in = request.post("/staff/login", form={"username": username, "password": password},
                                 max_redirects=0)
    assert signed_in.status == 302 and "login" not in signed_in.headers["location"], f"{role} could not sign in"


def open_page(page, visit: Visit):
    """Go to the visit's page and wait until its scripts have filled it in."""
    response = page.goto(visit.path)
    assert response.status == 200 and response.url.endswith(visit.path), (
        f"{visit}: answered {response.status} at {response.url}, not the page")
    if visit.rule == "/wallet/<voucher_id>":
        page.wait_for_function("document.querySelector('[data-testid=typed-code]').textContent.length > 5")
    return response


def test_no_page_has_a_serious_accessibility_violation(axe_script, contexts, world, live_server):
    # The seven people's visits in turns, a page each: axe runs in one person's browser while the next
    # person's page loads, so audits overlap instead of waiting for each other.
    queues: dict[str, list[tuple[str, Visit]]] = {}
    for language in LANGUAGES:
        for visit in world.visits():
            queues.setdefault(visit.role, []).append((language, visit))
    pages = {role: contexts[role].new_page() for role in queues}
    found = []
    while any(queues.values()):
        started = []
        for role, queue in queues.items():
            if not queue:
                continue
            language, visit = queue.pop(0)
            page = pages[role]
            page.context.add_cookies([{"name": "lang", "value": language, "url": live_server.url},
                                      {"name": "text", "value": "large" if visit.large else "normal",
                                       "url": live_server.url}])
            open_page(page, visit)
            shown = page.evaluate("() => [document.documentElement.lang, document.documentElement.className]")
            assert shown == ["zh-CN" if language == "zh" else "en", "text-large" if visit.large else ""], (
                f"{visit} ({language}) is shown as {shown}")
            page.add_script_tag(path=axe_script)
            page.evaluate(START_AXE, TAGS)
            started.append((page, language, visit))
        for page, language, visit in started:
            for violation in page.evaluate("() => window.auditResult"):
                found.append(f"{visit} ({language}): {violation['rule']} [{violation['impact']}] "
                             f"{violation['help']}\n      " + "\n      ".join(violation["nodes"]))
    for page in pages.values():
        page.close()
    assert not found, f"{len(found)} serious or critical accessibility violations:\n  " + "\n  ".join(found)


def test_every_page_route_is_audited(audit_app, world):
    pages = {rule.rule for rule in audit_app.url_map.iter_rules()
             if "GET" in rule.methods and not rule.rule.startswith("/api/")}
    audited = {visit.rule for visit in world.visits()}
    missing = sorted(pages - audited - NOT_PAGES)
    assert not missing, ("page routes the accessibility audit does not visit (add them to tests/app/a11y_world.py, "
                         "or to NOT_PAGES if they are no page): " + ", ".join(missing))
    assert not audited - pages, f"visits of routes that do not exist: {sorted(audited - pages)}"
    assert not NOT_PAGES - pages, f"NOT_PAGES names routes that do not exist: {sorted(NOT_PAGES - pages)}"


# What the keyboard's focus looks like: an outline (or a ring of box-shadow) at least 2 px wide, whose
# colour stands out 3:1 from the colour behind the element (WCAG 1.4.11).
FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const rgba = (c) => { const v = (c.match(/[\\d.]+/g) || []).map(Number); return v.length === 3 ? [...v, 1] : v; };
  const over = ([r, g, b, a], [R, G, B]) => [r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a)];
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  let behind = el.parentElement;
  while (behind && rgba(getComputedStyle(behind).backgroundColor)[3] === 0) behind = behind.parentElement;
  const background = behind ? rgba(getComputedStyle(behind).backgroundColor).slice(0, 3) : [255, 255, 255];
  const style = getComputedStyle(el);
  const kind = el.tagName === 'A' ? 'link' : el.tagName === 'BUTTON' ? 'button'
    : ['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName) ? 'field' : 'other';
  const outline = style.outlineStyle !== 'none' && style.outlineStyle !== 'auto' && parseFloat(style.outlineWidth) >= 2
    ? contrast(over(rgba(style.outlineColor), background), background) : 0;
  const ringColour = style.boxShadow.match(/rgba?\\([^)]*\\)/);
  const ring = ringColour ? contrast(over(rgba(ringColour[0]), background), background) : 0;
  return {kind, contrast: Math.max(outline, ring),
          name: el.tagName.toLowerCase() + ' "' + (el.innerText || el.name || el.id || '').trim().slice(0, 30) + '"',
          outline: style.outlineStyle + ' ' + style.outlineWidth + ' ' + style.outlineColor, ring: style.boxShadow};
}"""


@pytest.mark.parametrize("role, path", [(ANONYMOUS, "/login"), (RESIDENT, "/me/profile"),
                                         (ADMIN, "/bureau/campaigns/new"), (ADMIN, "/bureau/settlements")])
def test_keyboard_focus_is_visible(contexts, role, path):
    """Tab through the whole page: every stop shows where the focus is."""
    page = contexts[role].new_page()
    page.goto("/lang/zh")
    page.goto(path)
    seen, invisible = {}, []
    for presses in range(150):
        if presses:
            page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_STYLE)  # first what has the focus on arrival (autofocus)
        if focus is None:
            if presses:  # past the last element, to the browser's own controls
                break
            continue
        if focus["contrast"] < 3:
            invisible.append(f"{focus['name']}: outline {focus['outline']}, box-shadow {focus['ring']}")
        seen.setdefault(focus["kind"], focus["name"])
    page.close()
    assert {"link", "button", "field"} <= set(seen), f"{path}: Tab reached only {seen}"
    assert not invisible, f"{path}: focus not visible (3:1 against the background) on\n  " + "\n  ".join(invisible)


def test_the_voucher_screen_reads_out_to_a_screen_reader(contexts, world):
    page = contexts[RESIDENT].new_page()
    page.goto("/lang/en")
    open_page(page, Visit(RESIDENT, "/wallet/<voucher_id>", f"/wallet/{world.ids['voucher']}"))
    qr = page.get_by_role("img", name=re.compile("QR code", re.I))
    assert qr.count() == 1 and qr.get_by_role("img").count() == 0, "the QR is one image with a name"
    typed = page.get_by_test_id("typed-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}-\d{4}", typed)
    # A screen reader reads the code a character at a time, its three groups apart, not the code as
    # shown (one "word" with dashes).
    spoken = ", ".join(" ".join(group) for group in typed.split("-"))
    assert page.get_by_role("img", name=spoken, exact=True).count() == 1
    # What the browser hands a screen reader: the spelled-out code, and the code as shown nowhere.
    tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    exposed = [(node.get("role", {}).get("value"), node.get("name", {}).get("value", ""))
               for node in tree if not node.get("ignored")]
    assert ("image", spoken) in exposed
    assert not [node for node in exposed if typed in node[1]], [node for node in exposed if typed in node[1]]
    page.goto("/lang/zh")
    open_page(page, Visit(RESIDENT, "/wallet/<voucher_id>", f"/wallet/{world.ids['voucher']}"))
    assert page.get_by_role("img", name="二维码", exact=True).count() == 1
    page.close()
