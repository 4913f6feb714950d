"""No personal data in a log: mobile numbers and bearer tokens are masked in every record.

Why a filter on each handler, and why it rewrites the record. A filter on a *logger* sees only
the records logged on that very logger, not those its children propagate to it; a filter on a
*handler* sees every record that handler writes, whoever logged it (Flask, gunicorn's access log,
APScheduler, a library's warning). So ``install_masking`` puts one on every handler the app,
gunicorn and the scheduler write through, and on ``logging.lastResort``, which writes when no
handler is configured at all. The filter masks the record in place — its message with the
arguments merged in, the formatted traceback (``exc_text``, which every ``logging.Formatter``
prints instead of formatting the exception again) and the stack — so handlers later in the
chain see the masked record too.

What counts as a secret here: a mainland mobile number in any spelling a user types
(``phones.mask_phones_in``), the value of an ``Authorization`` header, whatever follows
``Bearer``, and anything shaped like one of our API tokens (itsdangerous' URL-safe signed form: a
base64url JSON payload and its signature joined by dots), even with no header name beside it.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from voucher_app.core.phones import mask_phones_in

TOKEN_MASK = "[token]"

_TOKEN_IN_TEXT = re.compile(
    # "Authorization: Bearer abc", "'HTTP_AUTHORIZATION': 'Basic abc'", "authorization=abc": the value,
    # scheme included.
    r"(?P<header>(?<![a-z])authorization['\"]?\s*[:=]\s*['\"]?)(?:(?:bearer|basic|token)\s+)?[^\s'\",;]+"
    # "Bearer abc" anywhere: the credential that follows.
    r"|(?P<scheme>\bbearer\s+)[^\s'\",;\[]+"
    # An itsdangerous URL-safe token: its payload is a JSON object in base64url ("eyJ…"), or "." and
    # zlib data ("eJ…"); then the signature, perhaps after a timestamp, joined by dots. A JWT too.
    r"|(?<![\w.-])(?:eyJ|\.eJ)[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]+){1,2}",
    re.IGNORECASE)

# Only used for its ``formatException``, the traceback text every standard formatter prints.
_TRACEBACKS = logging.Formatter()


def _masked_token(match: re.Match) -> str:
    return (match.group("header") or match.group("scheme") or "") + TOKEN_MASK


def mask_personal_data(text: str) -> str:
    """``text`` with every mobile number masked (``138****8000``) and every bearer token replaced."""
    # Tokens first: a phone's mask inside a token would hide the token from its pattern.
    return mask_phones_in(_TOKEN_IN_TEXT.sub(_masked_token, text))


class MaskPersonalDataFilter(logging.Filter):
    """Masks phones and tokens in a record's message, arguments, traceback and stack; never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the message: logging would print both raw
            message = f"{record.msg} {record.args!r}"
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info:
            # An exception's message may hold a phone ("no account for 13800138000"): format the
            # traceback once, masked, where every formatter takes it from.
            record.exc_text = mask_personal_data(record.exc_text or _TRACEBACKS.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True


def install_masking(handlers: Iterable[logging.Handler]) -> None:
    """Put the masking filter on each handler that has none yet."""
    for handler in handlers:
        if not any(isinstance(f, MaskPersonalDataFilter) for f in handler.filters):
            handler.addFilter(MaskPersonalDataFilter())


def mask_everywhere(*loggers: logging.Logger) -> None:
    """Mask what the root logger's handlers, ``loggers``' handlers and Python's last-resort handler write."""
    handlers = [*logging.getLogger().handlers, *(h for log in loggers for h in log.handlers)]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    install_masking(handlers)
