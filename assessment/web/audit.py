"""The audit log pages: a workspace's log for its owners; admin.py shows the instance-wide one."""

from __future__ import annotations

import re

from flask import Blueprint, render_template, request
from markupsafe import Markup, escape

from .. import audit
from ..exports import audit_csv
from ..rubrics import stored_rubric
from . import get_db
from .access import workspace_for
from .transfer import download

bp = Blueprint("audit", __name__)
# An e-mail address in an entry ("Ada Admin <ada@example.org>"): no space, and no angle bracket around it.
_ADDRESS = re.compile(r"[^\s<>]+@[^\s<>]+")


@bp.app_template_filter("addresses")
def addresses(text: str) -> Markup:
    """The text, escaped, with each e-mail address marked (``.address``), which app.css keeps on one
    line where there is room: a hyphen or a narrow column broke them mid-word."""
    pieces, last = [], 0
    for match in _ADDRESS.finditer(text):
        pieces += [escape(text[last:match.start()]), Markup('<span class="address">%s</span>') % match[0]]
        last = match.end()
    return Markup("").join([*pieces, escape(text[last:])])


def _filter() -> str | None:
    return request.args.get("assessment") or None


def _readable(entries: list[dict]) -> list[dict]:
    """Each entry with its action in words and its question ids as the titles of the rubric its
    assessment uses (``action_label``, ``subject_label``, ``detail_label``); ids stay as they are."""
    titles: dict[tuple, dict[str, str]] = {}
    for entry in entries:
        key = (entry["rubric_id"], entry["rubric_version"])
        if key[0] and key not in titles:
            # An assessment's rubric version is always stored: versions are added, never deleted.
            titles[key] = {q.id: q.title for q in stored_rubric(get_db(), *key).questions.values()}
        questions = titles.get(key, {})
        entry["action_label"] = audit.action_label(entry["action"])
        entry["subject_label"] = questions.get(entry["subject"], entry["subject"])
        entry["detail_label"] = audit.with_question_titles(entry["detail"], questions)
    return entries


def log_page(workspace_id: int | None, **context):
    """A page of entries, newest first, filtered by ?assessment= and paged by ?page=."""
    total = audit.count(get_db(), workspace_id, _filter())
    pages = max(1, -(-total // audit.PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    entries = audit.entries(get_db(), workspace_id, _filter(), offset=(page - 1) * audit.PAGE_SIZE)
    return render_template("audit/log.html", entries=_readable(entries), total=total, page=page, pages=pages,
                           chosen=_filter(), **context)


def log_export(workspace_id: int | None, name: str):
    """Every entry (of the filtered assessment) as CSV; pages are already sent with Cache-Control: no-store."""
    entries = audit.entries(get_db(), workspace_id, _filter(), limit=None)
    return download(audit_csv(entries), f"{name} audit log", ".csv", "text/csv")


@bp.get("/w/<int:workspace_id>/audit")
def log(workspace_id: int):
    workspace = workspace_for(workspace_id, manage=True)
    return log_page(workspace_id, workspace=workspace, assessments=audit.assessments_logged(get_db(), workspace_id))


@bp.get("/w/<int:workspace_id>/audit.csv")
def export(workspace_id: int):
    workspace = workspace_for(workspace_id, manage=True)
    return log_export(workspace_id, workspace["name"])
