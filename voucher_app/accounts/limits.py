"""Rate limits on signing in, shared by the API and the sign-in pages (the same buckets)."""
from __future__ import annotations

from flask import current_app, request

from voucher_app.core.extensions import limiter
from voucher_app.core.phones import normalize_phone


def _phone_key() -> str:
    data = request.get_json(silent=True) if request.is_json else request.form
    raw = str(data.get("phone", "")) if hasattr(data, "get") else ""
    return "phone:" + (normalize_phone(raw) or raw[:32])


otp_per_phone = limiter.shared_limit(lambda: current_app.config["OTP_LIMIT_PER_PHONE"], scope="otp-phone",
                                     key_func=_phone_key)
otp_per_ip = limiter.shared_limit(lambda: current_app.config["OTP_LIMIT_PER_IP"], scope="otp-ip")
token_per_ip = limiter.shared_limit(lambda: current_app.config["TOKEN_LIMIT_PER_IP"], scope="token-ip")
# The staff sign-in page spends the same per-address allowance as the API (its form posts only).
staff_login_per_ip = limiter.shared_limit(lambda: current_app.config["TOKEN_LIMIT_PER_IP"], scope="token-ip",
                                          methods=["POST"])


