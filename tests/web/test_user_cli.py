"""sovready user reset-password: recovering an account whose password is forgotten."""

import pytest
from click.testing import CliRunner
from werkzeug.security import generate_password_hash

from assessment import accounts, storage
from assessment.cli import cli

from .conftest import OWNER, PASSWORD

NEW = "a brand new long password"


def _reset(app, *args, stdin=None):
    return CliRunner().invoke(cli, ["user", "reset-password", *args, "--instance", app.instance_path], input=stdin)


def test_a_reset_from_standard_input_sets_the_password_and_ends_the_sessions(app, owner, db):
    result = _reset(app, OWNER, "--password-stdin", stdin=NEW + "\n")
    assert result.exit_code == 0, result.output
    assert result.output == f"The password of {OWNER} is changed; every session of the account is ended.\n"
    assert owner.get("/account").status_code == 302  # logged out
    assert accounts.authenticate(db, OWNER, NEW) and not accounts.authenticate(db, OWNER, PASSWORD)
    (entry,) = db.query("SELECT actor FROM audit WHERE action = 'user.password_changed'")
    assert entry["actor"] == "system"


def test_a_reset_asks_twice_when_no_stdin_flag_is_given(app, people, db):
    assert _reset(app, OWNER, stdin=f"{NEW}\n{NEW}\n").exit_code == 0
    assert accounts.authenticate(db, OWNER, NEW)


@pytest.mark.parametrize("stdin, message", [
    ("short\n", "Use at least 12 characters."),
    ("owner@example.org\n", "Leave your email address out of your password."),
])
def test_a_weak_password_is_refused_in_one_line(app, people, db, stdin, message):
    result = _reset(app, OWNER, "--password-stdin", stdin=stdin)
    assert result.exit_code == 2 and result.output == f"Error: {message}\n"
    assert accounts.authenticate(db, OWNER, PASSWORD)


def test_an_unknown_email_exits_2_in_one_line(app, people):
    result = _reset(app, "nobody@example.org", "--password-stdin", stdin=NEW + "\n")
    assert result.exit_code == 2 and result.output == "Error: No account has the email address 'nobody@example.org'.\n"


def test_an_instance_without_a_database_is_refused_and_left_empty(tmp_path):
    result = CliRunner().invoke(cli, ["user", "reset-password", OWNER, "--password-stdin", "--instance", tmp_path],
                                input=NEW + "\n")
    assert result.exit_code == 2 and "no database here" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_database_of_an_older_version_is_migrated_first_as_the_server_does(tmp_path):
    db = storage.connect(tmp_path / "sovready.db")
    storage.migrations.apply(db, stop_before="009_audit")  # before the log the reset writes to
    db.execute("INSERT INTO users (email, name, password_hash, created_at) VALUES (?, 'Olga', ?, 't')",
               [OWNER, generate_password_hash(PASSWORD)])
    db.conn.commit()
    result = CliRunner().invoke(cli, ["user", "reset-password", OWNER, "--password-stdin", "--instance", tmp_path],
                                input=NEW + "\n")
    assert result.exit_code == 0, result.output
    assert storage.migrations.pending(db) == []
    assert accounts.authenticate(db, OWNER, NEW)


def test_a_file_that_is_no_database_is_refused_in_one_line(tmp_path):
    (tmp_path / "sovready.db").write_text("not a database")
    result = CliRunner().invoke(cli, ["user", "reset-password", OWNER, "--password-stdin", "--instance", tmp_path],
                                input=NEW + "\n")
    assert result.exit_code == 2
    assert result.output == f"Error: {tmp_path / 'sovready.db'}: cannot open the database: file is not a database\n"
