"""Counting failures (wrong join codes, wrong passwords) per key, shared by every server process.

Keys name what is limited: ``join:<address>``, ``login:<address>``, ``account:<email>``. The
counts live in SQLite, so that every web server process sees the same ones. No Flask here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

from .storage import now, write_transaction

FAILURE_LIMIT = 10
FAILURE_WINDOW = timedelta(minutes=10)


def _window_start() -> str:
    return (datetime.now(UTC) - FAILURE_WINDOW).isoformat(timespec="seconds")


def attempt(db: sqlite_utils.Database, *keys: str, limit: int = FAILURE_LIMIT) -> tuple[int, ...] | None:
    """Count an attempt as a failure against each key in advance; None, counting nothing, once any
    key has used up its ``limit`` for the window. Returns what ``succeeded`` takes back.

    Check and count are one transaction under the write lock: attempts sent at once cannot all pass
    the check before any of them counts (a password check takes a slow hash in between)."""
    with write_transaction(db):
        db.execute("DELETE FROM failures WHERE at <= ?", [_window_start()])
        if any(db.execute("SELECT count(*) FROM failures WHERE key = ?", [key]).fetchone()[0] >= limit
               for key in keys):
            return None
        return tuple(db.execute("INSERT INTO failures VALUES (?, ?)", [key, now()]).lastrowid for key in keys)


def succeeded(db: sqlite_utils.Database, marks: tuple[int, ...]) -> None:
    """The attempt ``attempt`` counted was right after all: it is no failure."""
    with write_transaction(db):
        db.conn.executemany("DELETE FROM failures WHERE rowid = ?", [(mark,) for mark in marks])
