"""Conditional answers for public reads: strong ETags, Cache-Control, and 304 without building the body.

A public read (the city's plan, residents' campaigns, the verification keys) is asked thousands of
times for each change of what it shows. Each view names the *state* its answer is made from — the
data versions (``versions.py``), the language, the arguments, and whatever else the body depends
on (the clock's position among the campaigns' moments, the claimed counts) — and ``answer`` does the
rest, written once here:

* each process keeps, per *slot* (one read with its meaningful arguments: this campaign, that page of
  the list, in this language), the body built for the slot's latest state and its ETag: the body is
  built once per state and worker, not per request, and a new state replaces the old one, so a
  process holds one body per slot (at most ``MAX_KEPT`` slots; a query string can name many);
* the ETag is the SHA-256 of the body's bytes, a strong validator that every worker and host gives the
  same body (so a client may revalidate with any of them);
* a request whose ``If-None-Match`` names that ETag is answered ``304 Not Modified`` with the ETag and
  the caching headers and no body — nothing is built, nothing serialised;
* a state of ``None`` means "do not keep" (the bureau's own views, data without a version): the body
  is built for the request, but its ETag still lets a client revalidate.

Pages (HTML) are the other kind of public read, and a harder one: the top bar names who is signed
in, forms carry a CSRF token bound to the session, a flashed message is one reader's. ``page`` gives
a rendered page its ETag and shares it (``public``, ``Vary: Cookie``: the language and large-text
choices are cookies) only when it cannot be anyone's own: an anonymous reader without a session
cookie, and a render that started no session. Everyone else gets ``private, no-cache``, revalidated
by the same ETag. Pages are rendered on every request (a 304 saves the transfer, not the render):
what they show is the API's reads, which are kept as above.

A cached body is only as fresh as its state: a view must put into the state everything its body
depends on, or the body could be answered after it changed. Built after the state was read, a body
is never older than its state.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask import Response, current_app, request, session
from flask_login import current_user

from voucher_app.core.cache import Kept

MAX_KEPT = 1024  # slots a process keeps before it starts again (a body is a few to a hundred kilobytes)


@dataclass(frozen=True)
class Caching:
    """How an answer may be kept by browsers and proxies."""

    cache_control: str
    vary: str | None = None


def public(max_age: int, vary: str | None = None) -> Caching:
    """The same for everyone who sends the same ``vary`` headers: any cache may keep it ``max_age`` s."""
    return Caching(f"public, max-age={max_age}", vary)


def private(vary: str | None = None) -> Caching:
    """One user's own answer: only their browser may keep it, and must revalidate it before each use."""
    return Caching("private, no-cache", vary)


@dataclass(frozen=True)
class _Built:
    state: Hashable
    etag: str
    body: bytes
    headers: list[tuple[str, str]]  # of the 304: ETag, Cache-Control, Vary
    content_type: tuple[str, str]


_kept: Kept[Hashable, _Built] = Kept(max_entries=MAX_KEPT)


def answer(slot: Hashable, state: Hashable | None, build: Callable[[], object], caching: Caching,
           mimetype: str = "application/json") -> Response:
    """The answer to the read ``slot``: 304 if the client holds the body of ``state``, else that
    body — kept, or made now by ``build`` (a JSON-able value; bytes or str for another ``mimetype``)."""
    built = _kept.get(slot) if state is not None else None
    if built is None or built.state != state:
        built = _build(state, build, caching, mimetype)
        if state is not None:
            _kept.put(slot, built, math.inf)
    held = request.environ.get("HTTP_IF_NONE_MATCH")
    if held is not None and _names(held, built.etag):
        return Response(status=304, headers=built.headers)
    return Response(built.body, headers=[built.content_type, *built.headers])


def page(html: str, max_age: int) -> Response:
    """A rendered page with its ETag, shared for ``max_age`` seconds only if it is nobody's own."""
    anonymous = (not current_user.is_authenticated and current_app.config["SESSION_COOKIE_NAME"] not in request.cookies
                 and not session.modified)
    caching = public(max_age, vary="Cookie") if anonymous else private(vary="Cookie")
    return answer(None, None, lambda: html, caching, "text/html; charset=utf-8")


def _names(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``etag``: RFC 9110 compares weakly here (``W/"x"``
    matches ``"x"``), and ``*`` names any."""
    if if_none_match == etag:
        return True  # what a client sends back, nearly always
    return any(held.strip().removeprefix("W/") in (etag, "*") for held in if_none_match.split(","))


def _build(state: Hashable | None, build: Callable[[], object], caching: Caching, mimetype: str) -> _Built:
    value = build()
    if isinstance(value, bytes):
        body = value
    elif isinstance(value, str):
        body = value.encode()
    else:
        body = (current_app.json.dumps(value) + "\n").encode()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = [("ETag", etag), ("Cache-Control", caching.cache_control)]
    if caching.vary:
        headers.append(("Vary", caching.vary))
    return _Built(state, etag, body, headers, ("Content-Type", mimetype))
