"""Clients that behave like the wallet and the till when a part fails: one Idempotency-Key per intent,
resent after a network error, a timeout or a 5xx with back-off and jitter, until a final answer.

A drill runs many of them against the real server while it breaks a part, then counts: requests sent,
answers by status, retries, network errors, and the time from the break to the first answer after it.
"""
from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Figures:
    """What the clients saw during one drill."""

    requests: int = 0
    retries: int = 0
    network_errors: int = 0
    answers: Counter = field(default_factory=Counter)
    slowest: float = 0.0  # the longest any one attempt took to be answered (or to fail)
    broken_at: float | None = None
    first_answer_after_break: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sent(self, retry: bool) -> None:
        with self.lock:
            self.requests += 1
            self.retries += retry

    def answered(self, status: int, sent_at: float) -> None:
        """An answer; the recovery clock stops at the first one to a request sent after the break
        (an answer already on its way when the part broke says nothing about recovery)."""
        with self.lock:
            self.answers[status] += 1
            if (self.broken_at is not None and sent_at > self.broken_at and status < 500
                    and self.first_answer_after_break is None):
                self.first_answer_after_break = time.monotonic()

    def failed(self) -> None:
        with self.lock:
            self.network_errors += 1

    def took(self, seconds: float) -> None:
        with self.lock:
            self.slowest = max(self.slowest, seconds)

    def mark_break(self) -> None:
        """The moment the (first) part broke: recovery is counted from it."""
        with self.lock:
            if self.broken_at is None:
                self.broken_at = time.monotonic()

    def recovery_seconds(self) -> float | None:
        if self.broken_at is None or self.first_answer_after_break is None:
            return None
        return self.first_answer_after_break - self.broken_at

    def summary(self, title: str) -> str:
        recovery = self.recovery_seconds()
        answers = ", ".join(f"{status}: {n}" for status, n in sorted(self.answers.items()))
        return (f"\n[drill] {title}: {self.requests} requests, {self.retries} retries, "
                f"{self.network_errors} network errors, answers {{{answers}}}, slowest attempt {self.slowest:.2f} s, "
                f"first answer {recovery:.2f} s after the break" if recovery is not None else
                f"\n[drill] {title}: {self.requests} requests, {self.retries} retries, "
                f"{self.network_errors} network errors, answers {{{answers}}}, slowest attempt {self.slowest:.2f} s")


class RetryingClient:
    """POSTs one intent until it has a final answer (< 500), always under the same Idempotency-Key.

    ``base`` is read on every try, so a drill that restarts the server elsewhere can point the clients
    at it; ``deadline`` bounds the whole drill (a hang is a failure, not a wait).
    """

    def __init__(self, base: str, figures: Figures, *, timeout: float = 5.0, deadline: float = 90.0):
        self.base = base
        self.figures = figures
        self.timeout = timeout
        self.deadline = time.monotonic() + deadline

    def post(self, path: str, body: dict, token: str, key: str | None = None) -> tuple[int, dict]:
        key = key or uuid.uuid4().hex
        pause = 0.05
        retry = False
        while True:
            if time.monotonic() > self.deadline:
                raise AssertionError(f"no final answer for {path} before the drill's deadline")
            self.figures.sent(retry)
            sent_at = time.monotonic()
            request = urllib.request.Request(
                self.base + path, data=json.dumps(body).encode(), method="POST",
                headers={"Content-Type": "application/json", "Accept": "application/json",
                         "Authorization": f"Bearer {token}", "Idempotency-Key": key})
            try:
                try:
                    with urllib.request.urlopen(request, timeout=self.timeout) as response:
                        status, payload = response.status, response.read()
                except urllib.error.HTTPError as err:
                    status, payload = err.code, err.read()  # the body may be cut off too
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, OSError):
                self.figures.failed()
                status, payload = None, b""
            self.figures.took(time.monotonic() - sent_at)
            if status is not None:
                self.figures.answered(status, sent_at)
                if status < 500:
                    return status, json.loads(payload or b"null")
            retry = True
            time.sleep(pause * (0.5 + random.random()))  # jitter: the retries of a crowd do not arrive together
            pause = min(pause * 2, 1.0)
