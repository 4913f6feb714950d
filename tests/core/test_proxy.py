"""Behind a reverse proxy, per-address limits count the client's address, which the trusted proxies
forwarded (``PROXY_TRUSTED_HOPS``); not behind one (0, the default), a forwarded header is ignored,
since any client can send it."""
from __future__ import annotations

import pytest
from flask import jsonify, request

from tests.builders import next_phone
from tests.conftest import LiveServer
from tests.http_client import Http
from voucher_app.app import create_app

TIGHT_PER_IP = {"OTP_LIMIT_PER_PHONE": "1000/minute", "OTP_LIMIT_PER_IP": "3/minute"}
PROXY = {"REMOTE_ADDR": "10.0.0.2"}  # what the app sees as the peer behind a proxy
BEHIND_ONE_PROXY = {**TIGHT_PER_IP, "PROXY_TRUSTED_HOPS": 1}
NOT_BEHIND_A_PROXY = {**TIGHT_PER_IP, "PROXY_TRUSTED_HOPS": 0}


@pytest.fixture
def app_overrides(request) -> dict:
    """The settings a test names (``indirect`` parametrisation), else the testing configuration's."""
    return getattr(request, "param", {})


def ask_code(client, forwarded_for: str | None = None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/api/v1/auth/otp", json={"phone": next_phone()}, headers=headers, environ_base=PROXY)


@pytest.mark.parametrize("app_overrides", [BEHIND_ONE_PROXY], indirect=True)
def test_behind_a_proxy_each_forwarded_client_has_its_own_limit(client):
    assert [ask_code(client, "203.0.113.7").status_code for _ in range(3)] == [202, 202, 202]
    assert ask_code(client, "203.0.113.7").status_code == 429
    assert ask_code(client, "203.0.113.8").status_code == 202  # another resident behind the same proxy


@pytest.mark.parametrize("app_overrides", [BEHIND_ONE_PROXY], indirect=True)
def test_behind_one_proxy_a_client_cannot_dodge_its_limit_by_forging_the_header(client):
    """The proxy appends the address it saw; what the client wrote before it is not trusted."""
    statuses = [ask_code(client, f"198.51.100.{n}, 203.0.113.9").status_code for n in range(4)]
    assert statuses == [202, 202, 202, 429]


@pytest.mark.parametrize("app_overrides", [NOT_BEHIND_A_PROXY], indirect=True)
def test_not_behind_a_proxy_a_forwarded_header_is_ignored(client):
    statuses = [ask_code(client, f"198.51.100.{n}").status_code for n in range(4)]
    assert statuses == [202, 202, 202, 429]


@pytest.mark.parametrize("hops, seen", [
    (1, {"address": "203.0.113.7", "scheme": "https", "host": "quan.city.test"}),
    (0, {"address": "10.0.0.2", "scheme": "http", "host": "localhost"}),
])
def test_the_forwarded_address_scheme_and_host_are_believed_only_from_trusted_hops(app_settings, hops, seen):
    app = create_app("testing", {**app_settings, "PROXY_TRUSTED_HOPS": hops})

    @app.get("/_seen")
    def _seen():
        return jsonify({"address": request.remote_addr, "scheme": request.scheme, "host": request.host})

    response = app.test_client().get("/_seen", environ_base=PROXY, headers={
        "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "quan.city.test"})
    assert response.get_json() == seen


@pytest.mark.server
def test_the_real_server_behind_a_proxy_limits_each_forwarded_client(app, _schema, keys_dir):
    """One worker, so that the in-memory counters are the only ones (production keeps them in Redis)."""
    server = LiveServer(_schema, keys_dir, workers=1, env={
        "VOUCHER_PROXY_TRUSTED_HOPS": "1", "VOUCHER_OTP_LIMIT_PER_IP": "3/minute",
        "VOUCHER_OTP_LIMIT_PER_PHONE": "1000/minute"})
    try:
        http = Http(server.url)

        def ask(client_address: str) -> int:
            return http.post("/api/v1/auth/otp", {"phone": next_phone()},
                             headers={"X-Forwarded-For": client_address})[0]

        assert [ask("203.0.113.7") for _ in range(4)] == [202, 202, 202, 429]
        assert ask("203.0.113.8") == 202
    finally:
        server.stop()
