"""Refusals of the claim and redemption paths, with the contract's stable codes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..errors import DomainError


class NotOpen(DomainError):
    code, status, title = "not_open", 409, _l("Claiming has not opened yet.")


class SoldOut(DomainError):
    code, status, title = "sold_out", 409, _l("Sold out. Please try the next round.")


class LimitReached(DomainError):
    code, status, title = "limit_reached", 409, _l("You have reached the limit for this campaign.")


class CampaignClosed(DomainError):
    code, status, title = "campaign_closed", 409, _l("This campaign has ended.")


class NotEligible(DomainError):
    code, status, title = "not_eligible", 403, _l("This is not available to you.")


class InvalidToken(DomainError):
    code, status, title = "invalid_token", 422, _l("This QR code is not a valid voucher.")


class TokenExpired(DomainError):
    code, status, title = "token_expired", 422, _l("This QR code has expired. Ask the customer to refresh it.")


class VoucherExpired(DomainError):
    code, status, title = "voucher_expired", 409, _l("This voucher has expired.")


class VoucherRevoked(DomainError):
    code, status, title = "voucher_revoked", 409, _l("This voucher has been revoked.")


class AlreadyRedeemed(DomainError):
    code, status, title = "already_redeemed", 409, _l("This voucher has already been used.")


class MerchantNotEnrolled(DomainError):
    code, status, title = ("merchant_not_enrolled", 403,
                           _l("This shop does not take part in the voucher's campaign."))


class OutsideHours(DomainError):
    code, status, title = "outside_hours", 409, _l("This voucher cannot be used at this time.")


class BelowThreshold(DomainError):
    code, status, title = "below_threshold", 422, _l("The bill does not reach the voucher's threshold.")
