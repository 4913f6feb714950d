"""Rate limits on claiming, shared by the API and the campaign page (the same buckets)."""
from __future__ import annotations

from flask import current_app
from flask_login import current_user

from voucher_app.accounts.guards import api_user
from voucher_app.core.extensions import limiter


def _resident_key() -> str:
    user = api_user()
    return f"resident:{user.id}" if user else "anonymous"


def _page_resident_key() -> str:
    return f"resident:{current_user.id}" if current_user.is_authenticated else "anonymous"


claims_per_resident = limiter.shared_limit(lambda: current_app.config["CLAIM_LIMIT_PER_RESIDENT"],
                                           scope="claim-resident", key_func=_resident_key)
claims_per_resident_page = limiter.shared_limit(lambda: current_app.config["CLAIM_LIMIT_PER_RESIDENT"],
                                                scope="claim-resident", key_func=_page_resident_key)
claims_per_ip = limiter.shared_limit(lambda: current_app.config["CLAIM_LIMIT_PER_IP"], scope="claim-ip")


