"""Who may call an endpoint or see a page: bearer tokens for the API, the session cookie for pages.

The API authenticates by ``Authorization: Bearer`` only, never by the session cookie, which is
why it can be exempt from CSRF: a forged cross-site request carries no bearer token.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

from flask import redirect, request, session, url_for
from flask_login import current_user

from voucher_app.accounts.models import User
from voucher_app.accounts.service import user_for_token
from voucher_app.accounts.sms import outbox_enabled
from voucher_app.core.clock import now
from voucher_app.core.errors import Forbidden, NotFound, SessionExpired, Unauthorized
from voucher_app.core.roles import Role

_USER_KEY = "voucher.api_user"
RESIDENT_SIGN_IN, STAFF_SIGN_IN = "accounts.login", "accounts.staff_login"


def api_user() -> User | None:
    """The user whose bearer token came with this request, or None."""
    # Cached on the request itself: ``g`` lives as long as the app context, which may span requests.
    if _USER_KEY not in request.environ:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        request.environ[_USER_KEY] = user_for_token(token.strip(), now()) if scheme.lower() == "bearer" and token else None
    return request.environ[_USER_KEY]


def roles_required(*roles: Role) -> Callable:
    """Refuse with ``unauthorized`` without a valid token, ``forbidden`` for any other role."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = api_user()
            if user is None:
                raise Unauthorized()
            if roles and user.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapper

    return decorator


def sign_in_page(roles: tuple[Role, ...]) -> str:
    """The endpoint of the sign-in page the people of ``roles`` use."""
    return RESIDENT_SIGN_IN if roles == (Role.resident,) else STAFF_SIGN_IN


def page_roles_required(*roles: Role) -> Callable:
    """Send visitors to the right sign-in page; refuse signed-in people of another role.

    A form sent after the sender's sign-in ended (a till left alone past ``STAFF_IDLE_SECONDS``) is
    ``session_expired`` (401) instead: a redirect would lose what was typed, and signing in would then
    come back to an address that only takes posts. The refusal's page offers the sign-in.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.method not in ("GET", "HEAD") and session.get("_user_id"):
                    raise SessionExpired()
                return redirect(url_for(sign_in_page(roles), next=request.full_path.rstrip("?")))
            if roles and current_user.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        wrapper.page_roles = roles  # which sign-in page a refusal of this page offers
        return wrapper

    return decorator


def development_only() -> None:
    """The development outbox's endpoints do not exist outside development and testing."""
    if not outbox_enabled():
        raise NotFound()
