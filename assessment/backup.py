"""Online backups of the SQLite database, and restoring one after checks. No Flask here."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from . import storage
from .files import replacing

JOURNALS = ("-wal", "-shm")  # the WAL and its index, beside the database
# A copy holds what the database holds (answers, notes, password hashes): the owner's alone.
OWNER_ONLY = 0o600


class BackupError(ValueError):
    """A backup that cannot be made or restored; the message says why."""


def backup(database: Path, target: Path) -> str:
    """A consistent copy of a live database (SQLite's backup API), written beside then renamed
    once checked; returns the check's summary."""
    if not database.exists():
        raise BackupError(f"{database}: no database to back up")
    if _in_use(target, database):
        # Renaming the copy over them would pull a file from under the running server.
        raise BackupError(f"{target}: this is the database (or its journal or lock): back up to another file")
    # Marked open while it reads, as the server is: a restore meanwhile would leave this copy on
    # the old file, and SQLite, closing it, deletes the -wal by name, which by then is the new one's.
    try:
        fd = storage.mark_open(database)
    except OSError as error:  # no lock file yet, in a folder this user cannot write
        # Named: "sovready.db: cannot back up: Permission denied" sent the reader to the database.
        raise BackupError(f"{database}: cannot back up: cannot open {error.filename}: {error.strerror}") from None
    try:
        with replacing(target, OWNER_ONLY) as partial:
            _copy(sqlite3.connect(database), partial, database, target)
            return _checked(partial, database, target)
    finally:
        os.close(fd)


def _checked(partial: Path, database: Path, target: Path) -> str:
    """The summary of the copy not yet renamed over ``target``: a damaged database's pages are
    copied as they are, and checked once renamed, the copy had already replaced the last good backup."""
    try:
        return _summary(*_contents(partial, shown=database))
    except BackupError as error:
        raise BackupError(f"{error}; {target} not written") from None


def _in_use(target: Path, database: Path) -> bool:
    """Whether ``target`` is the database or a file SQLite or storage keeps beside it, through a
    symbolic or hard link too."""
    suffixes = ("", *JOURNALS, "-journal", storage.WRITER_LOCK, storage.OPEN_LOCK)
    in_use = (database.with_name(database.name + suffix) for suffix in suffixes)
    return target.exists() and any(path.exists() and target.samefile(path) for path in in_use)


def _copy(db: sqlite3.Connection, partial: Path, source: Path, target: Path) -> None:
    """Copy ``db``, opened on ``source``, into ``partial``, the new file that will replace ``target``; close ``db``."""
    try:
        with closing(db), closing(sqlite3.connect(partial)) as copy:
            db.backup(copy)  # pages are copied under a read lock: writers may go on
            copy.execute("PRAGMA journal_mode = DELETE")  # a self-contained file, no -wal beside it
    except sqlite3.Error as error:  # a full disk is "database or disk is full"
        raise BackupError(f"cannot copy {source} to {target}: {error}") from None


def check(path: Path) -> str:
    """Refuse anything but an intact sovready database that this version can restore; return a
    one-line description. Writes nothing beside ``path`` or into it."""
    with _whole(path) as readable:
        return _summary(*_restorable(readable, path))


@contextmanager
def _whole(path: Path) -> Iterator[Path]:
    """``path`` if it holds the whole database, else a private copy of it with the -wal beside it
    folded in: what ``_read_only`` reads.

    A backup's last transactions may be in FILE-wal (a copy of a live database's files, a WAL-mode
    file left open). SQLite reads them only through FILE-shm, which it makes beside FILE even for a
    read-only connection, with an empty FILE-wal if there was none; a connection that may write
    folds FILE-wal into FILE as it closes. A check and a restore must change nothing there (a
    read-only folder, checksums kept of backup files), so the two are copied apart instead.
    """
    wal = path.with_name(path.name + "-wal")
    if not wal.exists() or not wal.stat().st_size:  # an empty -wal holds no transaction
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="sovready-check-") as folder:  # made 0700: the copy holds the answers
        copy = Path(folder) / "backup.db"
        try:
            shutil.copyfile(path, copy)
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        except OSError as error:  # a full temporary folder (TMPDIR)
            raise BackupError(f"{path}: cannot copy it and {wal.name} to {folder}: {error.strerror}") from None
        try:
            with closing(sqlite3.connect(copy)) as db:
                db.execute("PRAGMA journal_mode = DELETE")  # folds the -wal into the copy
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path}: not a sovready database ({error})") from None
        yield copy


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that reads ``path`` alone (see ``_whole``) and writes nothing beside it or into it."""
    # immutable: no locks and no -shm or -wal made beside it, which mode=ro alone makes for a
    # WAL-mode file. Nothing writes a backup meanwhile: sovready's are renamed into place whole.
    # as_uri() escapes "#", "?" and "%", which in a bare "file:" URI end or encode the path.
    return sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro&immutable=1", uri=True)


def _restorable(path: Path, shown: Path) -> tuple[list[str], int]:
    """``_contents`` of a database that is not from a newer sovready, whose tables this code does not know."""
    names, assessments = _contents(path, shown)
    try:
        storage.refuse_newer(shown, names)
    except storage.NewerDatabase as error:
        raise BackupError(str(error)) from None
    return names, assessments


def _summary(names: list[str], assessments: int) -> str:
    return f"{len(names)} migrations, {assessments} assessments"


def _contents(path: Path, shown: Path) -> tuple[list[str], int]:
    """The names of an intact sovready database's migrations and its number of assessments;
    BackupError for anything else, naming ``shown`` (the file the user gave)."""
    try:
        db = _read_only(path)
        try:
            # quick_check: every page and row, without cross-checking index contents (linear time).
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{shown}: the database is damaged (quick_check failed)")
            names = [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'sovready'")]
            assessments = db.execute("SELECT count(*) FROM assessments").fetchone()[0]
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{shown}: not a sovready database ({error})") from None
    return names, assessments


@contextmanager
def _alone(database: Path) -> Iterator[None]:
    """Hold the database against every other sovready process, or refuse if one has it open.

    Renaming a file over the database leaves a running process on the old one (its writes lost),
    and deleting the journals under it can damage either. A server, a PDF worker, a backup hold
    a shared flock() while they have it open (storage.mark_open); this takes it exclusively, and
    one that starts meanwhile waits for it.
    """
    try:
        fd = storage.open_lock(database)
    except OSError as error:  # the database's folder is missing or cannot be written
        # Named, as backup names it: "sovready.db: cannot write" sent the reader to the database.
        raise BackupError(f"{database}: cannot restore: cannot open {error.filename}: {error.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"{database}: a running sovready process (the server, its PDF worker, a backup) has the "
                              "database open: stop it, then restore") from None
        yield
    finally:
        os.close(fd)


def restore(source: Path, database: Path) -> str:
    """Replace the database with a checked backup, migrated to this version, unless a sovready
    process has it open or the backup is from a newer sovready; returns the check's summary."""
    with _whole(source) as readable:
        names, assessments = _restorable(readable, source)
        with _alone(database), replacing(database, OWNER_ONLY) as staged:
            _copy(_read_only(readable), staged, source, database)
            migrated = _prepare(source, staged)
            _keep_owner_and_mode(staged, database)
            for suffix in JOURNALS:  # the old database's journal must not be replayed onto the new one
                database.with_name(database.name + suffix).unlink(missing_ok=True)
    summary = _summary(names, assessments)
    return f"{summary}; migrated now: {', '.join(migrated)}" if migrated else summary


def _keep_owner_and_mode(staged: Path, database: Path) -> None:
    """Give the staged copy the owner and permissions of the database it replaces: restored with
    sudo, it was root's, which the server's user cannot write, and readable by all where the
    database had been its owner's alone."""
    try:
        replaced = database.stat()
    except FileNotFoundError:  # a fresh instance: the copy is the user's who restores
        return
    os.chown(staged, replaced.st_uid, replaced.st_gid)  # an OSError is a WriteError (replacing)
    os.chmod(staged, stat.S_IMODE(replaced.st_mode))


def _prepare(source: Path, staged: Path) -> list[str]:
    """Apply to the staged copy of ``source`` the migrations of this version it lacks, and forget
    its unfinished reports; the names of the migrations applied.

    Migrated here rather than at the server's next start, so that a migration that fails refuses
    the restore while the database is still as it was.
    """
    db = storage.connect(staged)
    try:
        pending = [migration.name for migration in storage.migrations.pending(db)]
        storage.migrations.apply(db)
        # Their tasks were in the queue (tasks.db), which is not backed up: left queued or running,
        # a report shows as being prepared for ever, and asking again does nothing (jobs._request).
        db.execute("DELETE FROM report_jobs WHERE status IN ('queued', 'running')")
        db.execute("PRAGMA journal_mode = DELETE")  # as _copy left it: nothing beside it to rename
    except sqlite3.Error as error:
        raise BackupError(f"{source}: cannot migrate it to this version: {error}") from None
    finally:
        db.close()
    return pending
