"""Online backup of a live database and restoring it after checks."""

import multiprocessing
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from assessment import backup as backup_module
from assessment import jobs, records, storage
from assessment.answers import Answer
from assessment.backup import backup, check
from assessment.cli import cli
from assessment.web import create_app
from bench.web import free_port, start_server, stop

from .conftest import OWNER


def _keep_writing(database: str, stop) -> None:
    db = storage.connect(database)
    n = 0
    while not stop.is_set():
        with storage.write_transaction(db):
            db.execute("INSERT INTO report_files VALUES (?, x'00', ?)", [f"load-{n}", storage.now()])
        n += 1
    db.close()


def test_backup_of_a_live_database_while_another_process_writes(app, finished, tmp_path):
    database = app.config["DATABASE"]
    stop = multiprocessing.get_context("spawn").Event()
    writer = multiprocessing.get_context("spawn").Process(target=_keep_writing, args=(database, stop))
    writer.start()
    try:
        result = CliRunner().invoke(cli, ["backup", str(tmp_path / "copy.db"), "--instance", app.instance_path])
    finally:
        stop.set()
        writer.join(30)
    assert result.exit_code == 0, result.output
    assert "Backed up to" in result.output and "1 assessments" in result.output
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM answers WHERE assessment_id = ?", [finished]).fetchone()[0] == 48
    assert stat.S_IMODE((tmp_path / "copy.db").stat().st_mode) == 0o600  # it holds what the database holds


def test_restore_brings_back_the_backup_and_drops_later_changes(app, db, finished, default_rubric, tmp_path):
    backup(Path(app.config["DATABASE"]), tmp_path / "before.db")
    mode = stat.S_IMODE(Path(app.config["DATABASE"]).stat().st_mode)
    records.save_answers(db, records.get_assessment(db, finished), default_rubric, {"data.residency": Answer(0)})
    db.close()
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "before.db"), "--instance", app.instance_path])
    assert result.exit_code == 0, result.output
    fresh = storage.connect(app.config["DATABASE"])
    level = fresh.execute("SELECT value FROM answers WHERE assessment_id = ? AND question_id = 'data.residency'",
                          [finished]).fetchone()[0]
    assert level == "2"  # the mid-maturity example's answer, not the 0 saved after the backup
    # The replaced database's mode, not the backup's 0600 (test_restore_keeps_the_databases_owner_and_permissions)
    assert stat.S_IMODE(Path(app.config["DATABASE"]).stat().st_mode) == mode


def test_restore_refuses_what_is_not_an_intact_sovready_database(app, tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    for path, message in ((garbage, "not a sovready database"), (other, "not a sovready database")):
        result = CliRunner().invoke(cli, ["restore", str(path), "--instance", app.instance_path])
        assert result.exit_code == 2 and message in result.output
    assert check(Path(app.config["DATABASE"])).endswith("assessments")


def _backup(path, instance):
    return CliRunner().invoke(cli, ["backup", str(path), "--instance", str(instance)])


def test_backup_and_restore_use_the_database_the_settings_name(tmp_path, monkeypatch):
    """SOVREADY_DATABASE (or instance/config.py) may put the database outside the instance folder."""
    elsewhere = tmp_path / "data" / "live.db"
    elsewhere.parent.mkdir()
    monkeypatch.setenv("SOVREADY_DATABASE", str(elsewhere))
    instance = tmp_path / "instance"
    create_app({"TESTING": True}, instance_path=instance)
    copy = tmp_path / "copy.db"
    result = _backup(copy, instance)
    assert result.exit_code == 0, result.output
    assert not (instance / "sovready.db").exists() and check(copy).endswith("assessments")
    result = CliRunner().invoke(cli, ["restore", str(copy), "--instance", str(instance)])
    assert result.exit_code == 0 and not (instance / "sovready.db").exists(), result.output


@pytest.fixture
def backups(tmp_path):
    """A folder for backups, apart from the app's instance folder."""
    (tmp_path / "backups").mkdir()
    return tmp_path / "backups"


@pytest.mark.parametrize("name", ["b#1.db", "b?mode=rw.db", "b%231.db", "b é.db"])
def test_a_backup_named_with_uri_characters_is_checked_as_itself(app, backups, name):
    """check() opened "file:.../b#1.db?mode=ro": SQLite read the path as .../b, created it empty
    and called the good backup "not a sovready database"."""
    result = _backup(backups / name, app.instance_path)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(rf"Backed up to {re.escape(str(backups / name))}: \d+ migrations, 0 assessments\n", result.output)
    assert [p.name for p in backups.iterdir()] == [name]


def _error(result, message):
    """The command failed with exit status 2 and this one line (no traceback)."""
    assert (result.exit_code, result.stderr) == (2, f"Error: {message}\n"), result.output


def test_backup_refuses_to_write_over_the_database_or_its_files(app, tmp_path):
    """The copy renamed over the live database's path took its file from under the server."""
    database = Path(app.config["DATABASE"])
    lock = database.with_name(database.name + "-writer.lock")
    # Replaced, it would no longer be the file the server holds: a restore would not see the server.
    open_lock = database.with_name(database.name + "-open.lock")
    os.close(storage.mark_open(database))  # makes it
    link = tmp_path / "link.db"
    link.symlink_to(database)
    before = {path: path.stat().st_ino for path in (database, lock, open_lock)}
    for target in (database, link, lock, open_lock):
        _error(_backup(target, app.instance_path),
               f"{target}: this is the database (or its journal or lock): back up to another file")
    assert {path: path.stat().st_ino for path in (database, lock, open_lock)} == before and link.is_symlink()
    assert not list(database.parent.glob("*.partial"))


def test_backup_refuses_to_replace_what_is_not_a_regular_file(app, backups):
    """`backup /dev/full` replaced the device with a regular file; a FIFO stands in for it here."""
    fifo = backups / "fifo"
    os.mkfifo(fifo)
    _error(_backup(fifo, app.instance_path), f"{fifo}: not a regular file: refusing to replace it")
    assert stat.S_ISFIFO(fifo.stat().st_mode) and [p.name for p in backups.iterdir()] == ["fifo"]


def test_backup_keeps_a_previous_backup_marked_read_only(app, backups):
    """Found by a closing note: the copy's rename replaced a backup the operator had made read-only
    (chmod a-w) to keep it; root's cp and sqlite's .backup would have written over it too, so the
    mode itself is what is honoured, whoever runs the backup (cron often runs it as root)."""
    kept = backups / "known-good.db"
    kept.write_bytes(b"the backup to keep")
    kept.chmod(0o444)
    _error(_backup(kept, app.instance_path),
           f"{kept}: read-only: refusing to replace it (make it writable, or choose another file)")
    assert kept.read_bytes() == b"the backup to keep" and [p.name for p in backups.iterdir()] == ["known-good.db"]
    kept.chmod(0o644)
    assert _backup(kept, app.instance_path).exit_code == 0


def test_backup_syncs_the_folder_after_the_rename(app, backups, monkeypatch):
    """Found by a closing note: the rename is only durable once the folder is synced; a crash
    before could leave the folder without the new backup, or with the previous one."""
    steps = []
    replace, fsync = os.replace, os.fsync
    monkeypatch.setattr(os, "replace", lambda *paths: (steps.append("rename"), replace(*paths))[1])
    monkeypatch.setattr(os, "fsync", lambda fd: (steps.append(stat.S_ISDIR(os.fstat(fd).st_mode)
                                                              and os.path.samestat(os.fstat(fd), backups.stat())
                                                              and "folder synced"), fsync(fd))[1])
    assert _backup(backups / "copy.db", app.instance_path).exit_code == 0
    assert steps[steps.index("rename"):] == ["rename", "folder synced"]


def test_backup_to_a_missing_folder_says_so_in_one_line(app, tmp_path):
    target = tmp_path / "missing" / "copy.db"
    _error(_backup(target, app.instance_path), f"{target}: cannot write: No such file or directory")


def test_a_failed_backup_leaves_no_partial_file_and_the_previous_backup_whole(app, backups, monkeypatch):
    target = backups / "copy.db"
    target.write_bytes(b"the previous backup")

    def disk_full(self, copy, **kwargs):
        copy.execute("CREATE TABLE half (x)")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(backup_module.sqlite3, "connect", _connecting_with(disk_full))
    _error(_backup(target, app.instance_path),
           f"cannot copy {app.config['DATABASE']} to {target}: database or disk is full")
    assert target.read_bytes() == b"the previous backup" and [p.name for p in backups.iterdir()] == ["copy.db"]


def _connecting_with(backup_method):
    """sqlite3.connect, whose connections' backup() is ``backup_method``."""
    class Connection(sqlite3.Connection):
        backup = backup_method

    connect = sqlite3.connect
    return lambda *args, **kwargs: connect(*args, **kwargs, factory=Connection)


def test_restore_into_a_missing_instance_folder_says_so_in_one_line(app, backups):
    copy = backups / "copy.db"
    backup(Path(app.config["DATABASE"]), copy)
    instance = backups / "missing"
    result = CliRunner().invoke(cli, ["restore", str(copy), "--instance", str(instance)])
    database = instance / "sovready.db"
    _error(result, f"{database}: cannot restore: cannot open {database}-open.lock: No such file or directory")
    assert [p.name for p in backups.iterdir()] == ["copy.db"]


def test_restore_of_a_missing_file_says_so(app, tmp_path):
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "none.db"), "--instance", app.instance_path])
    assert result.exit_code == 2 and "does not exist" in result.stderr and "Traceback" not in result.output


# Restoring onto a database a running process holds -----------------------------------------
# Renaming a file over the database left the server's processes on the old one (their writes
# lost) and deleting its -wal and -shm under them could damage either.

def _restore(path, instance):
    return CliRunner().invoke(cli, ["restore", str(path), "--instance", str(instance)])


def _state(database: Path) -> tuple:
    """What a refused restore must leave as it was: the database's file, content and journals."""
    journals = sorted(p.name for p in database.parent.glob(database.name + "-*[lm]"))
    return database.stat().st_ino, database.read_bytes(), journals


def _refused_while_open(result, instance: Path) -> None:
    _error(result, f"{instance / 'sovready.db'}: a running sovready process (the server, its PDF worker, a backup) has the database open: "
                   "stop it, then restore")


def test_restore_is_refused_while_the_server_runs_and_works_once_it_stops(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    server = start_server(instance, free_port(), workers=1, report_workers=0)
    try:
        assert _backup(tmp_path / "copy.db", instance).exit_code == 0  # a backup goes on while it serves
        before = _state(instance / "sovready.db")
        _refused_while_open(_restore(tmp_path / "copy.db", instance), instance)
        assert _state(instance / "sovready.db") == before
    finally:
        stop(server)
    result = _restore(tmp_path / "copy.db", instance)
    assert result.exit_code == 0, result.output


def _restore_until_refused(copy: Path, instance: Path, seconds: float = 30):
    """Restore until refused (the process just started may not have opened the database yet)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = _state(instance / "sovready.db")
        result = _restore(copy, instance)
        if result.exit_code != 0:
            return result, before
        time.sleep(0.1)
    raise AssertionError("restore was never refused")


def test_restore_is_refused_while_the_pdf_worker_runs_and_works_once_it_is_killed(app, backups):
    instance = Path(app.instance_path)
    backup(Path(app.config["DATABASE"]), backups / "copy.db")
    worker = subprocess.Popen([sys.executable, "-m", "assessment", "worker", "--instance", str(instance),
                               "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        result, before = _restore_until_refused(backups / "copy.db", instance)
        _refused_while_open(result, instance)
        assert _state(instance / "sovready.db") == before
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the kernel releases what a killed process held
        worker.wait(10)
    result = _restore(backups / "copy.db", instance)
    assert result.exit_code == 0, result.output


def test_restore_is_refused_while_a_password_is_being_reset(app, backups, people):
    instance = Path(app.instance_path)
    backup(Path(app.config["DATABASE"]), backups / "copy.db")
    refusals = []

    def restore_meanwhile(*args, **kwargs):
        refusals.append(_restore(backups / "copy.db", instance))
        return "a brand new long password"

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("click.prompt", restore_meanwhile)
        result = CliRunner().invoke(cli, ["user", "reset-password", OWNER, "--instance", str(instance)])
    assert result.exit_code == 0, result.output
    _refused_while_open(refusals[0], instance)


def test_restore_is_refused_while_a_backup_copies(app, backups, monkeypatch):
    """The backup's connection, left on the replaced file, would delete the new -wal as it closes."""
    instance = Path(app.instance_path)
    backup(Path(app.config["DATABASE"]), backups / "copy.db")
    copy, refusals = backup_module._copy, []

    def restore_meanwhile(*args):
        monkeypatch.undo()  # the restore copies as it would
        refusals.append(_restore(backups / "copy.db", instance))
        copy(*args)

    monkeypatch.setattr(backup_module, "_copy", restore_meanwhile)
    backup(Path(app.config["DATABASE"]), backups / "again.db")
    _refused_while_open(refusals[0], instance)


# Backups from other versions ----------------------------------------------------------------

def _from_a_newer_sovready(path: Path) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                   "VALUES ('sovready', '999_from_the_future', '2030-01-01')")


NEWER = "made by a newer sovready (migrations unknown to this one: 999_from_the_future): upgrade sovready first"


def test_restore_refuses_a_backup_from_a_newer_sovready(app, backups):
    """This code would run on a schema it does not know; the server would start on it regardless."""
    copy = backups / "copy.db"
    backup(Path(app.config["DATABASE"]), copy)
    _from_a_newer_sovready(copy)
    before = _state(Path(app.config["DATABASE"]))
    _error(_restore(copy, app.instance_path), f"{copy}: {NEWER}")
    assert _state(Path(app.config["DATABASE"])) == before


# Every migration this code has (pending on an empty database); a backup made before the 15th.
MIGRATIONS = [migration.name for migration in storage.migrations.pending(sqlite_utils.Database(memory=True))]
LAST = "015_round_assessments_by_assessment"


def _from_an_older_sovready(path: Path) -> None:
    """A backup made before the last migration, as a sovready of that time would have made it."""
    db = storage.connect(path)
    storage.migrations.apply(db, stop_before=LAST)
    db.close()
    assert check(path).startswith("14 migrations")


def test_restore_of_an_older_backup_migrates_it_to_this_version(app, backups):
    copy = backups / "copy.db"
    _from_an_older_sovready(copy)
    result = _restore(copy, app.instance_path)
    since = ", ".join(MIGRATIONS[MIGRATIONS.index(LAST):])
    assert result.output == f"Restored {copy}: 14 migrations, 0 assessments; migrated now: {since}\n"
    database = Path(app.config["DATABASE"])
    assert check(database).startswith(f"{len(MIGRATIONS)} migrations")
    assert sorted(p.name for p in database.parent.glob("sovready.db*")) == [
        "sovready.db", "sovready.db-open.lock", "sovready.db-writer.lock"]
    assert check(copy).startswith("14 migrations")  # the backup itself is left as it was


def test_an_older_backup_whose_migration_fails_is_refused_and_the_database_kept(app, backups):
    """Migrated at the next start instead, it would have failed there, with the database already gone."""
    copy = backups / "copy.db"
    _from_an_older_sovready(copy)
    with closing(sqlite3.connect(copy)) as db, db:
        db.execute("CREATE TABLE clash (x)")
        db.execute("CREATE INDEX round_assessments_assessment ON clash(x)")
    database = Path(app.config["DATABASE"])
    before = _state(database)
    _error(_restore(copy, app.instance_path),
           f"{copy}: cannot migrate it to this version: index round_assessments_assessment already exists")
    assert _state(database) == before and not list(database.parent.glob("*.partial*"))


def test_restore_keeps_the_databases_owner_and_permissions(app, backups):
    """Restored with sudo, the database became root's, which the server's user cannot write, and
    readable by all where it had been the owner's alone."""
    database = Path(app.config["DATABASE"])
    backup(database, backups / "copy.db")
    database.chmod(0o600)
    owner = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())  # nobody, if we may
    os.chown(database, *owner)
    assert _restore(backups / "copy.db", app.instance_path).exit_code == 0
    restored = database.stat()
    assert (stat.S_IMODE(restored.st_mode), restored.st_uid, restored.st_gid) == (0o600, *owner)


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_report_unfinished_when_the_backup_was_made_can_be_asked_for_again(app, db, people, finished, backups,
                                                                            status):
    """Its task was in the queue (tasks.db), which is not backed up: restored as it was, the
    report showed as being prepared for ever, and asking again did nothing."""
    database = Path(app.config["DATABASE"])
    digest = jobs.report_digest(db, records.get_assessment(db, finished))
    jobs.request_report(db, finished, digest, people["owner"])
    db.execute("UPDATE report_jobs SET status = ? WHERE digest = ?", [status, digest])
    backup(database, backups / "copy.db")
    db.close()
    assert _restore(backups / "copy.db", app.instance_path).exit_code == 0
    fresh = storage.connect(database)
    assert jobs.job_status(fresh, digest) is None
    assert jobs.request_report(fresh, finished, digest, people["owner"])  # the page then asks the worker again


def test_a_restore_that_fails_midway_leaves_the_database_as_it_was(app, backups, monkeypatch):
    database = Path(app.config["DATABASE"])
    backup(database, backups / "copy.db")
    before = _state(database)

    def disk_full(self, copy, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(backup_module.sqlite3, "connect", _connecting_with(disk_full))
    _error(_restore(backups / "copy.db", app.instance_path),
           f"cannot copy {backups / 'copy.db'} to {database}: database or disk is full")
    assert _state(database) == before and not list(database.parent.glob("*.partial*"))


# A damaged or unwritable instance -----------------------------------------------------------

def _damage_a_page(database: Path) -> None:
    """Overwrite the first page of the index of users' addresses: SQLite's backup copies it as it
    is, and quick_check finds it. A page of a table, or of the schema, makes reading fail outright
    rather than the check, so the page is chosen by name, not by place (a page in the middle of the
    file changed hands as migrations grew)."""
    db = storage.connect(database)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
    page = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_users_1'").fetchone()[0]
    db.close()
    with open(database, "r+b") as file:
        file.seek(4096 * (page - 1))
        file.write(b"\xff" * 4096)


def test_a_damaged_database_is_not_backed_up_over_the_previous_backup(app, backups):
    """The damaged copy was renamed over the last good backup before check() found it damaged,
    and the message blamed the backup file rather than the live database."""
    database = Path(app.config["DATABASE"])
    target = backups / "copy.db"
    backup(database, target)
    previous = target.read_bytes()
    _damage_a_page(database)
    _error(_backup(target, app.instance_path),
           f"{database}: the database is damaged (quick_check failed); {target} not written")
    assert target.read_bytes() == previous and [p.name for p in backups.iterdir()] == ["copy.db"]


@pytest.mark.parametrize("damage, message", [
    ("truncated", "database disk image is malformed"),
    ("garbage", "file is not a database"),
])
def test_a_database_that_is_truncated_or_not_sqlite_is_refused_by_backup(app, backups, damage, message):
    database = Path(app.config["DATABASE"])
    db = storage.connect(database)
    db.execute("CREATE TABLE filler (x)")  # pages enough that half of them are missing
    db.conn.executemany("INSERT INTO filler VALUES (?)", [["x" * 500]] * 2000)
    db.conn.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    if damage == "truncated":
        os.truncate(database, database.stat().st_size // 2)
    else:
        database.write_bytes(b"not a database at all" * 1000)
    _error(_backup(backups / "copy.db", app.instance_path),
           f"cannot copy {database} to {backups / 'copy.db'}: {message}")
    assert list(backups.iterdir()) == []


@pytest.mark.parametrize("damage", ["page", "truncated"])
def test_restore_refuses_a_damaged_backup_and_keeps_the_database(app, backups, damage):
    database = Path(app.config["DATABASE"])
    copy = backups / "copy.db"
    backup(database, copy)
    if damage == "page":
        _damage_a_page(copy)
        message = f"{copy}: the database is damaged (quick_check failed)"
    else:
        os.truncate(copy, 4096 * 3)  # the header survives, most of the schema does not
        message = f"{copy}: not a sovready database (database disk image is malformed)"
    before = _state(database)
    _error(_restore(copy, app.instance_path), message)
    assert _state(database) == before


def test_backup_when_the_lock_beside_the_database_cannot_be_made_says_which_file(app, backups):
    """A folder the backup's user cannot write is one case (chmod is no obstacle to root, which
    runs these tests in CI: a folder in the lock file's place stands in for it)."""
    database = Path(app.config["DATABASE"])
    lock = database.with_name(database.name + "-open.lock")
    lock.unlink(missing_ok=True)  # the app's tests do not mark it open
    lock.mkdir()
    _error(_backup(backups / "copy.db", app.instance_path),
           f"{database}: cannot back up: cannot open {lock}: Is a directory")
    assert list(backups.iterdir()) == []


def test_restore_when_the_lock_beside_the_database_cannot_be_opened_says_which_file(app, backups):
    """It said "sovready.db: cannot write: Is a directory", which sent the reader to the database."""
    database = Path(app.config["DATABASE"])
    backup(database, backups / "copy.db")
    lock = database.with_name(database.name + "-open.lock")
    lock.unlink(missing_ok=True)  # the app's tests do not mark it open
    lock.mkdir()
    before = _state(database)
    _error(_restore(backups / "copy.db", app.instance_path),
           f"{database}: cannot restore: cannot open {lock}: Is a directory")
    assert _state(database) == before


def test_restore_into_a_fresh_instance_makes_its_database_the_owners_alone(app, backups):
    """An instance folder where the server has not run yet: no database to take the mode of."""
    backup(Path(app.config["DATABASE"]), backups / "copy.db")
    fresh = backups / "fresh"
    fresh.mkdir()
    result = _restore(backups / "copy.db", fresh)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Restored {backups / 'copy.db'}: ")
    assert check(fresh / "sovready.db").endswith("assessments")
    assert stat.S_IMODE((fresh / "sovready.db").stat().st_mode) == 0o600
    assert sorted(p.name for p in fresh.iterdir()) == ["sovready.db", "sovready.db-open.lock"]


def _check(path):
    return CliRunner().invoke(cli, ["check-backup", str(path)])


def test_check_backup_says_what_an_intact_backup_holds_and_changes_nothing(app, finished, backups):
    """backup.check() was called by tests alone: an operator had no way to verify a backup file
    short of restoring it."""
    copy = backups / "copy.db"
    backup(Path(app.config["DATABASE"]), copy)
    content = copy.read_bytes()
    result = _check(copy)
    assert result.exit_code == 0, result.output
    assert result.output == f"OK {copy}: {len(MIGRATIONS)} migrations, 1 assessments\n"
    assert copy.read_bytes() == content and [p.name for p in backups.iterdir()] == ["copy.db"]


def test_check_backup_refuses_in_one_line_what_restore_would_refuse(app, backups):
    """Whatever it says is OK, restore accepts; whatever restore refuses for the file itself, it refuses too."""
    garbage, damaged, newer = backups / "garbage.db", backups / "damaged.db", backups / "newer.db"
    garbage.write_bytes(b"not a database at all" * 100)
    for path in (damaged, newer):
        backup(Path(app.config["DATABASE"]), path)
    _damage_a_page(damaged)
    _from_a_newer_sovready(newer)
    _error(_check(garbage), f"{garbage}: not a sovready database (file is not a database)")
    _error(_check(damaged), f"{damaged}: the database is damaged (quick_check failed)")
    _error(_check(newer), f"{newer}: {NEWER}")
    _error(_restore(newer, app.instance_path), f"{newer}: {NEWER}")


# Reading a backup without writing beside it or into it ---------------------------------------
# check-backup opened a WAL-mode backup read-only, yet SQLite made FILE-wal and FILE-shm beside
# it (a read-only folder refused it, a folder of checksummed backups gained two files); restore
# opened it for writing, and closing it folded FILE-wal into FILE, changing the backup.

def _in_wal_mode(path: Path) -> None:
    """The backup as Litestream or a copy of a live database gives it: in WAL mode."""
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode = WAL")


def _with_a_wal_beside(path: Path, copy: Path) -> None:
    """``copy``: ``path`` in WAL mode with its assessments deleted in ``copy``-wal, not yet folded
    into ``copy``: what copying a database's files while it is open leaves."""
    _in_wal_mode(path)
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_autocheckpoint = 0")
        with db:
            db.execute("DELETE FROM assessments")
        for suffix in ("", "-wal"):  # while it is open, so that closing it does not fold the -wal in
            copy.with_name(copy.name + suffix).write_bytes(path.with_name(path.name + suffix).read_bytes())
    path.unlink()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_check_backup_of_a_wal_mode_backup_writes_nothing_beside_it(app, finished, backups):
    copy = backups / "copy.db"
    backup(Path(app.config["DATABASE"]), copy)
    _in_wal_mode(copy)
    before = _files(backups)
    result = _check(copy)
    assert result.output == f"OK {copy}: {len(MIGRATIONS)} migrations, 1 assessments\n"
    assert _files(backups) == before


@pytest.fixture
def wal_beside(app, finished, backups) -> Path:
    """A backup of the finished assessment's database with its deletion in a -wal beside it."""
    backup(Path(app.config["DATABASE"]), backups / "made.db")
    copy = backups / "copy.db"
    _with_a_wal_beside(backups / "made.db", copy)
    assert list(_files(backups)) == ["copy.db", "copy.db-wal"]
    return copy


def test_check_backup_reads_the_wal_beside_a_backup_and_changes_neither(wal_beside, backups):
    copy, before = wal_beside, _files(backups)
    result = _check(copy)
    assert result.output == f"OK {copy}: {len(MIGRATIONS)} migrations, 0 assessments\n"  # the -wal's deletion counted
    assert _files(backups) == before


def test_restore_of_a_backup_with_a_wal_beside_takes_the_wal_and_changes_neither(app, wal_beside, backups):
    copy, before = wal_beside, _files(backups)
    result = _restore(copy, app.instance_path)
    assert result.output == f"Restored {copy}: {len(MIGRATIONS)} migrations, 0 assessments\n", result.output
    assert check(Path(app.config["DATABASE"])).endswith(", 0 assessments")
    assert _files(backups) == before


def test_restore_of_a_wal_mode_backup_writes_nothing_beside_it(app, finished, backups):
    copy = backups / "copy.db"
    backup(Path(app.config["DATABASE"]), copy)
    _in_wal_mode(copy)
    before = _files(backups)
    assert _restore(copy, app.instance_path).exit_code == 0
    assert _files(backups) == before


def test_check_backup_refuses_in_one_line_what_is_not_a_database_with_a_wal_beside_it(backups):
    garbage = backups / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    garbage.with_name("garbage.db-wal").write_bytes(b"nor a WAL" * 100)
    before = _files(backups)
    _error(_check(garbage), f"{garbage}: not a sovready database (file is not a database)")
    assert _files(backups) == before
