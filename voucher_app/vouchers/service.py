"""The wallet: a resident's vouchers, their state by the clock, and fresh QR tokens."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask_babel import gettext as _
from sqlalchemy import select

from campaigns.models import Campaign
from voucher_app.core.clock import iso
from voucher_app.core.errors import AlreadyRedeemed, NotFound, VoucherExpired, VoucherRevoked
from voucher_app.core.extensions import db
from voucher_app.vouchers import tokens
from voucher_app.vouchers.models import Voucher, VoucherStatus
from voucher_app.vouchers.schemas import wallet_out

# The wallet --------------------------------------------------------------------------------------------

def state_at(voucher: Voucher, now: dt.datetime) -> VoucherStatus:
    """The state a resident meets: a claimed voucher past its expiry is expired, job or no job."""
    if voucher.status is VoucherStatus.claimed and voucher.expires_at is not None and now >= voucher.expires_at:
        return VoucherStatus.expired
    return voucher.status


def my_vouchers(resident_id: str) -> list[tuple[Voucher, Campaign]]:
    """The resident's vouchers, newest first, each with its campaign."""
    rows = db.session.execute(
        select(Voucher, Campaign).join(Campaign, Campaign.id == Voucher.campaign_id)
        .where(Voucher.resident_id == resident_id).order_by(Voucher.claimed_at.desc(), Voucher.id.desc()))
    return [(voucher, campaign) for voucher, campaign in rows]


def owned_voucher(voucher_id: str, resident_id: str) -> Voucher:
    """The resident's own voucher; anyone else's is "not found", so ids reveal nothing."""
    voucher = db.session.get(Voucher, voucher_id)
    if voucher is None or voucher.resident_id != resident_id:
        raise NotFound(_("There is no such voucher in your wallet."))
    return voucher


def refuse_unusable(voucher: Voucher, now: dt.datetime) -> None:
    """Refuse a voucher that is not claimed and unused by the clock: ``already_redeemed``,
    ``voucher_revoked`` or ``voucher_expired``."""
    state = state_at(voucher, now)
    if state is VoucherStatus.redeemed:
        raise AlreadyRedeemed()
    if state is VoucherStatus.revoked:
        raise VoucherRevoked()
    if state is VoucherStatus.expired:
        raise VoucherExpired()


def fresh_token(voucher: Voucher, now: dt.datetime) -> dict:
    """A new QR token (and typed code) for a voucher that can still be used."""
    refuse_unusable(voucher, now)
    token, expires_at = tokens.sign(voucher.id, now)
    return {"voucher_id": voucher.id, "token": token, "expires_at": iso(expires_at),
            "code": tokens.typed_code(voucher.id, now), "refresh_in": tokens.TOKEN_TTL_SECONDS - 15}


def wallet(resident_id: str, now: dt.datetime, where_used: Callable[[list[str]], dict[str, dict]],
           wrong_codes: Callable[[list[str], dt.datetime], dict[str, dict]],
           printed: Callable[[list[str]], dict[str, dict]] | None = None) -> list[dict]:
    """The resident's vouchers as the wallet shows them. The till's domain (which sits above this
    one) tells where the used ones were used (``redemptions.service.where_used``) and which had wrong
    codes typed for them lately (``redemptions.typed.wrong_codes``); ``printing.sheets`` (which builds
    on this module) tells which were printed and whether that sheet is still in force."""
    held = my_vouchers(resident_id)
    used = where_used([v.id for v, _c in held if v.status.value == "redeemed"])
    tried = wrong_codes([v.id for v, _c in held], now)
    sheets = printed([v.id for v, _c in held]) if printed else {}
    return [{**wallet_out(v, c, state_at(v, now), now, used.get(v.id), tried.get(v.id)), "printed": sheets.get(v.id)}
            for v, c in held]
