"""SQLite storage: connection settings, write transactions and schema migrations."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

BUSY_TIMEOUT_MS = 10_000
migrations = Migrations("sovready")


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open the database with WAL, full fsync, a busy timeout and foreign keys."""
    db = sqlite_utils.Database(path)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A transaction that takes the write lock up front.

    A plain BEGIN (what ``db.atomic()`` issues) that reads and then writes can fail with
    SQLITE_BUSY under concurrent writers whatever the busy timeout; BEGIN IMMEDIATE waits.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


@migrations(name="001_rubrics")
def _create_rubrics(db: sqlite_utils.Database) -> None:
    db.table("rubrics").create(
        {"id": str, "version": str, "sha256": str, "source": str, "added_at": str},
        pk=("id", "version"),
    )


def init(path: str | Path) -> sqlite_utils.Database:
    """Create or upgrade the database at ``path`` and return a connection to it."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    migrations.apply(db)
    return db


def register_rubric(db: sqlite_utils.Database, rubric_id: str, version: str, source: str) -> None:
    """Record a rubric version's text once, so assessments can keep the version they used."""
    digest = hashlib.sha256(source.encode()).hexdigest()
    with write_transaction(db):
        existing = db.execute(
            "SELECT sha256 FROM rubrics WHERE id = ? AND version = ?", [rubric_id, version]
        ).fetchone()
        if existing is None:
            db.table("rubrics").insert({
                "id": rubric_id, "version": version, "sha256": digest, "source": source,
                "added_at": datetime.now(UTC).isoformat(timespec="seconds"),
            })
        elif existing[0] != digest:
            raise ValueError(f"rubric {rubric_id} {version} is already stored with different content; "
                             "raise its version")
