"""Administration: rubric versions and accounts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from werkzeug.utils import secure_filename

from .. import accounts
from ..datafile import DataFileError, decode
from ..rubrics import add_rubric, list_rubrics, versions_missing_figures
from . import get_db, security_log
from .audit import log_export, log_page
from .auth import admin_required
from .confirm import ask_first, confirm_page
from .forms import ActionForm, OwnerForm, RubricUploadForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/rubrics", methods=["GET", "POST"])
@admin_required
def rubrics():
    form = RubricUploadForm()
    problems = None
    if form.validate_on_submit():
        filename = secure_filename(form.file.data.filename or "") or "rubric.yaml"
        try:
            rubric, added = add_rubric(get_db(), decode(form.file.data.read(), filename), filename, by=g.user["id"])
        except DataFileError as error:
            problems = error
        except ValueError as error:  # the same version stored with other content
            problems = DataFileError(filename, [("version", str(error))])
        else:
            flash(f"Rubric {rubric.id} {rubric.version} is available for new assessments." if added else
                  f"Rubric {rubric.id} {rubric.version} is already stored with this content: nothing changed.")
            return redirect(url_for("admin.rubrics"))
    return render_template("admin/rubrics.html", form=form, problems=problems, rubrics=list_rubrics(get_db()),
                           missing=versions_missing_figures(get_db()))


@bp.get("/users")
@admin_required
def users():
    return render_template("admin/users.html", users=accounts.list_users(get_db()), action=ActionForm(),
                           ownerless=accounts.ownerless_workspaces(get_db()))


def _other_user(user_id: int) -> dict:
    """The account to disable or enable: 404 if there is none, 403 for the administrator's own."""
    if user_id == g.user["id"]:
        abort(403)
    user = accounts.get_user(get_db(), user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>/disable", methods=["GET", "POST"])
@admin_required
def disable_user(user_id: int):
    """GET asks (a page, so that it works without JS); POST disables. A disabled one has nothing to ask."""
    user = _other_user(user_id)
    if user["disabled"]:
        return redirect(url_for("admin.users"))
    if asking := ask_first(
            f"Disable the account of {user['name']}?",
            f"{user['name']} ({user['email']}) can no longer log in, and their sessions end at once. "
            "Their workspaces and answers stay, and you can enable the account again; the invitation links they "
            "created are withdrawn for good."
            + _last_owner_warning(user_id),
            f"Disable {user['name']}", url_for("admin.users"), [("Accounts", url_for("admin.users"))]):
        return asking
    accounts.set_disabled(get_db(), user_id, True, by=g.user["id"])
    flash("The account is disabled; its sessions are ended.")
    return redirect(url_for("admin.users"))


def _last_owner_warning(user_id: int) -> str:
    names = [workspace["name"] for workspace in accounts.ownerless_workspaces(get_db(), without=user_id)]
    if not names:
        return ""
    return (f" They are the last enabled owner of {', '.join(names)}: until an owner's account there is "
            "enabled again, or you appoint another owner, nobody can invite, change roles or remove members in it.")


@bp.post("/users/<int:user_id>/enable")
@admin_required
def enable_user(user_id: int):
    _other_user(user_id)
    accounts.set_disabled(get_db(), user_id, False, by=g.user["id"])
    flash("The account is enabled.")
    return redirect(url_for("admin.users"))


@bp.route("/workspaces/<int:workspace_id>/owner", methods=["GET", "POST"])
@admin_required
def appoint_owner(workspace_id: int):
    """For a workspace without an enabled owner: the form asks whom, a page asks to confirm, the
    confirmed POST appoints. A workspace with an enabled owner is left to its owners."""
    workspace = _ownerless(workspace_id)
    form = OwnerForm()
    if form.validate_on_submit():
        try:
            return _appoint(workspace, form)
        except accounts.HasOwner as error:  # an owner enabled again meanwhile
            return _has_owner(error)
        except ValueError as error:  # an account that cannot be its owner
            form.email.errors.append(str(error))
    return render_template("admin/owner.html", workspace=workspace, form=form,
                           members=accounts.members(get_db(), workspace_id))


def _ownerless(workspace_id: int) -> dict:
    """The workspace: 404 if there is none, back to Accounts, saying why, if it has an enabled owner."""
    workspace = accounts.get_workspace(get_db(), workspace_id)
    if workspace is None:
        abort(404)
    try:
        accounts.check_ownerless(get_db(), workspace)
    except accounts.HasOwner as error:
        abort(_has_owner(error))
    return workspace


def _has_owner(error: accounts.HasOwner):
    flash(str(error), "error")
    return redirect(url_for("admin.users"))


def _appoint(workspace: dict, form):
    """The page that asks first; once confirmed, the appointment, and back to Accounts."""
    email = form.email.data
    if form.confirmed.data != "yes":
        return _ask(workspace, accounts.owner_candidate(get_db(), workspace, email), email)
    user = accounts.appoint_owner(get_db(), workspace, email, by=g.user["id"])
    # As a deleted workspace is: a change of who controls a workspace, made from outside it.
    security_log.event("owner-appointed", user=g.user["id"], workspace=workspace["id"], owner=user["id"])
    flash(f"{user['name']} is now an owner of {workspace['name']}.")
    return redirect(url_for("admin.users"))


def _ask(workspace: dict, user: dict, email: str):
    member = accounts.membership(get_db(), workspace["id"], user["id"])
    if member:
        consequence = (f"{user['name']} ({user['email']}), {member['role']} there now, can then invite people, "
                       "change roles and remove members. ")
    else:
        consequence = (f"{user['name']} ({user['email']}) is not a member of {workspace['name']}: as its owner "
                       "they will see and change all of its assessments, and manage its members. ")
    here = url_for("admin.appoint_owner", workspace_id=workspace["id"])
    return confirm_page(f"Make {user['name']} an owner of {workspace['name']}?",
                        consequence + "The instance's audit log and the workspace's record it.",
                        f"Make {user['name']} owner", here,
                        [("Accounts", url_for("admin.users")), (workspace["name"], here)],
                        hidden={"email": email, "confirmed": "yes"})


@bp.get("/audit")
@admin_required
def audit():
    """The instance-wide audit log: rubric uploads, accounts disabled or enabled, password changes,
    owners appointed, workspaces deleted."""
    return log_page(None)


@bp.get("/audit.csv")
@admin_required
def audit_export():
    return log_export(None, "instance")
