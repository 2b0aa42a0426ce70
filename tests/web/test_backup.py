"""Online backup of a live database and restoring it after checks."""

import multiprocessing
import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from assessment import backup as backup_module
from assessment import records, storage
from assessment.answers import Answer
from assessment.backup import backup, check
from assessment.cli import cli
from assessment.web import create_app


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
    records.save_answers(db, records.get_assessment(db, finished), default_rubric, {"data.residency": Answer(0)})
    db.close()
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "before.db"), "--instance", app.instance_path])
    assert result.exit_code == 0, result.output
    fresh = storage.connect(app.config["DATABASE"])
    level = fresh.execute("SELECT value FROM answers WHERE assessment_id = ? AND question_id = 'data.residency'",
                          [finished]).fetchone()[0]
    assert level == "2"  # the mid-maturity example's answer, not the 0 saved after the backup
    assert stat.S_IMODE(Path(app.config["DATABASE"]).stat().st_mode) == 0o600


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
    link = tmp_path / "link.db"
    link.symlink_to(database)
    before = {path: path.stat().st_ino for path in (database, lock)}
    for target in (database, link, lock):
        _error(_backup(target, app.instance_path),
               f"{target}: this is the database (or its journal or lock): back up to another file")
    assert {path: path.stat().st_ino for path in (database, lock)} == before and link.is_symlink()
    assert not list(database.parent.glob("*.partial"))


def test_backup_refuses_to_replace_what_is_not_a_regular_file(app, backups):
    """`backup /dev/full` replaced the device with a regular file; a FIFO stands in for it here."""
    fifo = backups / "fifo"
    os.mkfifo(fifo)
    _error(_backup(fifo, app.instance_path), f"{fifo}: not a regular file: refusing to replace it")
    assert stat.S_ISFIFO(fifo.stat().st_mode) and [p.name for p in backups.iterdir()] == ["fifo"]


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
    _error(result, f"{instance / 'sovready.db'}: cannot write: No such file or directory")
    assert [p.name for p in backups.iterdir()] == ["copy.db"]


def test_restore_of_a_missing_file_says_so(app, tmp_path):
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "none.db"), "--instance", app.instance_path])
    assert result.exit_code == 2 and "does not exist" in result.stderr and "Traceback" not in result.output
