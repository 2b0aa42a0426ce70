"""Who may see and change what: every view goes through these before touching a workspace."""

from __future__ import annotations

from flask import abort, g

from .. import accounts, records
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


def listed(rows, row_id: int) -> dict:
    """The row of ``rows`` (a workspace's members, invitations, a workshop's participants) whose id
    is ``row_id``; 404 if none is: an id from another workspace or workshop is not in the list."""
    row = next((row for row in rows if row["id"] == row_id), None)
    if row is None:
        abort(404)
    return row
