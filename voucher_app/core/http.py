"""Small pieces every HTTP module shares: the list envelope and safe local redirects."""
from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

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


def referred_path(referrer: str | None, host_url: str) -> str | None:
    """The path (and query) of ``referrer`` when it is a page of this site (same scheme and host as
    ``host_url``), else None: a Referer from elsewhere never decides where we send anyone."""
    if not referrer:
        return None
    seen, own = urlsplit(referrer), urlsplit(host_url)
    if (seen.scheme, seen.netloc) != (own.scheme, own.netloc):
        return None
    return local_path(seen.path + (f"?{seen.query}" if seen.query else ""))


def no_store(response: Response) -> Response:
    """A token is good for a minute and belongs to one person: no cache may keep it."""
    response.headers["Cache-Control"] = "no-store, private"
    return response
