"""Plumbing of the web pages: who may see a page."""
from __future__ import annotations

import functools
from collections.abc import Callable

from flask import redirect, request, url_for
from flask_login import current_user

from .accounts.models import Role
from .errors import Forbidden


def page_roles_required(*roles: Role) -> Callable:
    """Send visitors to the right sign-in page; refuse signed-in people of another role."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                endpoint = "accounts.login" if roles == (Role.resident,) else "accounts.staff_login"
                return redirect(url_for(endpoint, next=request.full_path.rstrip("?")))
            if roles and current_user.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapper

    return decorator
