"""Plumbing of the JSON API: bearer authentication, role checks and list envelopes.

The API authenticates by ``Authorization: Bearer`` only, never by the session cookie, which is
why it can be exempt from CSRF: a forged cross-site request carries no bearer token.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from flask import jsonify, request

from .accounts.models import Role, User
from .accounts.service import user_for_token
from .clock import now
from .errors import Forbidden, Unauthorized


_USER_KEY = "voucher.api_user"


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


def listing(items: Iterable[dict], next_cursor: str | None = None):
    """The envelope every list endpoint answers with."""
    return jsonify({"items": list(items), "next": next_cursor})
