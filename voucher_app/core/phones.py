"""Mainland mobile numbers: validation and masking.

A phone number is personal data: anyone but its owner sees it masked, and logs never hold it.
"""
from __future__ import annotations

import re

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
# Any spelling ``normalize_phone`` accepts, also URL-encoded as in a logged query string:
# "13800138000", "+86 138-0013-8000", "%2B86%20138%200013%208000", "0086+138+0013+8000".
_SEP = r"(?:[\s\-+]|%20)?"
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?P<prefix>(?:\+|%2[Bb]|00)?86" + _SEP + r")?"
                            r"(1[3-9]\d)" + _SEP + r"(\d{4})" + _SEP + r"(\d{4})(?!\d)")


def normalize_phone(raw: str) -> str | None:
    """The 11-digit number in ``raw`` (spaces, dashes and a +86 prefix allowed), or None."""
    digits = re.sub(r"[\s\-]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits if PHONE_RE.match(digits) else None


def mask_phone(phone: str) -> str:
    """``13800138000`` → ``138****8000``."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def mask_phones_in(text: str) -> str:
    """Every mobile number in ``text``, in any spelling above, masked (``core.logs`` masks log records with it)."""
    return _PHONE_IN_TEXT.sub(lambda m: f"{m.group('prefix') or ''}{m.group(2)}****{m.group(4)}", text)
