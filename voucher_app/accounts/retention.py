"""What sign-in leaves behind, purged once it can no longer matter (README, "Retention").

Every purge keeps a row for a while after the last moment it could change an answer, so that a
purge, whenever it runs, never changes what a user is told:

* a one-time code answers only until it expires (``sign_in_with_otp`` reads the newest one); kept a
  little longer, it lets support see that a code was sent and when;
* the SMS outbox (development and testing) is what a developer reads back for a few days;
* a sign-in expired or revoked already refuses its token by its own row, and once purged the token
  is refused as unknown (a signed token for a missing row is never accepted);
* a run of wrong passwords is a lockout only while ``locked_until`` is ahead; a row not locked and
  idle for a day is a run the guesser has abandoned, and the per-address limit still slows the next.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import or_

from voucher_app.accounts.models import OtpCode, OutboxMessage, SignIn, SignInFailure
from voucher_app.core.retention import purge

_otp, _outbox, _sign_ins, _failures = (OtpCode.__table__, OutboxMessage.__table__, SignIn.__table__,
                                       SignInFailure.__table__)


def purge_otp_codes(now: dt.datetime, keep: dt.timedelta) -> int:
    """One-time codes expired more than ``keep`` ago."""
    return purge(_otp, _otp.c.expires_at < now - keep)


def purge_sms_outbox(now: dt.datetime, keep: dt.timedelta) -> int:
    """Development outbox messages sent more than ``keep`` ago."""
    return purge(_outbox, _outbox.c.sent_at < now - keep)


def purge_sign_ins(now: dt.datetime, keep: dt.timedelta) -> int:
    """Sign-ins expired, or revoked, more than ``keep`` ago."""
    return purge(_sign_ins, or_(_sign_ins.c.expires_at < now - keep, _sign_ins.c.revoked_at < now - keep))


def purge_sign_in_failures(now: dt.datetime, keep: dt.timedelta) -> int:
    """Runs of wrong passwords whose last failure is more than ``keep`` ago and that lock nothing now."""
    return purge(_failures, (_failures.c.last_failed_at < now - keep)
                 & (_failures.c.locked_until.is_(None) | (_failures.c.locked_until <= now)))


def purge_sign_in_records(now: dt.datetime, *, otp_codes: dt.timedelta, sms_outbox: dt.timedelta,
                          sign_ins: dt.timedelta, sign_in_failures: dt.timedelta) -> dict[str, int]:
    """Each of the above with its retention; how many rows of each were purged."""
    return {"otp_codes_purged": purge_otp_codes(now, otp_codes),
            "sms_outbox_purged": purge_sms_outbox(now, sms_outbox),
            "sign_ins_purged": purge_sign_ins(now, sign_ins),
            "sign_in_failures_purged": purge_sign_in_failures(now, sign_in_failures)}


def sign_in_retention(config: Mapping) -> dict[str, dt.timedelta]:
    """The retention of each, from the configuration: ``purge_sign_in_records``'s keyword arguments."""
    return {"otp_codes": dt.timedelta(days=float(config["RETENTION_OTP_CODES_DAYS"])),
            "sms_outbox": dt.timedelta(days=float(config["RETENTION_SMS_OUTBOX_DAYS"])),
            "sign_ins": dt.timedelta(days=float(config["RETENTION_SIGN_INS_DAYS"])),
            "sign_in_failures": dt.timedelta(hours=float(config["RETENTION_SIGN_IN_FAILURES_HOURS"]))}
