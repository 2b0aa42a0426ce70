"""sovready user reset-password: recovering an account whose password is forgotten."""

import pytest
from click.testing import CliRunner

from assessment import accounts
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
