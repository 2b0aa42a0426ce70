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


def too_many_failures(db: sqlite_utils.Database, *keys: str, limit: int = FAILURE_LIMIT) -> bool:
    """Whether any of these keys has used up its ``limit`` of failures for the window."""
    return any(db.execute("SELECT count(*) FROM failures WHERE key = ? AND at > ?",
                          [key, _window_start()]).fetchone()[0] >= limit for key in keys)


def record_failure(db: sqlite_utils.Database, *keys: str) -> None:
    """Count a failure against each key, and forget failures older than the window."""
    with write_transaction(db):
        db.execute("DELETE FROM failures WHERE at <= ?", [_window_start()])
        db.conn.executemany("INSERT INTO failures VALUES (?, ?)", [(key, now()) for key in keys])
