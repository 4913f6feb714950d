"""The whole run's logs, kept and scanned for personal data when the run ends.

``tests/conftest.py`` starts a ``LogScan`` when the session starts: a handler on the root logger that
keeps every formatted line (the app masks it like any other root handler, as it would an operator's),
with the project's loggers at INFO so that the lines production writes are written here too. Each
real server adds its whole output when it stops. At the end of the run, a line holding an 11-digit
mobile number or a bearer token fails the run, and the report shows the line masked.

The patterns here are deliberately not the ones ``voucher_app/core/logs.py`` masks with: this is the
check of that masking, so it looks for the plain shapes a leak would have.
"""
from __future__ import annotations

import logging
import re

from voucher_app.core.logs import mask_personal_data

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# "Bearer <credential>" not already masked, or an itsdangerous-style signed token anywhere (a base64url
# JSON payload, "eyJ…", or a compressed one, ".eJ…", then a dot and the signature).
# (A credential has 16 characters or more, a digit among them, so "Bearer authentication" is no leak.)
BEARER = re.compile(r"\bBearer\s+(?!\[token\])(?=[\w.~+/=-]*\d)[\w.~+/=-]{16,}"
                    r"|(?:eyJ|\.eJ)[\w-]{10,}\.[\w-]{10,}", re.IGNORECASE)
# The loggers whose INFO lines production writes (gunicorn's are in the servers' output).
PROJECT_LOGGERS = ("voucher_app", "voucher", "campaigns", "merchants", "apscheduler", "werkzeug")


class _KeptLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.extend(self.format(record).splitlines())
        except Exception:  # a broken record is logging's to report, as with any handler
            self.handleError(record)


class LogScan:
    def __init__(self) -> None:
        self.handler = _KeptLines()
        self.outputs: dict[str, list[str]] = {}
        self._levels: dict[str, int] = {}

    def start(self) -> None:
        logging.getLogger().addHandler(self.handler)
        for name in PROJECT_LOGGERS:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            if logger.getEffectiveLevel() > logging.INFO:
                logger.setLevel(logging.INFO)

    def stop(self) -> None:
        logging.getLogger().removeHandler(self.handler)
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)

    def add_output(self, source: str, text: str) -> None:
        """Everything a process wrote (a real server's stdout and stderr), scanned with the logs."""
        self.outputs.setdefault(source, []).extend(text.splitlines())

    def leaks(self) -> list[tuple[str, str]]:
        """(where, the line masked) for every line that holds a mobile number or a bearer token."""
        found = []
        sources = {"the run's log records": self.handler.lines, **self.outputs}
        for source, lines in sources.items():
            found.extend((source, shown(line)) for line in lines if MOBILE.search(line) or BEARER.search(line))
        return found


def shown(line: str) -> str:
    """A leaking line as the report may print it: masked by the app's rules, then by this scan's own."""
    line = mask_personal_data(line)
    line = MOBILE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], line)
    return BEARER.sub("[token]", line)
