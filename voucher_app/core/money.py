"""Money: integer fen (分) everywhere inside; yuan (元) only where a person reads or types it.

One conversion each way, in decimal arithmetic (never floats), so an amount shown or parsed is exact to
the fen. The few ways an amount is written out differ only in separators and trailing zeros.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Literal

from flask_babel import gettext as _

_AMOUNT = re.compile(r"^(\d{1,12})(?:\.(\d*))?$")
_SEPARATORS = re.compile(r"[\s,，¥]")


def yuan(cents: int | None) -> Decimal | None:
    """Fen → yuan, exactly: 123450 → Decimal("1234.50") (what exports write as numbers)."""
    return None if cents is None else Decimal(int(cents)).scaleb(-2).quantize(Decimal("0.01"))


def yuan_text(cents: int | None, *, grouping: bool = True,
              trim: Literal["none", "whole", "zeros"] = "none") -> str:
    """Fen as yuan text: 123450 → "1,234.50" (``grouping=False``: "1234.50", as an input's value).

    ``trim="whole"`` drops ".00" from whole amounts ("30", but "12.50"), as pages show prices;
    ``trim="zeros"`` drops every trailing zero ("12.5"), as a voucher's rule reads (满100减12.5).
    """
    if cents is None:
        return ""
    text = f"{yuan(cents):,.2f}" if grouping else f"{yuan(cents):.2f}"
    if trim == "whole" and text.endswith(".00"):
        return text[:-3]
    if trim == "zeros":
        return text.rstrip("0").rstrip(".")
    return text


class UnreadableAmount(ValueError):
    """Typed text that is not an amount in yuan; the message tells the user how to write one."""


def parse_yuan(text: str | None) -> int | None:
    """Yuan as typed ("1,280.5", "¥30") → fen, exactly; None when blank; ``UnreadableAmount`` otherwise."""
    cleaned = _SEPARATORS.sub("", text or "")
    if not cleaned:
        return None
    match = _AMOUNT.match(cleaned)
    if not match:
        raise UnreadableAmount(_("Enter an amount in yuan, such as 30 or 12.50."))
    if len((match.group(2) or "").rstrip("0")) > 2:
        raise UnreadableAmount(_("Use at most 2 decimals: amounts are exact to the fen."))
    try:
        return int(Decimal(cleaned) * 100)
    except InvalidOperation:
        raise UnreadableAmount(_("Enter an amount in yuan, such as 30 or 12.50.")) from None
