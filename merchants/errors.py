"""Refusals particular to merchants, with the contract's stable codes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from voucher_app.errors import DomainError


class MerchantSuspended(DomainError):
    """The bureau has suspended the shop: its owner and cashiers may look, but not act."""

    code, status, title = "merchant_suspended", 403, _l(
        "This shop is suspended by the commerce bureau and cannot do that until it is reinstated.")
