"""Small pieces every HTTP module shares: the list envelope and safe local redirects."""
from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Response, jsonify


def listing(items: Iterable[dict], next_cursor: str | None = None):
    """The envelope every list endpoint answers with."""
    return jsonify({"items": list(items), "next": next_cursor})


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: never another host (open redirects).

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so ``/\\evil.example``
    and ``/<tab>/evil.example`` would both lead to another host.
    """
    seen = re.sub(r"[\t\r\n]", "", target or "").replace("\\", "/")
    return seen if seen.startswith("/") and not seen.startswith("//") else None


def no_store(response: Response) -> Response:
    """A token is good for a minute and belongs to one person: no cache may keep it."""
    response.headers["Cache-Control"] = "no-store, private"
    return response
