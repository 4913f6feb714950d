"""The signed text a voucher's QR code carries, and the signing keys.

A token is ``Base45(payload ‖ Ed25519 signature)`` with a 29-byte payload::

    version (1) ‖ key id (4) ‖ voucher id (16, the ULID's bytes) ‖ issued at (4) ‖ expires at (4)

Base45 keeps to QR's alphanumeric mode, so the 93 bytes fit a version-6 code that a cheap phone
camera reads at once. The phone's token lives about a minute (the wallet refreshes it). A printed
sheet's token is another kind, version 2, with one more field::

    version (1) ‖ key id (4) ‖ voucher id (16) ‖ issued at (4) ‖ expires at (4) ‖ print generation (4)

It lives until the voucher expires, so it is worth nothing without the generation: the till takes
it only while the voucher's ``print_generation`` is still the one it carries (``printing.py``), and
``verify`` — what names a voucher from the phone — never takes it. Anyone can check a signature with
the public keys at ``/api/v1/keys``; whether the voucher may be redeemed is always decided by the server.

Keys live as PEM files in ``SIGNING_KEYS_DIR`` (default ``instance/keys``), never in the repository.
``voucher keys rotate`` adds a key that signs from then on; older keys keep verifying until
``voucher keys retire KID`` moves them to ``retired/``.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import base45
import pyotp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from ulid import ULID

from voucher_app.core.errors import InvalidToken, TokenExpired

VERSION = 1
_PAYLOAD = struct.Struct(">B4s16sII")
PRINTED_VERSION = 2
_PRINTED_PAYLOAD = struct.Struct(">B4s16sIII")
_PAYLOADS = {VERSION: _PAYLOAD, PRINTED_VERSION: _PRINTED_PAYLOAD}
SIGNATURE_LENGTH = 64
TOKEN_TTL_SECONDS = 60
TYPED_CODE_STEP_SECONDS = 60


@dataclass(frozen=True)
class SigningKey:
    kid: str  # 8 hex characters
    private: Ed25519PrivateKey
    created: str  # file name prefix, sorts by age
    public: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "public", self.private.public_key())  # derived once: every scan verifies with it

    def public_raw(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def kid_of(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:8]


class KeyRing:
    """The signing keys in a folder: the newest signs, all of them verify.

    A token naming a key this process does not know is read again from the folder only if the folder
    changed since it was last read (its modification time: adding or retiring a key changes it), so a
    forged key id costs one ``stat``, never a reading and parsing of every key. Several web hosts share
    the keys by mounting the same folder; a key rotated on one is found by the others on its first
    token.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._keys: dict[str, SigningKey] = {}
        self._loaded_version: int | None = None  # the folder's mtime (ns) when last read
        self._lock = threading.Lock()

    def _version(self) -> int | None:
        try:
            return self.folder.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def load(self) -> None:
        version = self._version()
        keys = {}
        for path in sorted(self.folder.glob("*.pem")):
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if isinstance(private, Ed25519PrivateKey):
                keys[kid_of(private)] = SigningKey(kid_of(private), private, path.stem)
        with self._lock:
            self._keys, self._loaded_version = keys, version

    def keys(self) -> list[SigningKey]:
        if not self._keys:
            self.load()
        return sorted(self._keys.values(), key=lambda k: k.created)

    def signing_key(self) -> SigningKey:
        keys = self.keys()
        if not keys:
            raise RuntimeError(f"no signing key in {self.folder}: run `voucher keys rotate`")
        return keys[-1]

    def find(self, kid: str) -> SigningKey | None:
        if kid not in self._keys and self._version() != self._loaded_version:
            self.load()  # another process (or host) rotated since we loaded
        return self._keys.get(kid)

    def rotate(self) -> SigningKey:
        """Add a new key, which signs from now on (file names sort by the wall clock's nanoseconds)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        private = Ed25519PrivateKey.generate()
        created = f"{time.time_ns():020d}"
        path = self.folder / f"{created}-{kid_of(private)}.pem"
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        path.touch(mode=0o600)
        path.write_bytes(pem)
        self.load()
        return self._keys[kid_of(private)]

    def retire(self, kid: str) -> Path:
        """Stop verifying tokens signed by ``kid`` (the key file moves to ``retired/``)."""
        for path in self.folder.glob(f"*-{kid}.pem"):
            retired = self.folder / "retired"
            retired.mkdir(exist_ok=True)
            target = retired / path.name
            path.rename(target)
            self.load()
            return target
        raise KeyError(kid)


def keyring() -> KeyRing:
    ring = current_app.extensions.get("voucher.keyring")
    if ring is None:
        folder = current_app.config.get("SIGNING_KEYS_DIR") or Path(current_app.instance_path) / "keys"
        ring = current_app.extensions["voucher.keyring"] = KeyRing(Path(folder))
    return ring


def _ensure_key(ring: KeyRing) -> SigningKey:
    """Development and testing make their first key themselves; production is given one."""
    if not ring.keys() and current_app.config["ENV_NAME"] in ("development", "testing"):
        ring.rotate()
    return ring.signing_key()


def sign(voucher_id: str, now: dt.datetime, ttl_seconds: int = TOKEN_TTL_SECONDS) -> tuple[str, dt.datetime]:
    """A fresh token for ``voucher_id`` and the moment it expires."""
    key = _ensure_key(keyring())
    issued = int(now.timestamp())
    expires = issued + ttl_seconds
    payload = _PAYLOAD.pack(VERSION, bytes.fromhex(key.kid), ULID.from_str(voucher_id.upper()).bytes, issued, expires)
    token = base45.b45encode(payload + key.private.sign(payload)).decode()
    return token, dt.datetime.fromtimestamp(expires, dt.timezone.utc)


def sign_printed(voucher_id: str, generation: int, now: dt.datetime, expires_at: dt.datetime) -> str:
    """A printed sheet's token for ``voucher_id``: valid until ``expires_at`` (the voucher's expiry) and
    only while the voucher's print generation is ``generation``."""
    key = _ensure_key(keyring())
    payload = _PRINTED_PAYLOAD.pack(PRINTED_VERSION, bytes.fromhex(key.kid), ULID.from_str(voucher_id.upper()).bytes,
                                    int(now.timestamp()), int(expires_at.timestamp()), generation)
    return base45.b45encode(payload + key.private.sign(payload)).decode()


@dataclass(frozen=True)
class Named:
    """What a genuine, unexpired token names."""

    voucher_id: str
    generation: int | None  # a printed sheet's print generation; None for the phone's token


def read(token: str, now: dt.datetime) -> Named:
    """The voucher a genuine, unexpired token of either kind names (a printed one with its generation,
    which the caller must compare with the voucher's); ``invalid_token`` or ``token_expired`` otherwise."""
    try:
        raw = base45.b45decode(token.strip("\r\n\t"))  # a space is a Base45 character
    except (ValueError, TypeError, AttributeError):
        raise InvalidToken() from None
    shape = _PAYLOADS.get(raw[0]) if raw else None
    if shape is None or len(raw) != shape.size + SIGNATURE_LENGTH:
        raise InvalidToken()
    payload, signature = raw[:shape.size], raw[shape.size:]
    version, kid, voucher_bytes, issued, expires, *generation = shape.unpack(payload)
    key = keyring().find(kid.hex())
    if key is None:
        raise InvalidToken()
    try:
        key.public.verify(signature, payload)
    except InvalidSignature:
        raise InvalidToken() from None
    if now.timestamp() >= expires:
        raise TokenExpired()
    return Named(str(ULID.from_bytes(voucher_bytes)).lower(), generation[0] if generation else None)


def verify(token: str, now: dt.datetime) -> str:
    """The voucher id a genuine, unexpired phone token names; ``invalid_token`` or ``token_expired``
    otherwise (a printed sheet's token too: it is good only with its generation checked, ``read``)."""
    named = read(token, now)
    if named.generation is not None:
        raise InvalidToken()
    return named.voucher_id


def keys_version() -> int | None:
    """What changes whenever a key is added or retired (the keys folder's modification time, as the
    ring itself tells other hosts' rotations): the public keys' answer is kept until it moves."""
    return keyring()._version()


def public_keys() -> list[dict]:
    """The verification keys, newest first, as JWK-style entries a scanner can use offline."""
    ring = keyring()
    ring.load()
    _ensure_key(ring)
    return [{"kid": k.kid, "alg": "EdDSA", "kty": "OKP", "crv": "Ed25519",
             "x": base64.urlsafe_b64encode(k.public_raw()).rstrip(b"=").decode()} for k in reversed(ring.keys())]


# Typed codes ------------------------------------------------------------------------------------------

def typed_code(voucher_id: str, now: dt.datetime) -> str:
    """What a cashier without a camera types: the voucher's last 10 id characters and 4 digits that
    change every minute (so a code read off an old screenshot soon stops working)."""
    code = voucher_id[-10:].upper()
    return f"{code[:5]}-{code[5:]}-{_digits(voucher_id, now)}"


def _digits(voucher_id: str, at: dt.datetime) -> str:
    """RFC 6238 time-based digits (one-minute steps) under a secret of this voucher's own, derived from
    the app's secret key, so nobody can compute them from the voucher's id. Four digits: pyotp makes
    six at least, and RFC 4226's truncation to four is the last four of the six (both are the same
    number modulo a power of ten)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    secret = base64.b32encode(hmac.new(key, f"typed:{voucher_id}".encode(), hashlib.sha256).digest()).decode()
    return pyotp.TOTP(secret, digits=6, interval=TYPED_CODE_STEP_SECONDS).at(at)[-4:]


def typed_code_matches(voucher_id: str, digits: str, now: dt.datetime) -> bool:
    """True for this minute's digits or the last minute's (the cashier may type slowly). Only four
    digits: the till limits wrong tries per voucher and per cashier (``redemptions/typed.py``)."""
    earlier = now - dt.timedelta(seconds=TYPED_CODE_STEP_SECONDS)
    return any(hmac.compare_digest(_digits(voucher_id, moment), digits) for moment in (now, earlier))


# A printed sheet's code -------------------------------------------------------------------------------

PRINTED_CODE_LENGTH = 8  # Crockford base32 characters after the voucher's ten: 40 bits
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def printed_code(voucher_id: str, generation: int) -> str:
    """What a cashier types from a printed sheet, which cannot change every minute: the voucher's last
    10 id characters and 8 characters keyed on the app's secret, the voucher and the print generation
    (so reprinting or revoking gives the old sheet's code up). 40 bits, behind the till's typed-code
    limits: not guessable."""
    code = voucher_id[-10:].upper()
    tail = _printed_tail(voucher_id, generation)
    return f"{code[:5]}-{code[5:]}-{tail[:4]}-{tail[4:]}"


def _printed_tail(voucher_id: str, generation: int) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    number = int.from_bytes(hmac.new(key, f"printed:{voucher_id}:{generation}".encode(), hashlib.sha256).digest()[:5], "big")
    return "".join(_CROCKFORD[(number >> shift) & 31] for shift in range(35, -1, -5))


def printed_code_matches(voucher_id: str, generation: int, tail: str) -> bool:
    """True if ``tail`` is the code of the sheet printed as ``generation`` (never for 0: not printed)."""
    return generation > 0 and hmac.compare_digest(_printed_tail(voucher_id, generation), tail)
