"""Large type for elderly residents (issue #16, item 9): one tap from every resident page, remembered,
and no text clipped or pushed off the screen at 200% zoom.

Browser zoom at 200% halves the CSS pixels a screen has: a 390 px wide phone zoomed to 200% lays the
page out exactly as a 195 CSS px wide viewport whose device pixels are four to a CSS pixel. That is what
``zoomed`` emulates (``document.body.style.zoom`` would not: it scales a page laid out at full width).
"""
from __future__ import annotations

import pytest

from tests.builders import next_phone
from tests.http_client import Http
from tests.vouchers.test_browser_claim import sign_in
from tests.vouchers.test_claim_concurrency import open_campaign

pytestmark = pytest.mark.browser

TOGGLE = "[data-testid=text-size]"

# Every visible element that has text of its own must show all of it: nothing wider than the viewport,
# nothing cut by its own overflow, and the page itself never wider than the screen.
CLIPPED = """() => {
  const problems = [];
  const width = window.innerWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + (el.innerText || el.value || '').trim().slice(0, 30) + '"';
  if (document.documentElement.scrollWidth > width) {
    problems.push('page is ' + document.documentElement.scrollWidth + 'px wide in a ' + width + 'px viewport');
  }
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || box.width === 0 || box.height === 0) continue;
    const ownText = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim()) ||
      (['INPUT', 'SELECT', 'BUTTON', 'TEXTAREA'].includes(el.tagName) && el.type !== 'hidden');
    if (!ownText) continue;
    if (box.right > width + 1 || box.left < -1) {
      problems.push(name(el) + ' spans ' + Math.round(box.left) + '..' + Math.round(box.right) + 'px');
    }
    const cutsX = ['hidden', 'clip'].includes(style.overflowX) || style.textOverflow === 'ellipsis';
    if (cutsX && el.scrollWidth > el.clientWidth + 1) {
      problems.push(name(el) + ' clips its text sideways (' + el.scrollWidth + ' > ' + el.clientWidth + ')');
    }
    if (['hidden', 'clip'].includes(style.overflowY) && el.scrollHeight > el.clientHeight + 1) {
      problems.push(name(el) + ' clips its text (' + el.scrollHeight + ' > ' + el.clientHeight + ')');
    }
  }
  return problems;
}"""


def large(page) -> bool:
    return page.evaluate("document.documentElement.classList.contains('text-large')")


def root_font_px(page) -> float:
    return page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")


def tap_toggle(page) -> None:
    """One tap, with nothing scrolled or opened first: the toggle sits in the header's first row."""
    page.evaluate("window.scrollTo(0, 0)")
    toggle = page.locator(TOGGLE)
    box = toggle.bounding_box()
    viewport = page.viewport_size
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], "the toggle is not on screen"
    assert box["height"] >= 30 and box["width"] >= 40, f"too small to hit with a finger: {box}"
    toggle.tap()


def served_large(page, path: str) -> bool:
    """Whether the server itself renders ``path`` in large type for this browser's cookies."""
    return 'class="text-large"' in page.context.request.get(path).text()


def claimed_voucher(page, server) -> tuple[str, str]:
    """Claim on the campaign page as a resident would: the campaign's page and the voucher's."""
    campaign = open_campaign(Http(server.url), 5, limit_per_resident=2, limit_per_round=2)
    campaign_path = f"/campaigns/{campaign['id']}"
    page.goto(campaign_path)
    page.get_by_test_id("claim").first.click()
    page.wait_for_url("**/wallet")
    return campaign_path, page.get_by_test_id("show-qr").first.get_attribute("href")


def test_one_tap_turns_large_type_on_and_it_is_remembered(phone_page, server):
    page = phone_page
    sign_in(page, next_phone())
    _, voucher_path = claimed_voucher(page, server)

    page.goto("/campaigns")
    normal = root_font_px(page)
    assert not large(page) and page.locator(TOGGLE).inner_text() == "大字"
    tap_toggle(page)
    assert large(page) and root_font_px(page) >= normal * 1.25
    assert page.locator(TOGGLE).get_attribute("aria-pressed") == "true"

    for path in ("/wallet", voucher_path, "/me/profile", "/campaigns"):
        page.goto(path)
        assert large(page), path
        assert served_large(page, path), f"{path} is large only after the script ran"

    page.goto("/wallet")  # and off again from another page, in one tap
    tap_toggle(page)
    assert not large(page)
    page.goto("/me/profile")
    assert not large(page)
    tap_toggle(page)
    assert large(page)

    page.get_by_role("button", name="退出登录").click()  # signing out keeps it: it is the device's choice
    page.goto("/login")
    assert large(page) and served_large(page, "/login")


def test_the_toggle_works_without_javascript(browser, server):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
                                  java_script_enabled=False, locale="zh-CN", base_url=server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/campaigns")
    with page.expect_navigation(url="**/campaigns"):
        page.locator(TOGGLE).tap()  # a plain link: /display/large sets the cookie and comes back
    assert large(page)
    page.goto("/login")
    assert large(page)
    with page.expect_navigation(url="**/login"):
        page.locator(TOGGLE).tap()
    assert not large(page)
    context.close()


@pytest.fixture
def zoomed(browser, server):
    """A 390 px phone at 200% browser zoom: 195 CSS px wide (see the module's docstring)."""
    context = browser.new_context(viewport={"width": 195, "height": 422}, device_scale_factor=4, is_mobile=True,
                                  has_touch=True, locale="zh-CN", base_url=server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_nothing_is_clipped_at_200_percent_zoom(zoomed, server, language):
    page = zoomed
    sign_in(page, next_phone())
    campaign_path, voucher_path = claimed_voucher(page, server)
    page.goto(f"/lang/{language}")

    problems = {}
    for text_size in ("normal", "large"):
        page.goto(f"/display/{text_size}")
        for path in ("/campaigns", campaign_path, "/wallet", voucher_path, "/me/profile"):
            page.goto(path)
            found = page.evaluate(CLIPPED)
            if found:
                problems[f"{text_size} {path}"] = found
        page.goto("/me/profile")  # with an error next to a field
        page.locator("#id_number").fill("110105194912310021")
        page.get_by_test_id("save-profile").click()
        page.locator(".field-error").first.wait_for()
        if found := page.evaluate(CLIPPED):
            problems[f"{text_size} profile with an error"] = found

    page.get_by_role("button", name="Sign out" if language == "en" else "退出登录").click()
    for text_size in ("normal", "large"):
        page.goto(f"/display/{text_size}")
        for path in ("/login", "/campaigns", campaign_path):
            page.goto(path)
            if found := page.evaluate(CLIPPED):
                problems[f"{text_size} {path} signed out"] = found
        page.goto("/login")  # and with the code sent, the second form open
        page.locator("#phone").fill(next_phone())
        page.get_by_test_id("send-code").click()
        page.get_by_test_id("sign-in").wait_for()
        if found := page.evaluate(CLIPPED):
            problems[f"{text_size} /login with the code sent"] = found
    assert not problems, "\n".join(f"{where}: {p}" for where, ps in problems.items() for p in ps)
