"""No personal data in a log: mobile numbers and bearer tokens are masked in every record — message,
arguments, traceback, stack — by the filter on every handler the app, gunicorn and the scheduler write
through. (The whole run's logs are scanned as well: ``tests/log_scan.py``.)"""
from __future__ import annotations

import io
import logging
import sys
import time

import pytest
from flask.logging import default_handler
from gunicorn.config import Config as GunicornConfig

from tests.builders import next_phone, resident_token
from tests.http_client import Http
from voucher_app.core.logs import TOKEN_MASK, MaskPersonalDataFilter, mask_personal_data
from voucher_app.scheduler.runner import job_log_handler
from voucher_app.serving import MaskedLogger

PHONE = "16602461357"  # used by no other test, so its traces in the shared server's log are this module's
MASKED = "166****1357"
# The shape of an API token (itsdangerous, URL-safe): a JSON payload and its signature.
TOKEN = "eyJ1IjoiMDFqejAwMDAwMDAwMDAwMDAwMDAwMDAwMDAiLCJyIjoicmVzaWRlbnQifQ.Xq1n0Yc2Vd3_Ke4-Lf5Mg6Nh7Oi"
# Other shapes itsdangerous makes: with a timestamp, and with a compressed payload.
OTHER_TOKENS = ["eyJ1IjoiMDFqejAwMDAiLCJyIjoicmVzaWRlbnQifQ.aZb3xQ.Xq1n0Yc2Vd3_Ke4-Lf5Mg6Nh7Oi",
                ".eJyrVipTslIyMDBUKCjKTEnNK1GqBQA-2wXz.Xq1n0Yc2Vd3_Ke4-Lf5Mg6Nh7Oi"]


def record(msg, *args, exc_info=None, stack_info=None) -> logging.LogRecord:
    made = logging.LogRecord("voucher.test", logging.ERROR, __file__, 1, msg, args, exc_info)
    made.stack_info = stack_info
    return made


def written(*records: logging.LogRecord, before: logging.Handler | None = None) -> str:
    """What a handler with the masking filter writes for ``records`` (after ``before``, unmasked, if given)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPersonalDataFilter())
    for each in records:
        if before is not None:
            before.handle(each)
        handler.handle(each)
    return stream.getvalue()


def raised(message: str):
    try:
        raise LookupError(message)
    except LookupError:
        return sys.exc_info()


# The filter -------------------------------------------------------------------------------------------

def test_phones_and_tokens_in_a_records_arguments_are_masked():
    line = written(record("sign-in of %s with %s at %s", PHONE, f"Bearer {TOKEN}", "12:00"))
    assert line == f"sign-in of {MASKED} with Bearer {TOKEN_MASK} at 12:00\n"


def test_a_phone_in_an_exceptions_message_is_masked_in_the_traceback():
    line = written(record("claim failed for %s", PHONE, exc_info=raised(f"no resident with phone {PHONE}")))
    assert "Traceback (most recent call last)" in line and f"LookupError: no resident with phone {MASKED}" in line
    assert PHONE not in line


def test_a_traceback_an_earlier_handler_already_formatted_is_masked_too():
    """A handler without the filter formats first and caches the traceback on the record."""
    unmasked = logging.StreamHandler(io.StringIO())
    line = written(record("failed", exc_info=raised(f"token {TOKEN} of {PHONE}")), before=unmasked)
    assert "LookupError" in line and PHONE not in line and TOKEN not in line


def test_the_stack_of_a_record_is_masked():
    line = written(record("here", stack_info=f'Stack (most recent call last):\n  File "x.py", line 1\n    f("{PHONE}")'))
    assert MASKED in line and PHONE not in line


@pytest.mark.parametrize("headers", [
    {"Authorization": f"Bearer {TOKEN}"},
    {"HTTP_AUTHORIZATION": "Basic cmVzaWRlbnQ6c2VjcmV0LXBhc3N3b3Jk"},
    {"authorization": "some-api-key-0123456789"},
])
def test_the_authorization_header_is_masked_whatever_its_scheme(headers):
    line = written(record("request headers: %s", headers))
    assert TOKEN_MASK in line and list(headers.values())[0].split()[-1] not in line


@pytest.mark.parametrize("token", [TOKEN, *OTHER_TOKENS])
def test_a_token_on_its_own_is_recognised_by_its_shape(token):
    assert mask_personal_data(f"GET /wallet?t={token}&x=1") == f"GET /wallet?t={TOKEN_MASK}&x=1"


def test_a_real_api_token_is_recognised(client):
    token = resident_token(client)
    assert token not in mask_personal_data(f"issued {token} to a resident")


def test_a_record_whose_arguments_do_not_fit_is_masked_and_kept():
    made = record("code for %s sent at %s", PHONE)  # one argument short: logging itself would print both raw
    assert MaskPersonalDataFilter().filter(made) is True
    assert MASKED in made.getMessage() and PHONE not in made.getMessage()


def test_other_text_is_left_alone():
    line = "job settle for 2026-12-01T02:00:00+08:00: 12 statements, 128000 cents (voucher_app.settlement.jobs)"
    assert mask_personal_data(line) == line


# Where the filter is installed --------------------------------------------------------------------------

def test_every_handler_the_app_writes_through_masks(app):
    handlers = [*logging.getLogger().handlers, *app.logger.handlers, default_handler, logging.lastResort]
    unmasked = [h for h in handlers if not any(isinstance(f, MaskPersonalDataFilter) for f in h.filters)]
    assert unmasked == []


def test_gunicorns_error_and_access_logs_mask(capsys):
    cfg = GunicornConfig()
    cfg.set("accesslog", "-")
    cfg.set("errorlog", "-")
    logger = MaskedLogger(cfg)
    try:
        logger.error("worker failed on %s", f"/api/v1/dev/outbox?phone={PHONE}",
                     exc_info=raised(f"Authorization: Bearer {TOKEN}"))
        logger.access_log.info(cfg.access_log_format, {"h": "10.0.0.1", "l": "-", "u": "-", "t": "[now]",
                                                       "r": f"GET /login?phone=%2B86{PHONE} HTTP/1.1", "s": "200",
                                                       "b": "12", "f": f"https://x.test/?t={TOKEN}", "a": "phone"})
        out = capsys.readouterr()
    finally:
        for log in (logger.error_log, logger.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
    written_out = out.out + out.err
    assert f"phone={MASKED}" in written_out and f"phone=%2B86{MASKED}" in written_out
    assert PHONE not in written_out and TOKEN not in written_out and "LookupError" in written_out


def test_the_schedulers_log_masks():
    handler = job_log_handler()
    handler.setStream(stream := io.StringIO())
    handler.handle(record("job expire failed for %s", PHONE, exc_info=raised(PHONE)))
    assert MASKED in stream.getvalue() and PHONE not in stream.getvalue()


# The real server ----------------------------------------------------------------------------------------

def wait_for_log(server, fragment: str, timeout: float = 5) -> str:
    deadline = time.monotonic() + timeout
    while fragment not in server.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.output()


@pytest.mark.server
def test_the_servers_access_log_masks_a_real_token_and_a_phone(server):
    """gunicorn logs the referrer and user agent of every request; a client may put anything there."""
    http = Http(server.url)
    token = http.resident_token(next_phone())
    probe = f"probe-{time.monotonic_ns()}"
    status, _, _ = http.get(f"/api/v1/health?{probe}", headers={
        "Referer": f"https://city.test/wallet?phone={PHONE}&t={token}", "User-Agent": f"Bearer {token}"})
    assert status == 200
    line = next(line for line in wait_for_log(server, probe).splitlines() if probe in line)
    assert f"phone={MASKED}&t={TOKEN_MASK}" in line and f"Bearer {TOKEN_MASK}" in line
    assert PHONE not in server.output() and token not in server.output()

