"""A bounded cache of pages' parts keyed by the digest of the content they are made from.

A key names everything a part depends on, so an entry is never stale: a change of content is a
new key, and the least recently used entries make room. Each app keeps its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app

ENTRIES = 128  # results pages of about 60 KB each: a few MB per worker process


class ContentCache:
    def __init__(self, size: int = ENTRIES):
        self._entries: OrderedDict[str, object] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def put(self, key: str, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


_creating = threading.Lock()


def cache(name: str) -> ContentCache:
    """The current app's cache of this name."""
    caches = current_app.extensions.setdefault("sovready.caches", {})
    with _creating:
        return caches.setdefault(name, ContentCache())
