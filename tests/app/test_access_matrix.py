"""The role × route matrix (issue #15, item 9): every route of ``app.url_map`` and each of its methods,
called by each of nine people, answers what ``access_table.py`` says — and a route without a row (or a
row without a route) fails, so a new endpoint cannot ship without someone deciding who may call it.

Nine people: a visitor, a resident and another resident, shop 1's cashier and owner, shop 2's, a
read-only viewer and the bureau's admin. The API is called with bearer tokens, the pages in a browser
session signed in through ``/login`` (SMS code) or ``/staff/login``. One world serves the module
(``access_world.py``); in each row the refused people go first and the allowed last, and a body that
changes nothing (or an object of the row's own) keeps one call from changing another's answer.

CSRF is off (the testing configuration), so a page's form action meets its guard rather than the CSRF
check; ``tests/app/test_pages.py`` shows CSRF on its own.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.app import access_table as t
from tests.app.access_world import World, build_world
from tests.builders import TEST_NOW
from tests.conftest import _empty_tables
from voucher_app.app import create_app
from voucher_app.core.clock import MovableClock
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import release

IGNORED_METHODS = {"HEAD", "OPTIONS"}  # Flask answers them for every rule


@pytest.fixture(scope="module")
def matrix_app(_schema, keys_dir):
    """One app for the module, with no app context kept pushed: each request gets its own, as behind a
    real server (what the ``client`` fixture's twin app is for)."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": _schema, "SIGNING_KEYS_DIR": str(keys_dir)})
    app.extensions["voucher.clock"] = MovableClock(TEST_NOW)
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        release(db.engine)
        db.engine.dispose()


@pytest.fixture(scope="module")
def world(matrix_app) -> World:
    return build_world(matrix_app)


def test_every_route_has_a_row_and_every_row_a_route(matrix_app):
    routes = {(method, rule.rule) for rule in matrix_app.url_map.iter_rules()
              for method in rule.methods - IGNORED_METHODS}
    rows = [(row.method, row.rule) for row in t.ROWS]
    twice = sorted({row for row in rows if rows.count(row) > 1})
    missing = sorted(routes - set(rows))
    gone = sorted(set(rows) - routes)
    assert not twice, "rows given twice in access_table.py: " + ", ".join(" ".join(r) for r in twice)
    assert not missing, ("routes without a row in tests/app/access_table.py (say who may call them): "
                         + ", ".join(" ".join(r) for r in missing))
    assert not gone, "rows for routes that no longer exist: " + ", ".join(" ".join(r) for r in gone)


@pytest.mark.parametrize("row", t.ROWS, ids=str)
def test_who_may_call_the_route(world, row):
    assert set(row.who) == set(t.ROLES), f"{row}: a row names what each of the nine people meets"
    # The refused first: an allowed call may change the world (a refund that succeeds), a refused one must not.
    order = sorted(t.ROLES, key=lambda role: row.who[role] is t.ALLOWED)
    wrong = []
    for role in order:
        seen = call(world, row, role)
        if not row.who[role](seen):
            wrong.append(f"as {role}: expected {row.who[role]}, got {seen}")
    assert not wrong, f"{row}  ({row.path(world.ids)})\n  " + "\n  ".join(wrong)


def call(world: World, row: t.Row, role: str) -> t.Seen:
    """``row``'s request as ``role`` would send it: the API with a bearer token, a page in a browser."""
    path = row.path(world.ids)
    body = {}
    if row.method in ("POST", "PATCH", "PUT"):
        if row.json is not None or row.is_api:
            body["json"] = t.resolved(row.json if row.json is not None else {}, world.ids)
        else:
            body["data"] = t.resolved(row.form or {}, world.ids)
    if row.is_api:
        headers = world.fresh_headers(role) if row.fresh else world.headers[role]
        response = world.api_client().open(path, method=row.method, headers=headers, **body)
        return seen(path, response, api=True)
    browser = world.fresh_browser(role) if row.fresh else world.pages[role]
    response = browser.open(path, method=row.method, **body)
    with browser.session_transaction() as session:  # read (and clear) what the page flashed
        flashes = tuple(tuple(flash) for flash in session.pop("_flashes", []))
    return seen(path, response, api=False, flashes=flashes)


def seen(path: str, response, *, api: bool, flashes: tuple = ()) -> t.Seen:
    code = None
    if response.mimetype == "application/problem+json":
        code = (response.get_json(silent=True) or {}).get("code")
    location = next_param = None
    if response.status_code in (301, 302, 303, 307, 308):
        target = urlsplit(response.headers.get("Location", ""))
        location = target.path
        next_param = parse_qs(target.query).get("next", [None])[0]
        if next_param:
            next_param = urlsplit(next_param).path
    return t.Seen(path=path, status=response.status_code, api=api, code=code, location=location, next=next_param,
                  flashes=flashes)
