"""Online backup of a live database and restoring it after checks."""

import multiprocessing
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

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


def test_restore_refuses_what_is_not_an_intact_sovready_database(app, tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    for path, message in ((garbage, "not a sovready database"), (other, "not a sovready database")):
        result = CliRunner().invoke(cli, ["restore", str(path), "--instance", app.instance_path])
        assert result.exit_code == 2 and message in result.output
    assert check(Path(app.config["DATABASE"])).endswith("assessments")


def test_backup_and_restore_use_the_database_the_settings_name(tmp_path, monkeypatch):
    """SOVREADY_DATABASE (or instance/config.py) may put the database outside the instance folder."""
    elsewhere = tmp_path / "data" / "live.db"
    elsewhere.parent.mkdir()
    monkeypatch.setenv("SOVREADY_DATABASE", str(elsewhere))
    instance = tmp_path / "instance"
    create_app({"TESTING": True}, instance_path=instance)
    copy = tmp_path / "copy.db"
    result = CliRunner().invoke(cli, ["backup", str(copy), "--instance", str(instance)])
    assert result.exit_code == 0, result.output
    assert not (instance / "sovready.db").exists() and check(copy).endswith("assessments")
    result = CliRunner().invoke(cli, ["restore", str(copy), "--instance", str(instance)])
    assert result.exit_code == 0 and not (instance / "sovready.db").exists(), result.output


@pytest.mark.parametrize("name", ["b#1.db", "b?mode=rw.db", "b%231.db", "b é.db"])
def test_a_backup_named_with_uri_characters_is_checked_as_itself(app, tmp_path, name):
    """check() opened "file:.../b#1.db?mode=ro": SQLite read the path as .../b, created it empty
    and called the good backup "not a sovready database"."""
    folder = tmp_path / "backups"
    folder.mkdir()
    result = CliRunner().invoke(cli, ["backup", str(folder / name), "--instance", app.instance_path])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(rf"Backed up to {re.escape(str(folder / name))}: \d+ migrations, 0 assessments\n", result.output)
    assert [p.name for p in folder.iterdir()] == [name]
