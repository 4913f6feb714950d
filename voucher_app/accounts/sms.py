"""Pluggable SMS senders. Development and testing write to an outbox; production posts to a gateway."""
from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.request
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import select

from voucher_app.accounts.models import OutboxMessage
from voucher_app.core.database import write_transaction
from voucher_app.core.errors import ConfigurationError
from voucher_app.core.extensions import db
from voucher_app.core.phones import normalize_phone

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    def send(self, phone: str, text: str, now: dt.datetime) -> None: ...


class OutboxSender:
    """Keeps messages in the ``sms_outbox`` table, shown at ``/api/v1/dev/outbox`` and ``/dev/outbox``.

    A table rather than memory, so that every worker process sees every message.
    """

    def send(self, phone: str, text: str, now: dt.datetime) -> None:
        with write_transaction():
            db.session.add(OutboxMessage(phone=phone, text=text, sent_at=now))


class HttpGatewaySender:
    """Posts ``{"phone", "text"}`` as JSON to the operator's SMS gateway (``SMS_GATEWAY_URL``)."""

    def __init__(self, url: str, token: str | None, timeout: float = 5.0):
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, phone: str, text: str, now: dt.datetime) -> None:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            if response.status >= 300:
                log.error("SMS gateway answered %s", response.status)


def configure_sms(app: Flask) -> None:
    kind = app.config["SMS_SENDER"]
    if kind == "outbox":
        sender: SmsSender = OutboxSender()
    elif kind == "http":
        url = app.config.get("SMS_GATEWAY_URL")
        if not url:
            raise ConfigurationError("SMS_SENDER=http needs VOUCHER_SMS_GATEWAY_URL (the SMS gateway's address)")
        sender = HttpGatewaySender(url, app.config.get("SMS_GATEWAY_TOKEN"))
    else:
        raise ConfigurationError(f"VOUCHER_SMS_SENDER={kind!r} is unknown: use 'outbox' or 'http'")
    app.extensions["voucher.sms"] = sender


def sms_sender() -> SmsSender:
    return current_app.extensions["voucher.sms"]


def outbox_enabled(app: Flask | None = None) -> bool:
    app = app or current_app
    return app.config["SMS_SENDER"] == "outbox" and app.config["ENV_NAME"] in ("development", "testing")


def outbox_messages(phone: str | None) -> list[OutboxMessage]:
    """The latest 50 messages the development outbox kept, newest first (one phone's, if given)."""
    query = select(OutboxMessage).order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc()).limit(50)
    if phone:
        query = query.where(OutboxMessage.phone == (normalize_phone(phone) or phone))
    return list(db.session.scalars(query))
