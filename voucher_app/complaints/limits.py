"""Rate limits on residents' complaints and return requests, shared by the API and the pages (the same
buckets): ``COMPLAINT_LIMIT_PER_RESIDENT`` each, so one account cannot flood a shop or the bureau."""
from __future__ import annotations

from flask import Response, current_app, request
from flask_login import current_user

from voucher_app.accounts.guards import api_user
from voucher_app.core.extensions import limiter


def _resident_key() -> str:
    user = api_user()
    return f"resident:{user.id}" if user else "anonymous"


def _page_resident_key() -> str:
    return f"resident:{current_user.id}" if current_user.is_authenticated else "anonymous"


def _limit() -> str:
    return current_app.config["COMPLAINT_LIMIT_PER_RESIDENT"]


def _only_posts() -> bool:
    return request.method != "POST"


def _made(response: Response) -> bool:
    """Only what was filed counts: a form sent back for correcting costs nothing."""
    return response.status_code in (201, 302, 303)


complaints_per_resident = limiter.shared_limit(_limit, scope="complaint-resident", key_func=_resident_key,
                                               deduct_when=_made)
complaints_per_resident_page = limiter.shared_limit(_limit, scope="complaint-resident", key_func=_page_resident_key,
                                                    exempt_when=_only_posts, deduct_when=_made)
returns_per_resident = limiter.shared_limit(_limit, scope="return-request-resident", key_func=_resident_key,
                                            deduct_when=_made)
returns_per_resident_page = limiter.shared_limit(_limit, scope="return-request-resident",
                                                 key_func=_page_resident_key, exempt_when=_only_posts, deduct_when=_made)
