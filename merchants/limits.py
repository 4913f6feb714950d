"""Rate limits on registering a shop, shared by the API and the registration page."""
from __future__ import annotations

from flask import current_app

from voucher_app.core.extensions import limiter

# Registration is open to anyone and makes an account: limited per address, shared by API and page.
registrations_per_ip = limiter.shared_limit(lambda: current_app.config["REGISTRATION_LIMIT_PER_IP"],
                                            scope="merchant-registration", methods=["POST"])


