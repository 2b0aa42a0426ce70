"""A bounded cache of pages' parts keyed by what they are made from.

A key names everything a part depends on (stored values, or an assessment's content token that
every write replaces, and the rubric version), so an entry is never stale: a change of content
is a new key, and the least recently used entries make room. Each app keeps its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app

ENTRIES = 128  # results parts of about 60 KB each: a few MB per worker process


class ContentCache:
    def __init__(self, size: int = ENTRIES):
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self._making: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable):
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def put(self, key: Hashable, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], object]):
        """The entry for ``key``, made by ``make()`` once when missing: requests that miss the same
        key at the same time wait for the first one's result rather than each making it (32
        clients opening a results page the cache did not hold scored it 32 times over)."""
        value = self.get(key)
        if value is not None:
            return value
        with self._lock:
            making = self._making.setdefault(key, threading.Lock())
        with making:
            value = self.get(key)
            if value is None:
                value = make()
                self.put(key, value)
        with self._lock:
            self._making.pop(key, None)
        return value


_creating = threading.Lock()


def cache(name: str, size: int = ENTRIES) -> ContentCache:
    """The current app's cache of this name (``size`` counts when it is first asked for)."""
    caches = current_app.extensions.setdefault("sovready.caches", {})
    found = caches.get(name)
    if found is not None:
        return found
    with _creating:
        return caches.setdefault(name, ContentCache(size))
