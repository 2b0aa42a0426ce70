"""Exports (JSON answers document, CSV of answers and of gaps) and the JSON or YAML import."""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from datetime import date
from functools import partial
from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, url_for
from werkzeug.utils import secure_filename

from .. import records
from ..answers import NAME_MAX, answers_from_data
from ..datafile import DataFileError, decode, parse_data
from ..exports import answers_csv, answers_document, gaps_csv
from ..rubric import Rubric
from ..rubrics import peers_for, stored_rubric, version_key
from ..scoring import score
from . import get_db
from .access import assessment_for, workspace_for
from .forms import ImportForm

bp = Blueprint("transfer", __name__)


def download(content: str | bytes, title: str, suffix: str, mimetype: str) -> Response:
    """A file download named after its title and today's date.

    A CSV starts with a byte order mark: without it Excel, and LibreOffice by default, read the
    file in the machine's legacy code page, and every accented or non-Latin letter is garbled."""
    if mimetype == "text/csv":
        content = "\ufeff" + content
    response = Response(content, mimetype=mimetype)
    ending = f"-{date.today().isoformat()}{suffix}"
    name, plain = _slug(title) + ending, _slug(_ascii(title)) + ending
    # filename* (RFC 6266) keeps a title's own letters; filename is for clients that lack it.
    own = f"; filename*=UTF-8''{quote(name)}" if name != plain else ""
    response.headers["Content-Disposition"] = f'attachment; filename="{plain}"{own}'
    return response


def _ascii(title: str) -> str:
    """The title's letters without their accents ("Évaluation" as "Evaluation"); others dropped."""
    return unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()


def _slug(title: str) -> str:
    return re.sub(r"[\W_]+", "-", title.lower()).strip("-")[:60] or "assessment"


@bp.get("/a/<assessment_id>/export.json")
def export_json(assessment_id: str):
    assessment, _, _ = assessment_for(assessment_id)
    document = answers_document(records.answer_set(get_db(), assessment))
    return download(json.dumps(document, indent=2, ensure_ascii=False) + "\n", assessment.title, ".json",
                     "application/json")


@bp.get("/a/<assessment_id>/answers.csv")
def export_answers(assessment_id: str):
    assessment, _, rubric = assessment_for(assessment_id)
    return download(answers_csv(rubric, records.answer_set(get_db(), assessment)), assessment.title,
                     "-answers.csv", "text/csv")


@bp.get("/a/<assessment_id>/gaps.csv")
def export_gaps(assessment_id: str):
    assessment, _, rubric = assessment_for(assessment_id)
    # Against the peers, as the results page and the PDF: table stakes raise a gap's priority.
    result = score(rubric, records.answer_set(get_db(), assessment), peers_for(rubric))
    return download(gaps_csv(result), assessment.title, "-gaps.csv", "text/csv")


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _rubric_for(data, filename: str) -> Rubric:
    """The stored rubric an import names: its version, else the default or the highest of that id."""
    # Only strings name a stored rubric; anything else (a list, a mapping) is left to the answers check.
    fields = data if isinstance(data, dict) else {}
    named, version = _text(fields.get("rubric")), _text(fields.get("rubric_version"))
    default_id, default_version = current_app.config["DEFAULT_RUBRIC"]
    stored = [row[0] for row in get_db().execute(
        "SELECT version FROM rubrics WHERE id = ?", [named])]
    if version and stored and version not in stored:
        raise DataFileError(filename, [("rubric_version", f"rubric {named} {version} is not installed here; "
                                                          "an administrator can upload it")])
    if not stored:  # unknown or missing id: the answers check reports it against the default rubric
        return stored_rubric(get_db(), default_id, default_version)
    chosen = version or (default_version if named == default_id else max(stored, key=version_key))
    return stored_rubric(get_db(), named, chosen)


def _upload_name(given: str) -> str:
    """The uploaded file's name, safe to show, with its extension, which chooses the parser.

    secure_filename keeps ASCII letters only: "評価.json" became "json", read as YAML."""
    name = secure_filename(given)
    if "." not in name and given.lower().endswith(f".{name.lower()}"):
        return f"upload.{name}"
    return name or "upload.json"


def _imported_title(title: str, taken: set[str], today: date) -> str:
    """The file's title, marked with the day of the import (and a count) when the workspace has an
    assessment of that title already: importing an export beside its original listed two of one name
    on the dashboard, which nothing told apart. Titles differing only in capitals or spaces count as one."""
    seen = {t.strip().casefold() for t in taken}
    marks = (f" (imported {today.day} {today:%b %Y}{f', {n}' if n > 1 else ''})" for n in itertools.count(1))
    chosen = title
    while chosen.strip().casefold() in seen:
        mark = next(marks)
        chosen = title[:NAME_MAX - len(mark)] + mark
    return chosen


def _import(file, title: str, workspace_id: int) -> str:
    """Validate an uploaded answers document and store it as a new assessment, and say so; DataFileError
    if refused."""
    filename = _upload_name(file.filename or "")
    data = parse_data(decode(file.read(), filename), filename)
    rubric = _rubric_for(data, filename)
    answers = answers_from_data(data, rubric, filename)
    # A title of spaces would list the assessment by an empty link: it counts as none.
    own = (answers.title if answers.title.strip() else "") or f"Imported: {answers.organization.strip() or filename}"
    # A title typed on the form is the user's choice, kept as typed.
    choose = (lambda _taken: title) if title else partial(_imported_title, own[:NAME_MAX], today=date.today())
    assessment_id, title = records.create_titled_assessment(
        get_db(), workspace_id, rubric, choose, answers=answers, created_by=g.user["id"],
        action="assessment.imported", detail=f"from {filename}")
    count = len(answers.answers)
    flash(f"“{title}” is imported from {filename}, with {count} answer{'' if count == 1 else 's'}.")
    return assessment_id


@bp.route("/w/<int:workspace_id>/import", methods=["GET", "POST"])
def import_answers(workspace_id: int):
    workspace = workspace_for(workspace_id, write=True)
    form = ImportForm()
    problems = None
    if form.validate_on_submit():
        try:
            assessment_id = _import(form.file.data, form.title.data, workspace_id)
        except DataFileError as error:
            problems = error
        else:
            return redirect(url_for("journey.review", assessment_id=assessment_id))
    return render_template("transfer/import.html", form=form, workspace=workspace, problems=problems)
