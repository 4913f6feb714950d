"""Per-process caches: values kept by key, each good until a deadline on the monotonic clock.

In a rush every worker would read the same few things from the database on every request — a
campaign's facts, its claimed counts, what residents see of it, the user behind a token. Each module
that keeps such a thing says why that is safe (what may be stale, for how long, and what is always
decided afresh); this module is only the mechanism, written once:

* a read takes no lock (a dict lookup is atomic in CPython); a write takes the cache's lock, so two
  threads filling the same key leave one whole value;
* an entry is good until its deadline (``math.inf``: until forgotten), and ``entry`` still hands out a
  stale one for a caller that can refresh it cheaply;
* a cache given ``max_entries`` is emptied when full, so a process never holds more than that;
* ``forget_all`` empties every cache of the process (tests; a process that learns the data changed).

The clock is this module's ``monotonic``, so a test can move every cache's time at once.
"""
from __future__ import annotations

import math
import threading
from time import monotonic
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

_CACHES: list[Kept] = []


class Kept(Generic[K, V]):
    """Values by key, each kept until its deadline."""

    def __init__(self, max_entries: int | None = None):
        self._entries: dict[K, tuple[float, V]] = {}
        self._max_entries = max_entries
        self.lock = threading.Lock()  # also for callers that change a kept value in place
        _CACHES.append(self)

    def get(self, key: K) -> V | None:
        """The value kept for ``key`` while its deadline has not passed; else None."""
        entry = self._entries.get(key)
        if entry is not None and monotonic() < entry[0]:
            return entry[1]
        return None

    def entry(self, key: K) -> tuple[V, bool] | None:
        """The value kept for ``key`` and whether it is still fresh; None if nothing is kept."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        return entry[1], monotonic() < entry[0]

    def put(self, key: K, value: V, seconds: float = math.inf) -> V:
        """Keep ``value`` for ``seconds`` (for ever by default) and return it."""
        deadline = monotonic() + seconds
        with self.lock:
            if self._max_entries is not None and len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[key] = (deadline, value)
        return value

    def pop(self, key: K) -> None:
        with self.lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self.lock:
            self._entries.clear()


def forget_all() -> None:
    """Empty every cache this process keeps."""
    for cache in _CACHES:
        cache.clear()
