"""The ``sovready`` command line: validate rubrics, score answers files, serve the app."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import click

from .answers import load_answers
from .datafile import DataFileError
from .files import WriteError, replacing
from .paths import DEFAULT_RUBRIC
from .peers import PeerDataset, load_peers
from .rubric import Rubric, load_rubric, peers_path
from .scoring import score
from .textreport import render_peers, render_text

# Control characters but line feed and tab: printed from a file made elsewhere (a name, an unknown
# key in an error), they would be escape sequences to the terminal, which retitle it or rewrite
# what it shows; click strips only colour sequences. Each becomes U+FFFD, as undecodable text does.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` safe to print to a terminal."""
    return CONTROL.sub("\ufffd", text)


class UserError(click.ClickException):
    """A mistake in the user's input: a plain message and exit status 2, never a traceback."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(printable(message))


def _load(loader, *args):
    try:
        return loader(*args)
    except DataFileError as error:
        raise UserError(str(error)) from None


rubric_option = click.option(
    "--rubric", "rubric_path", type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_RUBRIC, show_default="the shipped sovereign AI readiness rubric",
    help="Rubric YAML file to score against.")


def instance_option(exists: bool = False):
    """--instance; ``exists`` for a command that works on an instance rather than making one."""
    return click.option("--instance", "instance", type=click.Path(file_okay=False, exists=exists, path_type=Path),
                        default=Path("instance"), show_default=True, help="The server's instance folder.")


@click.group()
@click.version_option(package_name="sovready")
def cli():
    """sovready: measure your organization's readiness for sovereign AI."""


@cli.group()
def rubric():
    """Work with rubric files."""


def _summary(r: Rubric) -> str:
    critical = sum(q.critical for q in r.questions.values())
    findings = {f for q in r.questions.values() for f in q.findings}
    return (f"{r.id} {r.version}: {len(r.dimensions)} dimensions, {len(r.questions)} questions "
            f"({critical} critical), {len(r.drivers)} drivers, {len(r.barriers)} barriers, "
            f"{len(findings)} survey findings cited")


@rubric.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
def rubric_validate(path: Path):
    """Check a rubric file; print a summary, or every problem and exit 2."""
    click.echo(f"OK {_summary(_load(load_rubric, path))}")


peer_data_option = click.option(
    "--peer-data", "peer_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Peer dataset YAML to compare with (default: the one the rubric names).")


def _dataset(rubric_path: Path, peer_path: Path | None) -> PeerDataset:
    """The peer dataset given on the command line, or the one the shipped rubric names."""
    if peer_path is None:
        rubric = _load(load_rubric, rubric_path)
        if not rubric.peers:
            raise UserError(f"{rubric_path.name} names no peer dataset: give one with --peer-data.")
        peer_path = peers_path(rubric_path, rubric.peers)
    return _load(load_peers, peer_path)


def _rubric_and_peers(rubric_path: Path, peer_path: Path | None, want_peers: bool):
    """The rubric, validated against the peer dataset it will be compared with (if any)."""
    if not want_peers:
        return _load(load_rubric, rubric_path), None
    dataset = _dataset(rubric_path, peer_path)
    return _load(load_rubric, rubric_path, dataset), dataset


@cli.command("score")
@click.argument("answers_path", metavar="ANSWERS.yaml", type=click.Path(path_type=Path))
@rubric_option
@click.option("--peers", "with_peers", is_flag=True, help="Compare with the survey peers.")
@peer_data_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def score_command(answers_path: Path, rubric_path: Path, with_peers: bool, peer_path: Path | None, fmt: str):
    """Score an answers file without a server or database."""
    r, dataset = _rubric_and_peers(rubric_path, peer_path, with_peers or peer_path is not None)
    answers = _load(load_answers, answers_path, r)
    result = score(r, answers, dataset)
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(printable(render_text(r, result, answers.organization, dataset)))


@cli.group()
def peers():
    """Work with survey-peer datasets."""


def _figure_row(finding, figure, dataset: PeerDataset) -> dict:
    sources = [{"id": s, "title": dataset.sources[s].title, "url": dataset.sources[s].url} for s in figure.sources]
    respondents, region_respondents = _bases(finding, figure, dataset)
    return {"finding_id": finding.id, "question": finding.question, "option": figure.option,
            "overall_pct": figure.overall_pct, "region_pct": figure.region_pct,
            "respondents": respondents, "region_respondents": region_respondents,
            "confidence": figure.confidence, "source": sources, "note": figure.note, "base": figure.base}


def _bases(finding, figure, dataset: PeerDataset) -> tuple[int | None, dict[str, int] | None]:
    """How many respondents the overall share and each regional share are of. Respondent-level data
    counts those who answered; published aggregates give the whole sample, or None where the base
    is not published, and no regional sizes (the report publishes none)."""
    if dataset.sample is None:
        return (None if figure.base else dataset.respondents), None
    key = (finding.id, figure.option)
    return dataset.sample.answered(key), {region: dataset.sample.answered(key, region) for region in figure.region_pct}


@peers.command("show")
@click.option("--peer-data", "peer_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Peer dataset YAML (default: the shipped rubric's).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def peers_show(peer_path: Path | None, fmt: str):
    """List every figure of a peer dataset with its sources and confidence."""
    dataset = _dataset(DEFAULT_RUBRIC, peer_path)
    rows = [_figure_row(finding, figure, dataset) for finding, figure in dataset.figures()]
    click.echo(json.dumps(rows, indent=2) if fmt == "json" else printable(render_peers(dataset)))


@peers.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
def peers_validate(path: Path):
    """Check a peer dataset; print a summary, or every problem and exit 2."""
    dataset = _load(load_peers, path)
    click.echo(f"OK {dataset.id} {dataset.version}: {len(dataset.figures())} figures in "
               f"{len(dataset.findings)} findings, n = {dataset.respondents} ({dataset.kind})")


def _write(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` whole, or say plainly why it cannot be written."""
    try:
        with replacing(path) as partial:
            partial.write_bytes(content)
    except WriteError as error:
        raise UserError(str(error)) from None


def _write_stdout(content: bytes) -> None:
    stdout = sys.stdout.buffer
    try:
        stdout.write(content)
        stdout.flush()
    except OSError as error:  # a closed pipe, a full disk behind a redirection
        raise UserError(f"standard output: cannot write: {error.strerror or error}") from None


@cli.command("report")
@click.argument("answers_path", metavar="ANSWERS.yaml", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), required=True,
              help="Where to write the PDF ('-': standard output).")
@rubric_option
@peer_data_option
@click.option("--no-peers", is_flag=True, help="Leave out the survey-peer comparison.")
def report_command(answers_path: Path, output: str, rubric_path: Path, peer_path: Path | None, no_peers: bool):
    """Write the PDF report for an answers file, without a server or database.

    The report's date is SOURCE_DATE_EPOCH when set, so that the same answers give the same PDF.
    """
    from .pdf import render_pdf
    from .report import Report, report_date

    rubric, dataset = _rubric_and_peers(rubric_path, peer_path, not no_peers)
    answers = _load(load_answers, answers_path, rubric)
    try:
        date = report_date(os.environ.get("SOURCE_DATE_EPOCH"))
    except ValueError as error:
        raise UserError(str(error)) from None
    report = Report(rubric, answers, score(rubric, answers, dataset), dataset, date)
    pdf = render_pdf(report)
    if output == "-":  # compared as given: pathlib reads "./-", a file named "-", as "-" too
        _write_stdout(pdf)
        return
    _write(Path(output), pdf)
    click.echo(f"Wrote {output} ({len(pdf) // 1024} KiB)")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@instance_option()
@click.option("--workers", type=click.IntRange(min=1), help="Web server worker processes.  [default: 2]")
@click.option("--report-workers", default=2, show_default=True, type=click.IntRange(min=0),
              help="PDF worker processes started beside the server (0: run `sovready worker` yourself).")
def serve(host: str, port: int, instance: Path, workers: int | None, report_workers: int):
    """Serve the web app with a production WSGI server (Granian) and its PDF worker."""
    from .web import SettingError
    from .web.server import CannotServe, run

    try:
        run(host, port, instance.resolve(), workers, report_workers)
    except SettingError as error:
        raise UserError(str(error)) from None
    except CannotServe as error:  # a port another server holds is no mistake in the command: status 1
        raise (click.ClickException if error.busy else UserError)(str(error)) from None


@cli.command("worker")
@instance_option(exists=True)  # made by the server, whose queue it serves: a missing one is a typo
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Processes rendering reports.")
@click.option("--stop-with", type=click.IntRange(min=1), metavar="PID",
              help="Stop once process PID, which started this one, has exited (serve passes its own).")
def worker(instance: Path, workers: int, stop_with: int | None):
    """Render PDF reports queued by the web app (when the server runs with --report-workers 0)."""
    from . import storage
    from .jobs import run_worker
    from .web import SettingError, database_path

    try:
        database = database_path(instance)
    except SettingError as error:
        raise UserError(str(error)) from None
    try:
        # For the worker's whole life (its processes inherit it): a restore is refused meanwhile.
        storage.mark_open(database)
    except OSError as error:
        raise UserError(f"{database}: cannot open: {error.strerror}") from None
    run_worker(str(instance.resolve()), workers, str(database.resolve()), stop_with)


def _or_refused(step: Callable[[], str]) -> str:
    """What ``step`` (a backup, restore or check of one) returns, or its refusal in one line and
    exit status 2: a damaged or foreign file, an unusable setting, a file it cannot write."""
    from .backup import BackupError
    from .web import SettingError

    try:
        return step()
    except (BackupError, SettingError, WriteError) as error:
        raise UserError(str(error)) from None


@cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@instance_option()
def backup_command(path: Path, instance: Path):
    """Copy the database to PATH while the app keeps serving (a consistent online copy)."""
    from .backup import backup
    from .web import database_path

    click.echo(f"Backed up to {path}: {_or_refused(lambda: backup(database_path(instance), path))}")


@cli.command("check-backup")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_backup_command(path: Path):
    """Check that PATH is an intact sovready database this version can restore; say what it holds."""
    from .backup import check

    click.echo(f"OK {path}: {_or_refused(lambda: check(path))}")


@cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@instance_option()
def restore_command(path: Path, instance: Path):
    """Replace the database with the backup at PATH after checking it; refused while the server runs."""
    from .backup import restore
    from .web import database_path

    click.echo(f"Restored {path}: {_or_refused(lambda: restore(path, database_path(instance)))}")


@cli.group()
def user():
    """Work with accounts."""


def _instance_database(instance: Path):
    """The server's database at ``instance``, migrated as the server migrates it at start
    (``storage.init``), so that a command never writes into the schema of an older version."""
    from . import storage
    from .web import SettingError, database_path

    try:
        path = database_path(instance)
    except SettingError as error:
        raise UserError(str(error)) from None
    if not path.is_file():  # connecting would make an empty database
        raise UserError(f"{path}: no database here; is --instance the server's instance folder?")
    storage.mark_open(path)  # until the command ends: a restore is refused meanwhile
    try:
        return storage.init(path)
    except storage.NewerDatabase as error:
        raise UserError(str(error)) from None
    except sqlite3.Error as error:  # not a database, one it cannot write
        raise UserError(f"{path}: cannot open the database: {error}") from None


@user.command("reset-password")
@click.argument("email")
@instance_option(exists=True)
@click.option("--password-stdin", is_flag=True,
              help="Read the new password from the first line of standard input instead of asking.")
def user_reset_password(email: str, instance: Path, password_stdin: bool):
    """Give the account with EMAIL a new password and end its sessions: for a forgotten password."""
    from . import accounts

    db = _instance_database(instance)
    found = accounts.get_user_by_email(db, email)
    if found is None:
        raise UserError(f"No account has the email address {email.strip()!r}.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.set_password(db, found["id"], password)
    except ValueError as error:  # too short, too easy to guess
        raise UserError(str(error)) from None
    click.echo(f"The password of {found['email']} is changed; every session of the account is ended.")


def main():
    cli()
