"""Who may see and change what: every view goes through these before touching a workspace."""

from __future__ import annotations

from flask import abort, flash, g, redirect

from .. import accounts, portfolios, records
from ..rubrics import stored_rubric
from . import get_db


def workspace_for(workspace_id: int, write: bool = False, manage: bool = False) -> dict:
    """The workspace with the user's role: 404 if not a member, 403 if the role may not do this."""
    workspace = accounts.membership(get_db(), workspace_id, g.user["id"])
    if workspace is None:
        abort(404)
    role = workspace["role"]
    if (write and role not in accounts.CAN_WRITE) or (manage and role not in accounts.CAN_MANAGE):
        abort(403)
    return workspace


def assessment_for(assessment_id: str, write: bool = False):
    """The assessment, its workspace and its rubric; 404 outside the user's workspaces, 403 for viewers' writes."""
    assessment = records.get_assessment(get_db(), assessment_id)
    if assessment is None:
        abort(404)
    workspace = workspace_for(assessment.workspace_id, write=write)
    return assessment, workspace, stored_rubric(get_db(), assessment.rubric_id, assessment.rubric_version)


def closed_message(closed: dict) -> str:
    return (f"Round {closed['name']} of the portfolio {closed['portfolio']} was closed on {closed['closed_at'][:10]}: "
            f"this assessment is kept as that round's result and can be read, not changed.")


def refuse_if_closed(assessment, back: str) -> None:
    """Stop a change to an assessment of a closed portfolio round, saying why, on the page ``back`` names.
    Not a 403: the person may write in the workspace, just not in a past round."""
    closed = portfolios.closed_round(get_db(), assessment.id)
    if closed:
        abort(refused_in_closed_round(closed, back))


def refused_in_closed_round(closed: dict, back: str):
    """The redirect to ``back`` that says no change was made, ``closed`` being the round
    (for a change refused inside its transaction: the round closed meanwhile)."""
    flash(f"No change was made. {closed_message(closed)}", "error")
    return redirect(back)


def listed(rows, row_id: int) -> dict:
    """The row of ``rows`` (a workspace's members, invitations, a workshop's participants) whose id
    is ``row_id``; 404 if none is: an id from another workspace or workshop is not in the list."""
    row = next((row for row in rows if row["id"] == row_id), None)
    if row is None:
        abort(404)
    return row
