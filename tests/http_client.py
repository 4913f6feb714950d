"""A small HTTP client for black-box tests against the real server (standard library only)."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request


class Http:
    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def call(self, method: str, path: str, body=None, token: str | None = None, headers: dict | None = None):
        """(status, parsed JSON or text, response headers) of one request to the API."""
        hdrs = {"Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload, headers_out = response.status, response.read(), response.headers
        except urllib.error.HTTPError as err:
            status, payload, headers_out = err.code, err.read(), err.headers
        try:
            return status, json.loads(payload or b"null"), headers_out
        except ValueError:
            return status, payload.decode(errors="replace"), headers_out

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body if body is not None else {}, **kw)

    def resident_token(self, phone: str) -> str:
        status, _, _ = self.post("/api/v1/auth/otp", {"phone": phone})
        assert status == 202
        _, outbox, _ = self.get(f"/api/v1/dev/outbox?phone={phone}")
        code = re.search(r"(?<!\d)\d{6}(?!\d)", outbox["items"][0]["text"]).group(0)
        status, body, _ = self.post("/api/v1/auth/token", {"phone": phone, "code": code})
        assert status == 200, body
        return body["token"]
