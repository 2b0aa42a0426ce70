"""Online backups of the SQLite database, and restoring one after checks. No Flask here."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from .files import replacing
from .storage import WRITER_LOCK

JOURNALS = ("-wal", "-shm")  # the WAL and its index, beside the database
# A copy holds what the database holds (answers, notes, password hashes): the owner's alone.
OWNER_ONLY = 0o600


class BackupError(ValueError):
    """A backup that cannot be made or restored; the message says why."""


def backup(database: Path, target: Path) -> None:
    """A consistent copy of a live database (SQLite's backup API), written beside then renamed."""
    if not database.exists():
        raise BackupError(f"{database}: no database to back up")
    if _in_use(target, database):
        # Renaming the copy over them would pull a file from under the running server.
        raise BackupError(f"{target}: this is the database (or its journal or lock): back up to another file")
    with replacing(target, OWNER_ONLY) as partial:
        _copy(database, partial, target)


def _in_use(target: Path, database: Path) -> bool:
    """Whether ``target`` is the database or a file SQLite or storage keeps beside it, through a
    symbolic or hard link too."""
    suffixes = ("", *JOURNALS, "-journal", WRITER_LOCK)
    in_use = (database.with_name(database.name + suffix) for suffix in suffixes)
    return target.exists() and any(path.exists() and target.samefile(path) for path in in_use)


def _copy(source: Path, partial: Path, target: Path) -> None:
    """Copy ``source`` into ``partial``, the new file that will replace ``target``."""
    try:
        with closing(sqlite3.connect(source)) as db, closing(sqlite3.connect(partial)) as copy:
            db.backup(copy)  # pages are copied under a read lock: writers may go on
            copy.execute("PRAGMA journal_mode = DELETE")  # a self-contained file, no -wal beside it
    except sqlite3.Error as error:  # a full disk is "database or disk is full"
        raise BackupError(f"cannot copy {source} to {target}: {error}") from None


def check(path: Path) -> str:
    """Refuse anything but an intact sovready database; return a one-line description."""
    try:
        # as_uri() escapes "#", "?" and "%", which in a bare "file:" URI end or encode the path.
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            # quick_check: every page and row, without cross-checking index contents (linear time).
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{path}: the database is damaged (quick_check failed)")
            names = [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'sovready'")]
            assessments = db.execute("SELECT count(*) FROM assessments").fetchone()[0]
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path}: not a sovready database ({error})") from None
    return f"{len(names)} migrations, {assessments} assessments"


def restore(source: Path, database: Path) -> str:
    """Replace the database with a checked backup (stop the server first); returns the check's summary."""
    summary = check(source)
    with replacing(database, OWNER_ONLY) as staged:
        _copy(source, staged, database)
        for suffix in JOURNALS:  # the old database's journal must not be replayed onto the new one
            database.with_name(database.name + suffix).unlink(missing_ok=True)
    return summary
