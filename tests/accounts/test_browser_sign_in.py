"""A resident signs in on a phone, in a real browser, with the code from the SMS outbox."""
from __future__ import annotations

import re

import pytest

from tests.builders import next_phone

pytestmark = pytest.mark.browser


def test_resident_signs_in_with_the_outbox_code(phone_page, server):
    page = phone_page
    phone = next_phone()
    page.goto("/")
    page.get_by_role("link", name="登录").first.click()
    page.get_by_label("手机号码").fill(phone)
    page.get_by_test_id("send-code").click()
    page.get_by_label("短信验证码").wait_for()
    assert "已向" in page.get_by_role("status").inner_text()

    outbox = page.context.new_page()
    outbox.goto(f"/dev/outbox?phone={phone}")
    text = outbox.get_by_test_id("outbox").locator(".sms-text").first.inner_text()
    code = re.search(r"(?<!\d)\d{6}(?!\d)", text).group(0)
    outbox.close()

    page.get_by_label("短信验证码").fill(code)
    page.get_by_test_id("sign-in").click()
    masked = f"{phone[:3]}****{phone[-4:]}"
    page.get_by_test_id("who").wait_for()
    assert page.get_by_test_id("who").inner_text() == masked
    assert phone not in page.content()
