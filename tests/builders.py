"""Builders for test data, in the domain's words."""
from __future__ import annotations

import itertools
import re

from voucher_app.accounts.models import Role, User
from voucher_app.accounts.service import create_staff

PASSWORD = "Correct-Horse-42"
_phones = itertools.count(13900000001)
_names = itertools.count(1)


def next_phone() -> str:
    return str(next(_phones))


def make_staff(role: Role = Role.admin, username: str | None = None, password: str = PASSWORD, **kw) -> User:
    return create_staff(username or f"{role.value}{next(_names)}", password, role, **kw)


def latest_code(client, phone: str) -> str:
    """The 6-digit code in the newest SMS the development outbox holds for ``phone``."""
    items = client.get(f"/api/v1/dev/outbox?phone={phone}").get_json()["items"]
    return re.search(r"(?<!\d)\d{6}(?!\d)", items[0]["text"]).group(0)


def resident_token(client, phone: str | None = None) -> str:
    """Sign a resident in through the API, as the phone app does, and return the bearer token."""
    phone = phone or next_phone()
    assert client.post("/api/v1/auth/otp", json={"phone": phone}).status_code == 202
    response = client.post("/api/v1/auth/token", json={"phone": phone, "code": latest_code(client, phone)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def staff_token(client, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
