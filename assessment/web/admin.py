"""Administration: rubric versions and accounts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from werkzeug.utils import secure_filename

from .. import accounts
from ..datafile import DataFileError
from ..rubrics import add_rubric, list_rubrics
from . import get_db
from .audit import log_export, log_page
from .auth import admin_required
from .confirm import ask_first
from .forms import ActionForm, RubricUploadForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/rubrics", methods=["GET", "POST"])
@admin_required
def rubrics():
    form = RubricUploadForm()
    problems = None
    if form.validate_on_submit():
        filename = secure_filename(form.file.data.filename or "") or "rubric.yaml"
        try:
            rubric, added = add_rubric(get_db(), form.file.data.read().decode("utf-8"), filename, by=g.user["id"])
        except UnicodeDecodeError:
            problems = DataFileError(filename, [("", "is not UTF-8 text")])
        except DataFileError as error:
            problems = error
        except ValueError as error:  # the same version stored with other content
            problems = DataFileError(filename, [("version", str(error))])
        else:
            flash(f"Rubric {rubric.id} {rubric.version} is available for new assessments." if added else
                  f"Rubric {rubric.id} {rubric.version} is already stored with this content: nothing changed.")
            return redirect(url_for("admin.rubrics"))
    return render_template("admin/rubrics.html", form=form, problems=problems, rubrics=list_rubrics(get_db()))


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
            "Their workspaces and answers stay; you can enable the account again."
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
            "enabled again, nobody can invite, change roles or remove members in it.")


@bp.post("/users/<int:user_id>/enable")
@admin_required
def enable_user(user_id: int):
    _other_user(user_id)
    accounts.set_disabled(get_db(), user_id, False, by=g.user["id"])
    flash("The account is enabled.")
    return redirect(url_for("admin.users"))


@bp.get("/audit")
@admin_required
def audit():
    """The instance-wide audit log: rubric uploads, accounts disabled or enabled, password changes."""
    return log_page(None)


@bp.get("/audit.csv")
@admin_required
def audit_export():
    return log_export(None, "instance")
