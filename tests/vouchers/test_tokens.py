"""The QR a resident shows: a signed, short-lived token; decoded from the real PNG by a real decoder."""
from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
import zxingcpp
from PIL import Image

from tests.builders import bearer, make_staff, resident_token, staff_token
from tests.campaign_data import campaign_body
from voucher_app.core.errors import InvalidToken, TokenExpired
from voucher_app.core.roles import Role
from voucher_app.vouchers import tokens
from voucher_app.vouchers.tokens import KeyRing


@pytest.fixture
def wallet(client, city, clock):
    """A resident holding one claimed voucher: (headers, voucher)."""
    admin = bearer(staff_token(client, make_staff(Role.admin).username))
    campaign = client.post("/api/v1/campaigns", json=campaign_body(), headers=admin).get_json()
    client.post(f"/api/v1/campaigns/{campaign['id']}/publish", headers=admin)
    clock.advance(hours=1)
    me = bearer(resident_token(client))
    voucher = client.post(f"/api/v1/campaigns/{campaign['id']}/claims", json={"tier_id": campaign["tiers"][0]["id"]},
                          headers={**me, "Idempotency-Key": uuid.uuid4().hex}).get_json()
    return me, voucher


def test_the_token_names_the_voucher_and_lives_a_minute(client, wallet, clock):
    me, voucher = wallet
    body = client.get(f"/api/v1/me/vouchers/{voucher['id']}/token", headers=me).get_json()
    assert tokens.verify(body["token"], clock.now()) == voucher["id"]
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert expires - clock.now() == dt.timedelta(seconds=60)
    assert body["token"].isupper() or all(c in tokens.base45.BASE45_CHARSET for c in body["token"])
    assert len(body["token"]) <= 154  # fits a version-6 QR in alphanumeric mode


def test_the_png_decodes_to_a_token_that_verifies(client, wallet, clock):
    me, voucher = wallet
    response = client.get(f"/api/v1/me/vouchers/{voucher['id']}/qr.png", headers=me)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"].startswith("no-store")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
    assert len(decoded) == 1 and decoded[0].format == zxingcpp.BarcodeFormat.QRCode
    assert tokens.verify(decoded[0].text, clock.now()) == voucher["id"]


def test_the_svg_is_served(client, wallet):
    me, voucher = wallet
    response = client.get(f"/api/v1/me/vouchers/{voucher['id']}/qr.svg", headers=me)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml" and b"<svg" in response.data


def test_one_changed_character_is_rejected(client, wallet, clock):
    me, voucher = wallet
    token = client.get(f"/api/v1/me/vouchers/{voucher['id']}/token", headers=me).get_json()["token"]
    for i in (0, len(token) // 2, len(token) - 1):
        swapped = "A" if token[i] != "A" else "B"
        with pytest.raises(InvalidToken):
            tokens.verify(token[:i] + swapped + token[i + 1:], clock.now())


def test_an_expired_token_is_rejected(client, wallet, clock):
    me, voucher = wallet
    token = client.get(f"/api/v1/me/vouchers/{voucher['id']}/token", headers=me).get_json()["token"]
    clock.advance(seconds=60)
    with pytest.raises(TokenExpired):
        tokens.verify(token, clock.now())


def test_a_token_signed_by_an_unknown_key_is_rejected(app, wallet, clock, tmp_path):
    _, voucher = wallet
    stranger = KeyRing(tmp_path / "stranger")
    stranger.rotate()
    app.extensions["voucher.keyring"], mine = stranger, app.extensions.get("voucher.keyring")
    forged, _ = tokens.sign(voucher["id"], clock.now())
    app.extensions["voucher.keyring"] = mine or KeyRing(app.config["SIGNING_KEYS_DIR"])
    with pytest.raises(InvalidToken):
        tokens.verify(forged, clock.now())


def test_a_forged_key_id_costs_no_reading_of_the_keys(app, wallet, clock, tmp_path, monkeypatch):
    """A token naming an unknown key is refused without reading the key folder again, however many come."""
    _, voucher = wallet
    stranger = KeyRing(tmp_path / "stranger")
    stranger.rotate()
    tokens.keyring().keys()  # this process has read its keys
    app.extensions["voucher.keyring"], mine = stranger, tokens.keyring()
    forged, _ = tokens.sign(voucher["id"], clock.now())
    app.extensions["voucher.keyring"] = mine
    reads = []
    monkeypatch.setattr(KeyRing, "load", lambda self: reads.append(self.folder))
    for _ in range(100):
        with pytest.raises(InvalidToken):
            tokens.verify(forged, clock.now())
    assert reads == []


def test_a_key_rotated_by_another_host_verifies_on_its_first_token(app, wallet, clock):
    """Hosts share the key folder: a key another host added is read when its first token arrives."""
    _, voucher = wallet
    here = tokens.keyring()
    here.keys()
    elsewhere = KeyRing(here.folder)
    elsewhere.rotate()
    app.extensions["voucher.keyring"] = elsewhere
    token, _ = tokens.sign(voucher["id"], clock.now())
    app.extensions["voucher.keyring"] = here
    assert tokens.verify(token, clock.now()) == voucher["id"]
    elsewhere.retire(elsewhere.signing_key().kid)  # the folder as the other tests found it, but one retired key


def test_garbage_is_rejected(clock, app):
    for text in ["", "hello", "%%%%", "A" * 140, "ünïcode"]:
        with pytest.raises(InvalidToken):
            tokens.verify(text, clock.now())


def test_only_the_owner_gets_a_token(client, wallet):
    _, voucher = wallet
    other = bearer(resident_token(client))
    for suffix in ("token", "qr.png", "qr.svg"):
        response = client.get(f"/api/v1/me/vouchers/{voucher['id']}/{suffix}", headers=other)
        assert (response.status_code, response.get_json()["code"]) == (404, "not_found")
    cashier = bearer(staff_token(client, make_staff(Role.cashier).username))
    assert client.get(f"/api/v1/me/vouchers/{voucher['id']}/token", headers=cashier).status_code == 403
    assert client.get(f"/api/v1/me/vouchers/{voucher['id']}/token").status_code == 401


def test_an_expired_voucher_gets_no_token(client, wallet, clock):
    me, voucher = wallet
    clock.advance(days=7)
    response = client.get(f"/api/v1/me/vouchers/{voucher['id']}/token", headers=me)
    assert (response.status_code, response.get_json()["code"]) == (409, "voucher_expired")
    listed = client.get("/api/v1/me/vouchers", headers=me).get_json()["items"][0]
    assert listed["status"] == "expired"


def test_rotation_keeps_old_tokens_valid_until_the_old_key_retires(app, runner, wallet, clock):
    _, voucher = wallet
    old_token, _ = tokens.sign(voucher["id"], clock.now())
    old_kid = tokens.keyring().signing_key().kid
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    new_kid = tokens.keyring().signing_key().kid
    assert new_kid != old_kid
    assert tokens.verify(old_token, clock.now()) == voucher["id"]
    new_token, _ = tokens.sign(voucher["id"], clock.now())
    refused = runner.invoke(args=["keys", "retire", new_kid])
    assert refused.exit_code != 0 and "rotate first" in refused.output
    assert runner.invoke(args=["keys", "retire", old_kid]).exit_code == 0
    with pytest.raises(InvalidToken):
        tokens.verify(old_token, clock.now())
    assert tokens.verify(new_token, clock.now()) == voucher["id"]


def test_the_public_keys_are_published(client, wallet):
    me, voucher = wallet
    client.get(f"/api/v1/me/vouchers/{voucher['id']}/token", headers=me)
    keys = client.get("/api/v1/keys").get_json()["keys"]
    assert keys and all(k["alg"] == "EdDSA" and k["crv"] == "Ed25519" and len(k["kid"]) == 8 for k in keys)
    assert "d" not in keys[0]  # never the private part


def test_a_scanner_can_verify_offline_with_the_published_key(client, wallet):
    import base64

    import base45
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    me, voucher = wallet
    token = client.get(f"/api/v1/me/vouchers/{voucher['id']}/token", headers=me).get_json()["token"]
    raw = base45.b45decode(token)
    kid = raw[1:5].hex()
    key = next(k for k in client.get("/api/v1/keys").get_json()["keys"] if k["kid"] == kid)
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(key["x"] + "=="))
    public.verify(raw[-64:], raw[:-64])  # raises if forged


def test_the_typed_code_changes_every_minute(app, clock):
    voucher_id = "01m8a8a68v59ey819mx02rnm88"
    code = tokens.typed_code(voucher_id, clock.now())
    prefix, digits = code.rsplit("-", 1)
    assert prefix == "9MX02-RNM88"  # the id's last ten characters, as the cashier reads them
    assert tokens.typed_code_matches(voucher_id, digits, clock.now())
    assert tokens.typed_code_matches(voucher_id, digits, clock.now() + dt.timedelta(seconds=60))
    assert not tokens.typed_code_matches(voucher_id, digits, clock.now() + dt.timedelta(seconds=180))
