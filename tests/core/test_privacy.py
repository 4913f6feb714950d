"""Phone numbers are personal data: valid ones are recognised in any usual spelling, shown masked, and
never written to a log."""
from __future__ import annotations

import json
import logging
import time
import urllib.parse
import urllib.request

import pytest

from voucher_app.core.logs import MaskPersonalDataFilter
from voucher_app.core.phones import mask_phone, normalize_phone

# Phones used by no other test, so that their masked forms in the shared server's log are this module's.
PHONE = "13712345678"
SPELLED_PHONE = "15887654321"


# Recognising and masking ----------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["13900000001", "+86 139-0000-0001", "0086 139 0000 0001", " 139 0000 0001 "])
def test_usual_spellings_of_a_mobile_number_are_recognised(raw):
    assert normalize_phone(raw) == "13900000001"


@pytest.mark.parametrize("raw", ["12345678901", "1390000000", "139000000012", "10086", "", "phone", "+1 139 0000 0001"])
def test_what_is_not_a_mainland_mobile_number_is_refused(raw):
    assert normalize_phone(raw) is None


def test_a_masked_phone_keeps_only_the_first_three_and_last_four_digits():
    assert mask_phone("13900000001") == "139****0001"


def masked_log_line(msg: str, *args) -> str:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, msg, args, None)
    assert MaskPersonalDataFilter().filter(record) is True  # masks, never drops
    return record.getMessage()


def test_the_log_filter_masks_a_phone_in_the_records_arguments():
    line = masked_log_line("code sent to %s at %s", "13900000001", "12:00")
    assert line == "code sent to 139****0001 at 12:00"


def test_the_log_filter_masks_phones_in_an_access_log_line():
    line = masked_log_line('%(h)s "%(r)s" %(s)s',
                           {"h": "127.0.0.1", "r": "GET /api/v1/dev/outbox?phone=13900000001 HTTP/1.1", "s": "200"})
    assert line == '127.0.0.1 "GET /api/v1/dev/outbox?phone=139****0001 HTTP/1.1" 200'


@pytest.mark.parametrize("spelled", ["+8613900000001", "%2B8613900000001", "008613900000001", "139-0000-0001",
                                     "139 0000 0001", "139%200000%200001", "+86+139+0000+0001"])
def test_the_log_filter_masks_every_spelling_a_user_might_type(spelled):
    line = masked_log_line("GET /login?phone=%s", spelled)
    assert "0000" not in line.replace("****", "") and "0001" in line


def test_the_log_filter_leaves_other_numbers_alone():
    line = masked_log_line("order %s of %s cents, %s", "23900000001234", "12800", "2026-12-01T20:00:00+08:00")
    assert line == "order 23900000001234 of 12800 cents, 2026-12-01T20:00:00+08:00"


# The real server's log -----------------------------------------------------------------------------------

def http(server, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def wait_for_log(server, fragment: str, timeout: float = 5) -> str:
    """The server's log once ``fragment`` is in it (an access line is written just after the answer)."""
    deadline = time.monotonic() + timeout
    while True:
        output = server.output()
        if fragment in output or time.monotonic() > deadline:
            return output
        time.sleep(0.05)


@pytest.mark.server
def test_the_server_log_shows_phones_masked_and_never_whole(server):
    assert http(server, "POST", "/api/v1/auth/otp", {"phone": PHONE})["sent"] is True
    items = http(server, "GET", f"/api/v1/dev/outbox?phone={PHONE}")["items"]
    assert items and items[0]["phone"] == PHONE

    log = wait_for_log(server, f"/api/v1/dev/outbox?phone={mask_phone(PHONE)}")
    assert f"GET /api/v1/dev/outbox?phone={mask_phone(PHONE)}" in log
    assert PHONE not in log


@pytest.mark.server
def test_the_server_log_masks_a_phone_spelled_with_country_code_and_dashes(server):
    spelled = f"+86 {SPELLED_PHONE[:3]}-{SPELLED_PHONE[3:7]}-{SPELLED_PHONE[7:]}"
    http(server, "POST", "/api/v1/auth/otp", {"phone": spelled})
    items = http(server, "GET", "/api/v1/dev/outbox?phone=" + urllib.parse.quote(spelled))["items"]
    assert items and items[0]["phone"] == SPELLED_PHONE

    log = wait_for_log(server, SPELLED_PHONE[-4:] + " HTTP/1.1")
    assert SPELLED_PHONE[-4:] + " HTTP/1.1" in log
    for leak in (SPELLED_PHONE, SPELLED_PHONE[3:7]):
        assert leak not in log
